#!/usr/bin/env bash
# dev.sh is `make dev`: it builds only the components `tenantry dev` will run, then runs it on
# tenants-example/. Where a real node can run (root, with its Debian packages installable),
# the node is on and the tenants' virtual clusters run on it; elsewhere it says so in one line.
#
# NODE=1 requires the node (fails if it cannot run); NODE=0 turns it off; unset decides alone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The host control plane: etcd, the newest Kubernetes, Gatekeeper (tenants-example has policies).
host=(etcd kubernetes-v1.37.2 gatekeeper)
# The node and the virtual cluster images: kubelet & co., the NetworkPolicy enforcer, kine and
# every supported Kubernetes version (tenants-example's team-b runs the older one).
node=(kubernetes-node-v1.37.2 kube-network-policies kine kubernetes-v1.36.3)

use_node=${NODE:-auto}
why=""
if [[ $use_node != 0 ]]; then
	if ((EUID != 0)); then
		why="the real node needs root"
	elif ! bash hack/node-deps.sh; then
		why="the real node's Debian packages could not be installed"
	else
		use_node=1
	fi
fi
if [[ $use_node != 1 ]]; then
	[[ ${NODE:-auto} == 1 ]] && { echo "dev: NODE=1 but $why" >&2; exit 1; }
	[[ -n $why ]] && echo "dev: no virtual clusters ($why); \`sudo make dev\` adds a real node that runs them" >&2
	bash hack/components.sh "${host[@]}"
	exec bin/tenantry dev --tenants=tenants-example "$@"
fi

bash hack/components.sh "${host[@]}" "${node[@]}"
go run ./cmd/tenantry-images -out=bin/images -components=bin/components -version=dev
exec bin/tenantry dev --tenants=tenants-example --node "$@"

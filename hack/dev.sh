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
host=(kubernetes-v1.37.2 gatekeeper etcd)
newest=v1.37.2
# The node and the newest version's virtual cluster image: kubelet & co., the NetworkPolicy
# enforcer, kine. Older versions (tenants-example's team-b pins v1.36) build in the background
# once the rest runs, and the node imports their images when they are done.
node=(kine kube-network-policies kubernetes-node-v1.37.2)
later=(v1.36.3)

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

# tenantry's binaries compile beside the components, in the components' build cache: the
# standard library compiles once for all of them (same flags), and the rest is not shared.
export GOCACHE=${TENANTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenantry}/go-build
make -s build &
build=$!
if [[ $use_node != 1 ]]; then
	[[ ${NODE:-auto} == 1 ]] && { echo "dev: NODE=1 but $why" >&2; exit 1; }
	[[ -n $why ]] && echo "dev: no virtual clusters ($why); \`sudo make dev\` adds a real node that runs them" >&2
	bash hack/components.sh "${host[@]}"
	wait "$build"
	exec bin/tenantry dev --tenants=tenants-example "$@"
fi

bash hack/components.sh "${host[@]}" "${node[@]}"
wait "$build"
images() { bin/tenantry-images -out=bin/images -components=bin/components -vcluster-binary=bin/tenantry-vcluster -no-agent -kubernetes-versions="$1"; }
images $newest

log=bin/dev-background.log
echo "dev: building Kubernetes ${later[*]} and its virtual cluster image in the background (log: $log); the node imports it when done"
set -m # the background build gets a process group of its own, so the trap below stops all of it
(
	for v in "${later[@]}"; do
		bash hack/components.sh "kubernetes-$v" &&
			images "$v"
	done
) >"$log" 2>&1 &
background=$!
set +m
trap 'kill -- -$background 2>/dev/null || true' EXIT
bin/tenantry dev --tenants=tenants-example --node --watch-images=bin/images "$@"

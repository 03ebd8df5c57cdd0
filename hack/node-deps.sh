#!/usr/bin/env bash
# node-deps.sh installs the Debian packages the e2e tier's real node needs (containerd, runc,
# CNI plugins, iptables, conntrack, iproute2, nftables, the static busybox of the e2e
# toolbox image, and the Postgres a tenant's external datastore test uses) when any is missing. Idempotent: quick when present.
set -euo pipefail

# package:command-or-file that proves it is installed.
wanted=(
	containerd:containerd
	runc:runc
	containernetworking-plugins:/usr/lib/cni/bridge
	iptables:iptables
	conntrack:conntrack
	iproute2:ip
	nftables:nft
	busybox-static:/bin/busybox
	postgresql:/usr/lib/postgresql
)

missing=()
for spec in "${wanted[@]}"; do
	pkg=${spec%%:*} probe=${spec#*:}
	if [[ $probe == /* ]]; then
		[[ -e $probe ]] && continue
	elif command -v "$probe" >/dev/null 2>&1; then
		continue
	fi
	missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	echo "node-deps: all present (${wanted[*]%%:*})"
	exit 0
fi
if ((EUID != 0)); then
	echo "node-deps: missing ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "node-deps: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "node-deps: installed ${missing[*]}"

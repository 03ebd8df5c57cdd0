#!/usr/bin/env bash
# components.sh builds the pinned real components (kube-apiserver, kube-controller-manager,
# etcd, kine, Gatekeeper) from the Go module proxy into a cache outside the work tree.
#
# Usage: components.sh [NAME...]. With no NAME it builds every component not marked
# ON_REQUEST=1 (what `make test` needs); with names, just those (what `make dev` runs).
# Up to COMPONENTS_JOBS (default 2) build at once, so one's single-threaded link overlaps
# another's compile; they share the Go build cache.
#
# Each directory under hack/components is its own Go module. Its cache key is a hash of its
# go.mod, go.sum, sources and build.env, so a version bump rebuilds that component and nothing
# else. bin/components/<name> links to the cached build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${TENANTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenantry}/components
links=$root/bin/components
# One Go build cache for every component, inside the tenantry cache: what two components share
# (Kubernetes libraries, gRPC, protobuf) compiles once, and an empty TENANTRY_CACHE is truly cold.
export GOCACHE=${TENANTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenantry}/go-build
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
mkdir -p "$cache" "$links"

# AFTER= (below) orders builds and changes nothing in them, so it stays out of the key.
key() { (cd "$1" && cat go.mod go.sum && grep -v '^AFTER=' build.env && cat ./*.go 2>/dev/null) | sha256sum | cut -c1-16; }

build() {
	local dir=$1 name out tmp PKGS OUT="" LDFLAGS CGO_ENABLED TAGS="" MODULE_FILES="" ON_REQUEST=""
	name=$(basename "$dir")
	out=$cache/$name-$(key "$dir")
	if [[ -f $out/.done ]]; then
		echo "components: $name cached at $out"
	else
		echo "components: building $name (cold builds take minutes)"
		tmp=$out.tmp.$$
		rm -rf "$tmp" && mkdir -p "$tmp"
		# shellcheck disable=SC1091
		source "$dir/build.env"
		local start=$SECONDS
		# -dwarf=false: the linker's -w drops the debug info anyway, so the compiler need not write it
		# (the same machine code, about 12% less compile time).
		(cd "$dir" && CGO_ENABLED=$CGO_ENABLED go build -trimpath -gcflags=all=-dwarf=false -tags "$TAGS" -ldflags "$LDFLAGS" -o "$tmp/$OUT" $PKGS)
		for spec in $MODULE_FILES; do
			local mod=${spec%%:*} file=${spec#*:} moddir
			if [[ $mod == *@* ]]; then # a module outside the build list: download it only
				moddir=$(cd "$dir" && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
			else
				moddir=$(cd "$dir" && go list -m -f '{{.Dir}}' "$mod")
			fi
			cp -R "$moddir/$file" "$tmp/" # a file, or a directory (a chart)
		done
		chmod -R u+w "$tmp"
		touch "$tmp/.done"
		rm -rf "$out" && mv "$tmp" "$out"
		echo "components: built $name in $((SECONDS - start))s"
	fi
	ln -sfn "$out" "$links/$name"
}

# Components marked ON_REQUEST=1 in build.env (the benchmark's peers, the node) are built only when named.
names=()
if (($# == 0)); then
	for dir in "$root"/hack/components/*/; do
		dir=${dir%/}
		[[ -f $dir/build.env ]] || continue
		grep -q '^ON_REQUEST=1' "$dir/build.env" && continue
		names+=("$(basename "$dir")")
	done
else
	names=("$@")
fi

# A component whose build.env names AFTER=<other> shares most packages with it (kubelet with
# kube-apiserver): it starts only once that one is built, so the shared packages compile once
# and come from the build cache, instead of twice at the same time.
after() { sed -n 's/^AFTER=//p' "$root/hack/components/$1/build.env"; }
ordered=()
for name in "${names[@]}"; do [[ -z $(after "$name") ]] && ordered+=("$name"); done
for name in "${names[@]}"; do [[ -n $(after "$name") ]] && ordered+=("$name"); done

jobs=${COMPONENTS_JOBS:-2}
declare -A pid_of=()
failed=0
for name in "${ordered[@]}"; do
	dir=$root/hack/components/$name
	[[ -f $dir/build.env ]] || { echo "components: no component $name (see hack/components/)" >&2; exit 2; }
	first=$(after "$name")
	if [[ -n $first && -n ${pid_of[$first]:-} ]]; then wait "${pid_of[$first]}" || failed=1; fi
	while (($(jobs -rp | wc -l) >= jobs)); do wait -n || failed=1; done
	build "$dir" &
	pid_of[$name]=$!
done
for pid in "${pid_of[@]}"; do wait "$pid" || failed=1; done
if ((failed)); then
	echo "components: a build failed (see above)" >&2
	exit 1
fi

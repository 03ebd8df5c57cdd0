#!/usr/bin/env bash
# components.sh builds the pinned real components (kube-apiserver, kube-controller-manager,
# etcd, kine, Gatekeeper) from the Go module proxy into a cache outside the work tree.
#
# Each directory under test/components is its own Go module. Its cache key is a hash of its
# go.mod, go.sum, sources and build.env, so a version bump rebuilds that component and nothing
# else. bin/components/<name> links to the cached build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${TENANTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenantry}/components
links=$root/bin/components
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
mkdir -p "$cache" "$links"

key() { (cd "$1" && cat go.mod go.sum build.env ./*.go 2>/dev/null) | sha256sum | cut -c1-16; }

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
		if [[ -n $OUT ]]; then
			(cd "$dir" && CGO_ENABLED=$CGO_ENABLED go build -trimpath -tags "$TAGS" -ldflags "$LDFLAGS" -o "$tmp/$OUT" $PKGS)
		else
			(cd "$dir" && CGO_ENABLED=$CGO_ENABLED go build -trimpath -tags "$TAGS" -ldflags "$LDFLAGS" -o "$tmp/" $PKGS)
		fi
		for spec in $MODULE_FILES; do
			local mod=${spec%%:*} file=${spec#*:} moddir
			if [[ $mod == *@* ]]; then # a module outside the build list: download it only
				moddir=$(cd "$dir" && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
			else
				moddir=$(cd "$dir" && go list -m -f '{{.Dir}}' "$mod")
			fi
			cp "$moddir/$file" "$tmp/"
		done
		chmod -R u+w "$tmp"
		touch "$tmp/.done"
		rm -rf "$out" && mv "$tmp" "$out"
		echo "components: built $name in $((SECONDS - start))s"
	fi
	ln -sfn "$out" "$links/$name"
}

# Components marked ON_REQUEST=1 in build.env (the benchmark's peers) are built only when named.
only=${1:-}
for dir in "$root"/test/components/*/; do
	dir=${dir%/}
	[[ -f $dir/build.env ]] || continue
	if [[ -z $only ]]; then
		grep -q '^ON_REQUEST=1' "$dir/build.env" && continue
	elif [[ $(basename "$dir") != "$only" ]]; then
		continue
	fi
	build "$dir"
done

#!/usr/bin/env bash
# Installs the pinned OPA and OpenFGA servers (used by the authorization
# end-to-end tests) into the tools cache, unless they are already there. Both
# are built from their Go modules with `go install`; nothing else is fetched.
#
#   dir:   ${MIZUCHI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mizuchi/bin}
#   files: opa-<version>, openfga-<version>, plus symlinks `opa` and `openfga`
#
# Prints two lines on stdout: the absolute path of opa, then of openfga;
# progress goes to stderr. Cold, the two builds take about 15 minutes on two
# cores; later runs reuse the cached binaries.
set -euo pipefail

OPA_VERSION="${OPA_VERSION:-v1.22.4}"
OPENFGA_VERSION="${OPENFGA_VERSION:-v1.22.1}"
dir="${MIZUCHI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mizuchi/bin}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd -P)"

# build NAME VERSION PACKAGE: go install PACKAGE@VERSION into $dir/NAME-VERSION.
build() {
	local name="$1" version="$2" pkg="$3"
	local bin="$dir/$name-$version"
	if [[ ! -x "$bin" ]]; then
		echo "install-authz-servers: building $name $version into $dir (takes several minutes)" >&2
		local tmp
		tmp="$(mktemp -d "$dir/.build.XXXXXX")"
		# Build outside any module so the project's go.mod does not interfere.
		if ! (cd "$tmp" && GOBIN="$tmp" CGO_ENABLED=0 go install "$pkg@$version") >&2; then
			rm -rf "$tmp"
			echo "install-authz-servers: cannot build $pkg@$version" >&2
			return 1
		fi
		mv -f "$tmp/$(basename "$pkg")" "$bin"
		rm -rf "$tmp"
	fi
	ln -sfn "$(basename "$bin")" "$dir/$name"
	echo "$bin"
}

build opa "$OPA_VERSION" github.com/open-policy-agent/opa
build openfga "$OPENFGA_VERSION" github.com/openfga/openfga/cmd/openfga

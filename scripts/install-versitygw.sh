#!/usr/bin/env bash
# Installs the pinned versitygw (S3 server used by the end-to-end tests and by
# `make run`) into the tools cache, unless it is already there.
#
#   dir:  ${MIZUCHI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mizuchi/bin}
#   file: versitygw-<version>, plus a symlink `versitygw` to it
#
# The last line on stdout is the absolute path of the binary; progress goes to
# stderr. Building from scratch takes several minutes (it needs the Go module
# proxy); later runs reuse the cached binary.
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
dir="${MIZUCHI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mizuchi/bin}"
bin="$dir/versitygw-$VERSITYGW_VERSION"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd -P)"
bin="$dir/versitygw-$VERSITYGW_VERSION"

if [[ ! -x "$bin" ]]; then
	echo "install-versitygw: building versitygw $VERSITYGW_VERSION into $dir (takes a few minutes)" >&2
	tmp="$(mktemp -d "$dir/.build.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	# Build outside any module so the project's go.mod does not interfere.
	(cd "$tmp" && GOBIN="$tmp" go install \
		"github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION") >&2
	mv -f "$tmp/versitygw" "$bin"
fi

ln -sfn "$(basename "$bin")" "$dir/versitygw"
echo "$bin"

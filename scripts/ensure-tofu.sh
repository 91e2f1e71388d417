#!/usr/bin/env bash
# Prints the path of an OpenTofu binary, building it from the Go module proxy on first use.
# The binary is cached outside the checkout (keyed by version) because CI clones afresh
# into a new folder on the same machine; a cache inside the repo would be rebuilt every run.
set -euo pipefail

version="${NATSPING_TOFU_VERSION:-v1.12.6}"
cache_root="${NATSPING_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/natsping}"
bin_dir="$cache_root/tofu-$version"
bin="$bin_dir/tofu"

if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin_dir"
echo "building OpenTofu $version into $bin_dir (first run only, several minutes)" >&2

# `go install` refuses OpenTofu because its go.mod carries replace directives,
# so build from a writable copy of the module source instead.
src=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/opentofu/opentofu@$version" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -d "$src" ]; then
  echo "could not download github.com/opentofu/opentofu@$version from the Go module proxy" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$src/." "$work/"
chmod -R u+w "$work"
(cd "$work" && go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$bin.tmp" ./cmd/tofu)
mv "$bin.tmp" "$bin"
echo "$bin"

#!/usr/bin/env bash
# Prints the path of a promtool binary (Prometheus' rule checker and rule unit tester),
# building it from the Go module proxy on first use and caching it outside the checkout,
# keyed by version, like scripts/ensure-tofu.sh. The deploy module's tests run it on
# deploy/prometheus/ (NATSPING_PROMTOOL).
set -euo pipefail

version="${NATSPING_PROMTOOL_VERSION:-v0.316.0}"
cache_root="${NATSPING_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/natsping}"
bin_dir="$cache_root/promtool-$version"
bin="$bin_dir/promtool"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin_dir"
echo "building promtool $version into $bin_dir (first run only, a few minutes)" >&2
# remove_all_sd leaves out the cloud service-discovery plugins, which rule checks never use
# and which are most of the build.
GOBIN="$bin_dir" GOFLAGS=-buildvcs=false go install -trimpath -tags remove_all_sd \
  "github.com/prometheus/prometheus/cmd/promtool@$version" >&2
"$bin" --version >/dev/null
echo "$bin"

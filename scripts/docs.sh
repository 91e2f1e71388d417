#!/usr/bin/env bash
# Regenerates docs/ from the provider's own schema, offline.
#
#   scripts/docs.sh          rewrite docs/ (and format examples/)
#   scripts/docs.sh --check  fail if docs/ or examples/ are not what the code generates
#
# tfplugindocs normally builds the provider and downloads Terraform to read the schema. Here
# the provider is built locally, OpenTofu (scripts/ensure-tofu.sh, cached outside the checkout)
# reads its schema through a dev_overrides CLI config, and tfplugindocs gets that schema as a
# file, so nothing but the Go module proxy is ever contacted (and only on the first run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

tfplugindocs_version=v0.25.0
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tofu=$(scripts/ensure-tofu.sh)

# Installed once into the cache: `go run pkg@version` asks the proxy about deprecations on every
# run and so fails offline, a cached binary does not.
cache_root="${NATSPING_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/natsping}"
tfplugindocs="$cache_root/tfplugindocs-$tfplugindocs_version/tfplugindocs"
if [ ! -x "$tfplugindocs" ]; then
  echo "installing tfplugindocs $tfplugindocs_version into $(dirname "$tfplugindocs") (first run only)" >&2
  GOBIN="$(dirname "$tfplugindocs")" go install "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@$tfplugindocs_version"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/bin/terraform-provider-natsping" .

cat >"$work/cli.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/natsping/natsping" = "$work/bin"
  }
  direct {}
}
EOF
mkdir -p "$work/schema"
cat >"$work/schema/main.tf" <<'EOF'
terraform {
  required_providers {
    natsping = {
      # Spelled out: OpenTofu would read "natsping/natsping" as registry.opentofu.org/….
      source = "registry.terraform.io/natsping/natsping"
    }
  }
}
EOF
# dev_overrides need no `init`; tofu warns about them on stderr, which is expected.
(cd "$work/schema" && TF_CLI_CONFIG_FILE="$work/cli.tfrc" "$tofu" providers schema -json 2>"$work/schema.log") \
  >"$work/schema.raw.json" || { cat "$work/schema.log" >&2; exit 1; }

# tfplugindocs looks the provider up as registry.terraform.io/hashicorp/<name> or <name>.
sed 's#"registry.terraform.io/natsping/natsping"#"registry.terraform.io/hashicorp/natsping"#' \
  "$work/schema.raw.json" >"$work/schema.json"
grep -q '"registry.terraform.io/hashicorp/natsping"' "$work/schema.json" || {
  echo "the schema JSON has no natsping provider; tofu said:" >&2
  cat "$work/schema.log" >&2
  exit 1
}

generate() { # $1: provider dir holding templates/ and examples/; docs are written to $1/docs
  "$tfplugindocs" generate \
    --provider-dir "$1" \
    --provider-name natsping \
    --providers-schema "$work/schema.json"
}

if ! $check; then
  TF_CLI_CONFIG_FILE="$work/cli.tfrc" "$tofu" fmt -recursive examples/ >/dev/null
  generate "$root"
  echo "docs/ regenerated"
  exit 0
fi

status=0
if ! TF_CLI_CONFIG_FILE="$work/cli.tfrc" "$tofu" fmt -recursive -check examples/ >"$work/fmt.log" 2>&1; then
  echo "examples/ are not formatted (run: make docs):" >&2
  cat "$work/fmt.log" >&2
  status=1
fi
mkdir -p "$work/copy"
cp -R templates examples "$work/copy/"
generate "$work/copy" >"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
if [ ! -d docs ]; then
  echo "docs/ does not exist (run: make docs)" >&2
  exit 1
fi
if ! diff -ru docs "$work/copy/docs" >"$work/docs.diff"; then
  echo "docs/ is stale; run \`make docs\` and commit the result. Differences:" >&2
  head -n 80 "$work/docs.diff" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "docs/ and examples/ are up to date"
exit "$status"

# Source this file to run acceptance tests by hand: `. scripts/acc-env.sh && go test ./internal/provider/...`.
# It builds (once) and selects OpenTofu unless TF_ACC_TERRAFORM_PATH is already set.
_natsping_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TF_ACC=1
export TF_ACC_TERRAFORM_PATH="${TF_ACC_TERRAFORM_PATH:-$("$_natsping_root/scripts/ensure-tofu.sh")}"
# OpenTofu refuses the legacy "-" namespace that plugin-testing uses by default.
export TF_ACC_PROVIDER_NAMESPACE=hashicorp
# A CLI config that does not exist makes tofu print a warning that breaks plugin-testing's
# version parsing, so always point at a file that exists.
_natsping_cli_cfg="${NATSPING_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/natsping}/empty.tfrc"
mkdir -p "$(dirname "$_natsping_cli_cfg")" && touch "$_natsping_cli_cfg"
export TF_CLI_CONFIG_FILE="$_natsping_cli_cfg"
# Never let the test framework download a CLI.
unset TF_ACC_TERRAFORM_VERSION

#!/usr/bin/env bash
# The project's test command (`make test` runs it). On a fresh machine it needs only Go and
# the Go module proxy: OpenTofu is built once and cached outside the checkout.
#
# Stages: go vet; unit and acceptance tests against OpenTofu; the deploy/ module's checks of
# the production artifacts (with promtool, also built once and cached); the acceptance tests
# again against Terraform when a `terraform` binary is on PATH; the examples' .tftest.hcl
# suites with both CLIs (scripts/test-examples.sh); docs freshness. Every stage runs
# even after a failure, so one run reports everything; the exit status is non-zero if any
# stage failed.
#
# A plain `go test ./...` skips the acceptance tests when TF_ACC or a CLI is missing; here
# NATSPING_REQUIRE_ACC=1 turns every such skip into a failure (internal/acctest), so this
# command can never pass without having run them.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

summary=()
failed=0

stage() { # stage <name> <command...>
  local name=$1 start rc
  shift
  printf '\n==> %s\n' "$name"
  start=$(date +%s)
  "$@"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    summary+=("PASS  $name ($(($(date +%s) - start))s)")
  else
    summary+=("FAIL  $name (exit $rc)")
    failed=$((failed + 1))
  fi
  return "$rc"
}

skip() { summary+=("SKIP  $1 ($2)"); }

stage "go vet ./..." go vet ./...

tofu=""
if stage "OpenTofu (build on first run, then cached)" scripts/ensure-tofu.sh; then
  tofu=$(scripts/ensure-tofu.sh)
fi

if [ -n "$tofu" ]; then
  # acc-env.sh keeps an existing TF_ACC_TERRAFORM_PATH, so pin the one just built.
  export TF_ACC_TERRAFORM_PATH="$tofu"
  # shellcheck source=scripts/acc-env.sh
  . scripts/acc-env.sh
  "$tofu" version | head -n 1
  stage "go test ./... (unit + acceptance, OpenTofu)" \
    env NATSPING_REQUIRE_ACC=1 go test ./... -count=1 -timeout 45m
else
  # The OpenTofu stage has already failed the run; the unit tests still report what they can.
  stage "go test ./... (unit only: no OpenTofu, acceptance tests skipped)" \
    env -u TF_ACC -u NATSPING_REQUIRE_ACC go test ./... -count=1 -timeout 45m
fi

# deploy/ is a module of its own (the parsers its checks need stay out of the provider's
# dependencies): the systemd unit, the container build, the Kubernetes manifests and the
# Prometheus rules, checked against the callout binary; promtool is built once and cached.
promtool=""
if stage "promtool (build on first run, then cached)" scripts/ensure-promtool.sh; then
  promtool=$(scripts/ensure-promtool.sh)
fi
stage "deploy/: systemd, container, Kubernetes, Prometheus rules (go vet + go test)" \
  env NATSPING_PROMTOOL="$promtool" NATSPING_REQUIRE_ACC=1 \
  bash -c 'cd deploy && go vet ./... && go test ./... -count=1 -timeout 10m'

if terraform_bin=$(command -v terraform); then
  if [ -n "$tofu" ]; then
    stage "acceptance tests with $("$terraform_bin" version 2>/dev/null | head -n 1)" \
      env NATSPING_REQUIRE_ACC=1 TF_ACC_TERRAFORM_PATH="$terraform_bin" \
      go test ./internal/provider/ ./internal/demo/ -run TestAcc -count=1 -timeout 45m
  else
    skip "acceptance tests with terraform" "acceptance environment not set up"
  fi
else
  skip "acceptance tests with terraform" "no terraform on PATH"
fi

if [ -n "$tofu" ]; then
  stage "examples' tftest suites (OpenTofu)" scripts/test-examples.sh "$tofu"
else
  skip "examples' tftest suites (OpenTofu)" "no OpenTofu"
fi
if [ -n "${terraform_bin:-}" ]; then
  stage "examples' tftest suites (Terraform)" scripts/test-examples.sh "$terraform_bin"
else
  skip "examples' tftest suites (Terraform)" "no terraform on PATH"
fi

stage "docs up to date (scripts/docs.sh --check)" scripts/docs.sh --check

printf '\n==> summary\n'
printf '  %s\n' "${summary[@]}"
if [ "$failed" -gt 0 ]; then
  printf '\n%d stage(s) FAILED\n' "$failed"
  exit 1
fi
printf '\nall stages passed\n'

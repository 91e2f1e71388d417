package acctest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireEnv, when set to 1, makes a missing acceptance environment fail the test run instead
// of skipping the acceptance tests. scripts/test.sh (`make test`, CI) sets it.
const RequireEnv = "NATSPING_REQUIRE_ACC"

// Required reports whether RequireEnv asks for every acceptance test to run.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// CLI returns the Terraform or OpenTofu binary that terraform-plugin-testing will run, or why
// acceptance tests cannot run here. It resolves the binary the way the framework does (an
// explicit TF_ACC_TERRAFORM_PATH, else `terraform` on PATH) but never lets it download one.
func CLI() (path, missing string) {
	if os.Getenv("TF_ACC") == "" {
		return "", "TF_ACC is not set. Acceptance tests run the real CLI only when asked: run `make test`, " +
			"or `. scripts/acc-env.sh` (builds OpenTofu once and sets TF_ACC and TF_ACC_TERRAFORM_PATH) before go test"
	}
	if path = os.Getenv("TF_ACC_TERRAFORM_PATH"); path != "" {
		info, err := os.Stat(path)
		switch {
		case err != nil:
			return "", fmt.Sprintf("TF_ACC_TERRAFORM_PATH=%s: %v. Point it at a terraform or tofu binary", path, err)
		case info.IsDir() || info.Mode()&0o111 == 0:
			return "", fmt.Sprintf("TF_ACC_TERRAFORM_PATH=%s is not an executable file. Point it at a terraform or "+
				"tofu binary", path)
		}
		return path, ""
	}
	if os.Getenv("TF_ACC_TERRAFORM_VERSION") != "" {
		return "", "TF_ACC_TERRAFORM_VERSION is set without TF_ACC_TERRAFORM_PATH, which makes the test framework " +
			"download Terraform; these tests never download a CLI. Unset it and set TF_ACC_TERRAFORM_PATH " +
			"(`. scripts/acc-env.sh` does)"
	}
	// Without TF_ACC_TERRAFORM_PATH the framework uses `terraform` from PATH and downloads the
	// latest release when there is none, so only the PATH case may proceed.
	if found, err := exec.LookPath("terraform"); err == nil {
		return found, ""
	}
	return "", "TF_ACC is set but TF_ACC_TERRAFORM_PATH is not, and no `terraform` is on PATH. Set " +
		"TF_ACC_TERRAFORM_PATH to a terraform or tofu binary (`. scripts/acc-env.sh` builds OpenTofu and sets it)"
}

// PreCheck skips t, saying why, when acceptance tests cannot run here, and fails it instead
// when RequireEnv is set. It returns the CLI the test will run.
func PreCheck(t testing.TB) string {
	t.Helper()
	path, missing := CLI()
	if missing == "" {
		return path
	}
	if Required() {
		t.Fatalf("%s=1 requires every acceptance test to run, but: %s", RequireEnv, missing)
	} else {
		t.Skip("acceptance test skipped: " + missing)
	}
	return ""
}

// Main is TestMain for a package with acceptance tests. resource.Test skips by itself, before
// any PreCheck runs, when TF_ACC is unset; so only a check before the tests start can turn
// that skip into the failure RequireEnv asks for.
func Main(m *testing.M) {
	if Required() {
		if _, missing := CLI(); missing != "" {
			fmt.Fprintf(os.Stderr, "FAIL: %s=1 requires every acceptance test to run, but: %s\n", RequireEnv, missing)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

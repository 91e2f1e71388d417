package acctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCLI writes an executable file standing in for terraform.
func fakeCLI(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// clearEnv gives the test an environment with none of the variables CLI reads and an empty PATH.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"TF_ACC", "TF_ACC_TERRAFORM_PATH", "TF_ACC_TERRAFORM_VERSION", RequireEnv} {
		t.Setenv(k, "")
	}
	t.Setenv("PATH", t.TempDir())
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	tofu := fakeCLI(t, dir, "tofu")
	notExec := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pathDir := t.TempDir()
	terraform := fakeCLI(t, pathDir, "terraform")

	cases := []struct {
		name     string
		env      map[string]string
		path     string
		wantPath string
		missing  string // substring of the reason; "" means it can run
	}{
		{name: "no TF_ACC, even with a CLI", env: map[string]string{"TF_ACC_TERRAFORM_PATH": tofu}, missing: "TF_ACC is not set"},
		{name: "explicit CLI", env: map[string]string{"TF_ACC": "1", "TF_ACC_TERRAFORM_PATH": tofu}, wantPath: tofu},
		{name: "explicit CLI wins over PATH", env: map[string]string{"TF_ACC": "1", "TF_ACC_TERRAFORM_PATH": tofu}, path: pathDir, wantPath: tofu},
		{name: "explicit CLI missing", env: map[string]string{"TF_ACC": "1", "TF_ACC_TERRAFORM_PATH": filepath.Join(dir, "nope")}, missing: "no such file"},
		{name: "explicit CLI not executable", env: map[string]string{"TF_ACC": "1", "TF_ACC_TERRAFORM_PATH": notExec}, missing: "not an executable file"},
		{name: "explicit CLI is a directory", env: map[string]string{"TF_ACC": "1", "TF_ACC_TERRAFORM_PATH": dir}, missing: "not an executable file"},
		{name: "terraform on PATH", env: map[string]string{"TF_ACC": "1"}, path: pathDir, wantPath: terraform},
		{name: "no CLI anywhere", env: map[string]string{"TF_ACC": "1"}, missing: "no `terraform` is on PATH"},
		{name: "a version would download", env: map[string]string{"TF_ACC": "1", "TF_ACC_TERRAFORM_VERSION": "1.11.0"}, path: pathDir, missing: "download"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			if c.path != "" {
				t.Setenv("PATH", c.path)
			}
			got, missing := CLI()
			if c.missing == "" {
				if missing != "" || got != c.wantPath {
					t.Fatalf("CLI() = %q, %q; want %q and no reason", got, missing, c.wantPath)
				}
				return
			}
			if got != "" || !strings.Contains(missing, c.missing) {
				t.Fatalf("CLI() = %q, %q; want no path and a reason containing %q", got, missing, c.missing)
			}
		})
	}
}

// recorder stands in for a *testing.T to observe whether PreCheck skips or fails.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = args[0].(string) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestPreCheck(t *testing.T) {
	t.Run("skips with the reason", func(t *testing.T) {
		clearEnv(t)
		r := &recorder{TB: t}
		PreCheck(r)
		if r.failed != "" || !strings.Contains(r.skipped, "TF_ACC is not set") {
			t.Fatalf("skipped %q, failed %q; want a skip naming TF_ACC", r.skipped, r.failed)
		}
	})
	t.Run("fails when required", func(t *testing.T) {
		clearEnv(t)
		t.Setenv(RequireEnv, "1")
		r := &recorder{TB: t}
		PreCheck(r)
		if r.skipped != "" || !strings.Contains(r.failed, RequireEnv) {
			t.Fatalf("skipped %q, failed %q; want a failure naming %s", r.skipped, r.failed, RequireEnv)
		}
	})
	t.Run("runs with a CLI", func(t *testing.T) {
		clearEnv(t)
		t.Setenv(RequireEnv, "1")
		t.Setenv("TF_ACC", "1")
		cli := fakeCLI(t, t.TempDir(), "tofu")
		t.Setenv("TF_ACC_TERRAFORM_PATH", cli)
		r := &recorder{TB: t}
		if got := PreCheck(r); got != cli || r.skipped != "" || r.failed != "" {
			t.Fatalf("PreCheck = %q (skipped %q, failed %q); want %q", got, r.skipped, r.failed, cli)
		}
	})
}

package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// workspace is a Terraform/OpenTofu working directory that uses a locally built provider
// through dev_overrides, so nothing is downloaded and no registry is needed.
type workspace struct {
	cli     string // path to tofu or terraform
	dir     string
	cliConf string
	out     io.Writer
}

// newWorkspace copies the .tf files of configDir into dir and writes a CLI config that points
// the provider's registry address at providerDir.
func newWorkspace(cli, configDir, dir, providerDir string, out io.Writer) (*workspace, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(configDir, "*.tf"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", configDir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			return nil, err
		}
	}
	cliConf := filepath.Join(dir, "dev.tfrc")
	// `source = "natsping/natsping"` means registry.terraform.io to Terraform and
	// registry.opentofu.org to OpenTofu, so override both addresses.
	conf := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/natsping/natsping"  = %[1]q
    "registry.opentofu.org/natsping/natsping" = %[1]q
  }
  direct {}
}
`, providerDir)
	if err := os.WriteFile(cliConf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return &workspace{cli: cli, dir: dir, cliConf: cliConf, out: out}, nil
}

// writeVars writes terraform.tfvars.json, which both CLIs load automatically.
func (w *workspace) writeVars(vars map[string]any) error {
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.dir, "terraform.tfvars.json"), b, 0o600)
}

func (w *workspace) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.cli, args...)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+w.cliConf,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
	)
	return cmd
}

// run executes the CLI, streaming its output so a person can follow the plan.
func (w *workspace) run(ctx context.Context, args ...string) error {
	cmd := w.command(ctx, args...)
	cmd.Stdout = w.out
	cmd.Stderr = w.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(w.cli), strings.Join(args, " "), err)
	}
	return nil
}

// planIsEmpty runs a plan with -detailed-exitcode: 0 means no changes, 2 means changes.
func (w *workspace) planIsEmpty(ctx context.Context) (bool, error) {
	cmd := w.command(ctx, "plan", "-detailed-exitcode", "-no-color")
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		_, _ = w.out.Write(buf.Bytes())
		return false, nil
	}
	_, _ = w.out.Write(buf.Bytes())
	return false, fmt.Errorf("plan failed: %w", err)
}

// outputs reads every root output. Sensitive outputs are included: `output -json` prints them,
// which is what a deployment pipeline does to hand configs to the server and the callout.
func (w *workspace) outputs(ctx context.Context) (map[string]json.RawMessage, error) {
	cmd := w.command(ctx, "output", "-json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("output -json: %w: %s", err, stderr.String())
	}
	var raw map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		return nil, fmt.Errorf("output -json: %w", err)
	}
	out := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		out[k] = v.Value
	}
	return out, nil
}

func stringOutput(outs map[string]json.RawMessage, name string) (string, error) {
	raw, ok := outs[name]
	if !ok {
		return "", fmt.Errorf("the configuration has no output %q", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("output %q is not a string: %w", name, err)
	}
	return s, nil
}

// buildBinaries compiles the provider and the callout service from the module at root.
func buildBinaries(ctx context.Context, root, binDir string, out io.Writer) (provider, callout string, err error) {
	provider = filepath.Join(binDir, "terraform-provider-natsping")
	callout = filepath.Join(binDir, "natsping-callout")
	for target, pkg := range map[string]string{provider: ".", callout: "./cmd/natsping-callout"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", target, pkg)
		cmd.Dir = root
		cmd.Stdout = out
		cmd.Stderr = out
		if err := cmd.Run(); err != nil {
			return "", "", fmt.Errorf("go build %s: %w", pkg, err)
		}
	}
	return provider, callout, nil
}

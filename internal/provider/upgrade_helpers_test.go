package provider

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/acctest"
)

// The old provider is installed under the address users have in their configurations and
// states. plugin-testing reattaches the in-process provider as
// <TF_ACC_PROVIDER_HOST>/<TF_ACC_PROVIDER_NAMESPACE>/natsping, so useProviderMirror sets both
// to make the two steps of an upgrade test use this one address.
const (
	upgradeProviderHost      = "registry.terraform.io"
	upgradeProviderNamespace = "natsping"
	upgradeProviderSource    = upgradeProviderHost + "/" + upgradeProviderNamespace + "/natsping"
	upgradeProviderVersion   = "0.0.1"
)

// upgradeUnavailable skips t because an old provider cannot be had here (no git history in a
// shallow clone, a build failure), or fails it when NATSPING_REQUIRE_ACC=1 (make test, CI),
// which never lets an acceptance test go unrun.
func upgradeUnavailable(t *testing.T, why string) {
	t.Helper()
	if acctest.Required() {
		t.Fatalf("%s=1 requires every acceptance test to run, but the old provider is unavailable: %s", acctest.RequireEnv, why)
	}
	t.Skip("upgrade test skipped: " + why)
}

// natspingCacheDir is the cache the scripts use (scripts/ensure-tofu.sh), outside the checkout.
func natspingCacheDir() (string, error) {
	if d := os.Getenv("NATSPING_CACHE_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "natsping"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "natsping"), nil
}

// oldProviderMirror returns a filesystem mirror (unpacked layout, which Terraform and OpenTofu
// both read) holding the provider built from commit as upgradeProviderSource
// upgradeProviderVersion. The build is cached in the natsping cache dir under
// old-provider-<commit>, so only the first run pays for it.
func oldProviderMirror(t *testing.T, commit string) string {
	t.Helper()
	cache, err := natspingCacheDir()
	if err != nil {
		upgradeUnavailable(t, "no cache directory for the old provider: "+err.Error())
	}
	mirror := filepath.Join(cache, "old-provider-"+commit, "mirror")
	bin := filepath.Join(mirror, filepath.FromSlash(upgradeProviderSource), upgradeProviderVersion,
		runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-natsping_v"+upgradeProviderVersion)
	if info, err := os.Stat(bin); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
		t.Logf("old provider %s: cached at %s", commit, bin)
		return mirror
	}

	root, err := gitOutput("", "rev-parse", "--show-toplevel")
	if err != nil {
		upgradeUnavailable(t, "building the provider of commit "+commit+" needs the git checkout: "+err.Error())
	}
	root = strings.TrimSpace(root)
	if _, err := gitOutput(root, "cat-file", "-e", commit+"^{commit}"); err != nil {
		upgradeUnavailable(t, fmt.Sprintf("commit %s is not in this clone's history (a shallow clone?); "+
			"`git fetch --unshallow` fetches it", commit))
	}

	start := time.Now()
	src := t.TempDir()
	if err := extractCommit(root, commit, src); err != nil {
		upgradeUnavailable(t, fmt.Sprintf("extracting commit %s: %v", commit, err))
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	// Built next to its final name and renamed, so a concurrent run never sees half a binary.
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+upgradeProviderVersion, "-o", tmp, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		upgradeUnavailable(t, fmt.Sprintf("go build of commit %s failed: %v\n%s", commit, err, out))
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	t.Logf("old provider %s: built in %s into %s", commit, time.Since(start).Round(time.Second), bin)
	return mirror
}

func gitOutput(dir string, args ...string) (string, error) {
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// extractCommit writes the tree of commit into dir (git archive, no worktree bookkeeping in
// the repository).
func extractCommit(root, commit, dir string) error {
	var stderr bytes.Buffer
	cmd := exec.Command("git", "-C", root, "archive", "--format=tar", commit)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	extractErr := untar(out, dir)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return extractErr
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive entry %q leaves the directory", h.Name)
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		default: // the pax header with the commit id, and nothing else git writes
		}
	}
}

// useProviderMirror makes every CLI run of the test install natsping from mirror (and nothing
// from the network), and reattaches the in-process provider under upgradeProviderSource. The
// framework hands the environment to each CLI run, so t.Setenv scopes it to this test; t.Setenv
// also keeps the test off t.Parallel, which is what a process-wide variable needs.
func useProviderMirror(t *testing.T, mirror string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "upgrade.tfrc")
	content := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %[1]q
    include = [%[2]q]
  }
  direct {
    exclude = [%[2]q]
  }
}
`, mirror, upgradeProviderSource)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", cfg)
	t.Setenv("TF_ACC_PROVIDER_HOST", upgradeProviderHost)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", upgradeProviderNamespace)
}

// expectStateProvider checks that every resource and data source in the state belongs to
// provider (the state written by the old provider and the one the current provider writes
// must name the same provider, or the CLI would not hand one's state to the other).
func expectStateProvider(provider string) statecheck.StateCheck { return stateProviderCheck{provider} }

type stateProviderCheck struct{ provider string }

func (c stateProviderCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil || req.State.Values == nil || req.State.Values.RootModule == nil {
		resp.Error = errors.New("state is empty")
		return
	}
	var errs []error
	for _, r := range req.State.Values.RootModule.Resources {
		if r.ProviderName != c.provider {
			errs = append(errs, fmt.Errorf("%s belongs to provider %q, want %q", r.Address, r.ProviderName, c.provider))
		}
	}
	resp.Error = errors.Join(errs...)
}

// expectNoStateAttribute checks that a resource in state has no attribute name: the state was
// written with a schema that lacks it.
func expectNoStateAttribute(address, name string) statecheck.StateCheck {
	return stateNoAttributeCheck{address, name}
}

type stateNoAttributeCheck struct{ address, name string }

func (c stateNoAttributeCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil || req.State.Values == nil || req.State.Values.RootModule == nil {
		resp.Error = errors.New("state is empty")
		return
	}
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address != c.address {
			continue
		}
		if _, ok := r.AttributeValues[c.name]; ok {
			resp.Error = fmt.Errorf("%s has attribute %s: this state was not written by the old provider", c.address, c.name)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the state", c.address)
}

// expectPlanChanges checks that the plan holds exactly the changes want, as
// describePlanChanges renders them (nil: none), and names every change otherwise.
func expectPlanChanges(want []string) plancheck.PlanCheck { return planChangesCheck{want} }

type planChangesCheck struct{ want []string }

func (c planChangesCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	got := describePlanChanges(req)
	if !slices.Equal(got, c.want) {
		resp.Error = fmt.Errorf("the plan after the upgrade holds other changes than expected\ngot:\n  %s\nwant:\n  %s",
			strings.Join(orNone(got), "\n  "), strings.Join(orNone(c.want), "\n  "))
	}
}

func orNone(list []string) []string {
	if len(list) == 0 {
		return []string{"(no changes)"}
	}
	return list
}

// describePlanChanges renders every change in the plan on one line, sorted:
//
//	<address> <actions>: <attribute>[ (sensitive)]: <change>, …; …
//
// A change is a path into the attribute with +added, -removed or ~changed, and for values that
// are not sensitive ": before → after". Strings holding JSON (a mapping rule, the callout
// config, the trust's role_mappings) are compared as JSON, so a sensitive document is described
// by its paths and no secret is printed. A data source read deferred to apply (because it
// depends on a resource with changes) and an output change are named without details.
func describePlanChanges(req plancheck.CheckPlanRequest) []string {
	var out []string
	for _, rc := range req.Plan.ResourceChanges {
		ch := rc.Change
		if ch == nil || ch.Actions.NoOp() {
			continue
		}
		line := rc.Address + " " + actionsString(ch.Actions)
		if rc.Mode == "data" {
			out = append(out, line)
			continue
		}
		before, _ := ch.Before.(map[string]any)
		after, _ := ch.After.(map[string]any)
		unknown, _ := ch.AfterUnknown.(map[string]any)
		beforeSensitive, _ := ch.BeforeSensitive.(map[string]any)
		afterSensitive, _ := ch.AfterSensitive.(map[string]any)
		keys := map[string]bool{}
		for _, m := range []map[string]any{before, after, unknown} {
			for k := range m {
				keys[k] = true
			}
		}
		var attrs []string
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			label := k
			sensitive := containsTrue(beforeSensitive[k]) || containsTrue(afterSensitive[k])
			if sensitive {
				label += " (sensitive)"
			}
			if containsTrue(unknown[k]) {
				attrs = append(attrs, label+": (known after apply)")
				continue
			}
			var changes []string
			diffValue("", before[k], after[k], sensitive, &changes)
			if len(changes) > 0 {
				attrs = append(attrs, label+": "+strings.Join(changes, ", "))
			}
		}
		if len(attrs) > 0 {
			line += ": " + strings.Join(attrs, "; ")
		}
		out = append(out, line)
	}
	for name, ch := range req.Plan.OutputChanges {
		if ch != nil && !ch.Actions.NoOp() {
			out = append(out, "output."+name+" "+actionsString(ch.Actions))
		}
	}
	slices.Sort(out)
	return out
}

func actionsString[A ~string](actions []A) string {
	parts := make([]string, len(actions))
	for i, a := range actions {
		parts[i] = string(a)
	}
	return strings.Join(parts, "/")
}

// containsTrue reports whether a sensitivity or unknown marker (bool, or nested lists and
// objects of them) marks anything.
func containsTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case []any:
		return slices.ContainsFunc(v, containsTrue)
	case map[string]any:
		for _, e := range v {
			if containsTrue(e) {
				return true
			}
		}
	}
	return false
}

// jsonDocument parses a string holding a JSON object or array.
func jsonDocument(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var doc any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return nil, false
	}
	return doc, true
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const limit = 120
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// diffValue appends the paths (below path) where b and a differ. An added role_signing_key is
// annotated with whether it is the public key of the role_signing_key_seed beside it, the one
// value it may have.
func diffValue(path string, b, a any, sensitive bool, out *[]string) {
	if reflect.DeepEqual(b, a) {
		return
	}
	if bd, ok := jsonDocument(b); ok {
		if ad, ok := jsonDocument(a); ok {
			diffValue(path, bd, ad, sensitive, out)
			return
		}
	}
	bm, bIsMap := b.(map[string]any)
	am, aIsMap := a.(map[string]any)
	if bIsMap && aIsMap {
		keys := map[string]bool{}
		for k := range bm {
			keys[k] = true
		}
		for k := range am {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			bv, inB := bm[k]
			av, inA := am[k]
			switch {
			case !inB:
				*out = append(*out, "+"+p+valueNote(av, sensitive)+roleKeyNote(k, av, am))
			case !inA:
				*out = append(*out, "-"+p)
			default:
				diffValue(p, bv, av, sensitive, out)
			}
		}
		return
	}
	bl, bIsList := b.([]any)
	al, aIsList := a.([]any)
	if bIsList && aIsList {
		for i := range max(len(bl), len(al)) {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(bl):
				*out = append(*out, "+"+p+valueNote(al[i], sensitive))
			case i >= len(al):
				*out = append(*out, "-"+p)
			default:
				diffValue(p, bl[i], al[i], sensitive, out)
			}
		}
		return
	}
	change := "~" + path
	if path == "" {
		change = "changed"
	}
	if !sensitive {
		change += ": " + compactJSON(b) + " → " + compactJSON(a)
		if path == "" {
			change = compactJSON(b) + " → " + compactJSON(a)
		}
	}
	*out = append(*out, change)
}

// valueNote shows an added value unless it is sensitive.
func valueNote(v any, sensitive bool) string {
	if sensitive {
		return ""
	}
	return ": " + compactJSON(v)
}

func roleKeyNote(key string, value any, siblings map[string]any) string {
	if key != "role_signing_key" {
		return ""
	}
	seed, _ := siblings["role_signing_key_seed"].(string)
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return " (beside no valid role_signing_key_seed)"
	}
	pub, err := kp.PublicKey()
	if err != nil || pub != value {
		return " (NOT the public key of role_signing_key_seed)"
	}
	return " (the public key of role_signing_key_seed)"
}

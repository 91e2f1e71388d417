package deploy

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

const (
	dockerfilePath   = "container/Dockerfile"
	dockerignorePath = "container/Dockerfile.dockerignore"
)

type dockerfile struct {
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	warnings []string // BuildKit's build checks, as `docker build --check` reports them
}

// parseDockerfile reads the Dockerfile with BuildKit's own parser and instruction decoder,
// with every build check (experimental ones too) turned on.
func parseDockerfile(t testing.TB) dockerfile {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(readFile(t, dockerfilePath)))
	if err != nil {
		t.Fatalf("BuildKit cannot parse %s: %v", dockerfilePath, err)
	}
	var df dockerfile
	for _, w := range res.Warnings {
		df.warnings = append(df.warnings, w.Short)
	}
	lint := linter.New(&linter.Config{ExperimentalAll: true, Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		df.warnings = append(df.warnings, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
	}})
	df.stages, df.metaArgs, err = instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("BuildKit refuses the instructions of %s: %v", dockerfilePath, err)
	}
	return df
}

func commandsOf[T any](st instructions.Stage) []T {
	var out []T
	for _, c := range st.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestDockerfileIsMultiStageStaticAndNonRoot(t *testing.T) {
	t.Parallel()
	df := parseDockerfile(t)
	if len(df.warnings) > 0 {
		t.Errorf("BuildKit build checks warn:\n%s", strings.Join(df.warnings, "\n"))
	}
	if len(df.stages) != 2 {
		t.Fatalf("want a build stage and a final stage, got %d stages", len(df.stages))
	}
	build, final := df.stages[0], df.stages[1]
	if build.Name != "build" || !strings.HasPrefix(build.BaseName, "golang:") {
		t.Errorf("first stage = %q FROM %q, want a golang builder named build", build.Name, build.BaseName)
	}
	if build.Platform != "$BUILDPLATFORM" {
		t.Errorf("builder platform = %q, want $BUILDPLATFORM (cross-compile instead of emulating)", build.Platform)
	}
	// The builder's Go release must satisfy the module's go line, or the build fails (or,
	// with GOTOOLCHAIN=auto, downloads another toolchain inside the build).
	goLine := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(readFile(t, filepath.Join(repoRoot(t), "go.mod"))))
	var builderGo string
	for _, a := range df.metaArgs {
		for _, kv := range a.Args {
			if kv.Key == "GO_VERSION" && kv.Value != nil {
				builderGo = *kv.Value
			}
		}
	}
	bm := regexp.MustCompile(`^(\d+)\.(\d+)`).FindStringSubmatch(builderGo)
	if goLine == nil || bm == nil || atoi(bm[1])*1000+atoi(bm[2]) < atoi(goLine[1])*1000+atoi(goLine[2]) {
		t.Errorf("the builder's GO_VERSION %q is older than go.mod's go %v", builderGo, goLine)
	}
	if final.BaseName != "scratch" {
		t.Errorf("final stage FROM %q, want scratch: nothing but the binary and CA roots", final.BaseName)
	}

	runs := commandsOf[*instructions.RunCommand](build)
	if cmd := goBuildCommand(t, df); !strings.Contains(cmd, "CGO_ENABLED=0") || !strings.Contains(cmd, "./cmd/natsping-callout") {
		t.Errorf("the build step %q must build ./cmd/natsping-callout with CGO_ENABLED=0", cmd)
	}
	if len(runs) == 0 {
		t.Fatal("the build stage runs nothing")
	}
	if n := len(commandsOf[*instructions.RunCommand](final)); n != 0 {
		t.Errorf("the final stage runs %d commands; scratch has no shell", n)
	}

	users := commandsOf[*instructions.UserCommand](final)
	if len(users) != 1 {
		t.Fatalf("final stage sets USER %d times, want once", len(users))
	}
	uid, _, _ := strings.Cut(users[0].User, ":")
	if uid == "" || uid == "0" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("USER %q: want a numeric non-root uid, which runAsNonRoot can verify without /etc/passwd", users[0].User)
	}

	// Only build outputs reach the final image: no file from the build context, where a
	// rendered callout.json could sit.
	for _, c := range commandsOf[*instructions.CopyCommand](final) {
		if c.From != "build" {
			t.Errorf("final stage copies %v from the build context; copy only from the build stage", c.SourcePaths)
		}
	}
	if n := len(commandsOf[*instructions.AddCommand](final)); n != 0 {
		t.Errorf("final stage has %d ADD instructions", n)
	}
	if n := len(commandsOf[*instructions.HealthCheckCommand](final)); n != 0 {
		t.Error("HEALTHCHECK in the image: the kubelet probes /healthz and /readyz, and scratch has no curl to run one")
	}

	entry := commandsOf[*instructions.EntrypointCommand](final)
	if len(entry) != 1 || entry[0].PrependShell || len(entry[0].CmdLine) != 1 || entry[0].CmdLine[0] != calloutImagePath(t, df) {
		t.Errorf("ENTRYPOINT = %+v, want the exec form of the copied binary %s", entry, calloutImagePath(t, df))
	}
}

// calloutImagePath is where the final stage puts the binary built in the build stage.
func calloutImagePath(t testing.TB, df dockerfile) string {
	t.Helper()
	for _, c := range commandsOf[*instructions.CopyCommand](df.stages[len(df.stages)-1]) {
		if c.From == "build" && len(c.SourcePaths) == 1 && filepath.Base(c.SourcePaths[0]) == "natsping-callout" {
			return c.DestPath
		}
	}
	t.Fatal("the final stage copies no natsping-callout binary from the build stage")
	return ""
}

// builtOutput is the path the build stage writes the binary to (the final COPY's source).
func builtOutput(t testing.TB, df dockerfile) string {
	t.Helper()
	for _, c := range commandsOf[*instructions.CopyCommand](df.stages[len(df.stages)-1]) {
		if c.From == "build" && len(c.SourcePaths) == 1 && filepath.Base(c.SourcePaths[0]) == "natsping-callout" {
			return c.SourcePaths[0]
		}
	}
	t.Fatal("the final stage copies no natsping-callout binary from the build stage")
	return ""
}

// goBuildCommand is the build stage's RUN line that calls go build, as the shell gets it.
func goBuildCommand(t testing.TB, df dockerfile) string {
	t.Helper()
	var found []string
	for _, r := range commandsOf[*instructions.RunCommand](df.stages[0]) {
		line := strings.Join(r.CmdLine, " ")
		if strings.Contains(line, "go build") {
			if !r.PrependShell {
				t.Fatalf("the go build step uses the exec form; it needs the shell for its variables")
			}
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one go build step in the build stage, got %q", found)
	}
	return found[0]
}

// The binary the image would hold, built once per test run by the Dockerfile's own build
// command, in a copy of the build context that the Dockerfile's ignore file filters.
var (
	builtOnce   sync.Once
	builtBinary string
	builtErr    error
	builtDir    string
)

func calloutBinary(t testing.TB) string {
	t.Helper()
	builtOnce.Do(func() { builtBinary, builtErr = buildAsImage(t) })
	if builtErr != nil {
		t.Fatalf("building the callout as the Dockerfile does: %v", builtErr)
	}
	return builtBinary
}

func buildAsImage(t testing.TB) (string, error) {
	df := parseDockerfile(t)
	cmd := goBuildCommand(t, df)
	out := builtOutput(t, df)
	if !strings.Contains(cmd, "-o "+out+" ") {
		return "", fmt.Errorf("the build step %q does not write %s, which the final stage copies", cmd, out)
	}
	// Shared by every test of the run, so not t.TempDir (that goes with the first test); TestMain removes it.
	dir, err := os.MkdirTemp("", "natsping-deploy-") //nolint:usetesting // see above
	if err != nil {
		return "", err
	}
	builtDir = dir
	ctx := filepath.Join(dir, "context")
	if _, err := copyBuildContext(repoRoot(t), ctx); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "out", "natsping-callout")
	// The one liberty taken: the output path, since / is not writable here.
	sh := exec.Command("/bin/sh", "-c", strings.Replace(cmd, "-o "+out+" ", "-o "+bin+" ", 1))
	sh.Dir = ctx
	sh.Env = append(withoutEnv(os.Environ(), "GOFLAGS", "CGO_ENABLED", "GOOS", "GOARCH"),
		"TARGETOS="+runtime.GOOS, "TARGETARCH="+runtime.GOARCH, "GOTOOLCHAIN=local")
	if outText, err := sh.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %v\n%s", cmd, err, outText)
	}
	return bin, nil
}

func withoutEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, name)
	})
}

// copyBuildContext copies the files of root that the ignore file lets into the build
// context, with the matching rule Docker applies (a file is out when it or a parent
// directory matches, and a later ! pattern brings it back), and returns their paths.
func copyBuildContext(root, dst string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, "deploy", dockerignorePath))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	var copied []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() || rel == "." {
			return nil
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil || excluded || !d.Type().IsRegular() {
			return err
		}
		copied = append(copied, filepath.ToSlash(rel))
		if dst == "" {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	return copied, err
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestDockerfileBuildStepBuildsAStaticBinary(t *testing.T) {
	t.Parallel()
	f, err := elf.Open(calloutBinary(t))
	if err != nil {
		t.Fatalf("the build step did not produce an ELF binary: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader; scratch has none (CGO_ENABLED=0 is not in effect)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary keeps its symbol table; the release flags (-s -w) strip it")
	}
}

func TestDockerignoreKeepsSecretsAndVCSOutOfTheContext(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// A working copy as an operator may have it: state, a rendered configuration, creds.
	for _, f := range []string{
		"go.mod", "go.sum", "cmd/natsping-callout/main.go", "cmd/natsping-callout/main_test.go",
		"internal/callout/service.go", "internal/callout/testdata/x.json",
		".git/config", "terraform.tfstate", "examples/quickstart/terraform.tfstate.backup",
		"callout.json", "deploy/kubernetes/callout-secret.yaml", "natsping.conf", "sys.creds", "main.go",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "deploy", "container"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(dockerignorePath, filepath.Join(root, "deploy", dockerignorePath)); err != nil {
		t.Fatal(err)
	}
	got, err := copyBuildContext(root, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cmd/natsping-callout/main.go", "go.mod", "go.sum", "internal/callout/service.go"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("build context = %q, want only %q", got, want)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

package deploy

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const unitPath = "systemd/natsping-callout.service"

// unit is a systemd unit file: section → key → values in order (a key may repeat).
type unit map[string]map[string][]string

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func parseUnit(t *testing.T, data []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case strings.HasSuffix(line, "\\"):
			t.Fatalf("%s:%d: continuation lines are not used in this unit; keep one setting a line", unitPath, n)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is not a key=value in a section", unitPath, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// mainConsts are the integer and duration constants of the callout's main package, read
// from its source so the unit is checked against the values the binary has.
func mainConsts(t *testing.T) map[string]int64 {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot(t), "cmd/natsping-callout/main.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]int64{"Millisecond": int64(time.Millisecond), "Second": int64(time.Second), "Minute": int64(time.Minute)}
	var eval func(ast.Expr) (int64, bool)
	eval = func(e ast.Expr) (int64, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			v, err := strconv.ParseInt(e.Value, 10, 64)
			return v, err == nil
		case *ast.SelectorExpr:
			v, ok := units[e.Sel.Name]
			return v, ok
		case *ast.BinaryExpr:
			a, okA := eval(e.X)
			b, okB := eval(e.Y)
			return a * b, okA && okB && e.Op == token.MUL
		}
		return 0, false
	}
	out := map[string]int64{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if v, ok := eval(vs.Values[i]); ok {
						out[name.Name] = v
					}
				}
			}
		}
		return true
	})
	return out
}

// calloutFlags are the flags the binary defines, from its own usage text.
func calloutFlags(t *testing.T) map[string]bool {
	t.Helper()
	out, _ := exec.Command(calloutBinary(t), "-h").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["config"] || !flags["listen"] {
		t.Fatalf("cannot read the callout's flags from its usage:\n%s", out)
	}
	return flags
}

// checkFlags fails for every -flag in args the binary does not define.
func checkFlags(t *testing.T, where string, args []string) {
	t.Helper()
	flags := calloutFlags(t)
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !flags[name] {
				t.Errorf("%s passes %s, which natsping-callout does not define", where, a)
			}
		}
	}
}

func TestSystemdUnitIsHardenedAndMatchesTheBinary(t *testing.T) {
	t.Parallel()
	u := parseUnit(t, readFile(t, unitPath))
	consts := mainConsts(t)
	svc := "Service"
	for key, want := range map[string]string{
		"Type": "exec", "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
		"RestrictSUIDSGID": "yes", "MemoryDenyWriteExecute": "yes", "UMask": "0077",
		"Restart": "on-failure", "KillSignal": "SIGTERM",
	} {
		if _, ok := u[svc][key]; !ok || u.get(svc, key) != want {
			t.Errorf("[Service] %s=%q, want %q", key, u.get(svc, key), want)
		}
	}
	// An invalid configuration exits with the usage status: restarting cannot fix it.
	if usage, ok := consts["exitUsage"]; !ok || !slices.Contains(strings.Fields(u.get(svc, "RestartPreventExitStatus")), strconv.FormatInt(usage, 10)) {
		t.Errorf("RestartPreventExitStatus=%q must hold the callout's exit status for a bad configuration (%d)",
			u.get(svc, "RestartPreventExitStatus"), usage)
	}
	stop, err := time.ParseDuration(u.get(svc, "TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	drain, ok := consts["shutdownTimeout"]
	if !ok {
		t.Fatal("cmd/natsping-callout/main.go has no shutdownTimeout constant to check TimeoutStopSec against")
	}
	if stop <= time.Duration(drain) {
		t.Errorf("TimeoutStopSec=%s must exceed the callout's drain on SIGTERM (%s), or systemd kills it mid-drain",
			stop, time.Duration(drain))
	}
	// Credentials are a copy made at start: a reload would re-read the old copy.
	if _, ok := u[svc]["ExecReload"]; ok {
		t.Error("ExecReload is set, but SIGHUP would re-read the start-time copy of the credential; configuration changes need a restart")
	}

	cred := u.get(svc, "LoadCredential")
	id, src, ok := strings.Cut(cred, ":")
	if !ok || !filepath.IsAbs(src) {
		t.Fatalf("LoadCredential=%q, want id:/absolute/path", cred)
	}
	args := strings.Fields(u.get(svc, "ExecStart"))
	if len(args) == 0 || !filepath.IsAbs(args[0]) {
		t.Fatalf("ExecStart=%q", u.get(svc, "ExecStart"))
	}
	checkFlags(t, "ExecStart", args[1:])
	if i := slices.Index(args, "-config"); i < 0 || i+1 >= len(args) || args[i+1] != "${CREDENTIALS_DIRECTORY}/"+id {
		t.Errorf("ExecStart must pass -config ${CREDENTIALS_DIRECTORY}/%s (the credential), got %q", id, args)
	}
	if u.get("Install", "WantedBy") != "multi-user.target" {
		t.Errorf("[Install] WantedBy=%q", u.get("Install", "WantedBy"))
	}
}

// withBinary is the unit text with ExecStart pointing at path, for tools that check the
// executable exists.
func withBinary(t *testing.T, data []byte, path string) []byte {
	t.Helper()
	args := strings.Fields(parseUnit(t, data).get("Service", "ExecStart"))
	return bytes.Replace(data, []byte("ExecStart="+args[0]+" "), []byte("ExecStart="+path+" "), 1)
}

func TestSystemdUnitPassesSystemdAnalyze(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	unitFile := filepath.Join(dir, filepath.Base(unitPath))
	if err := os.WriteFile(unitFile, withBinary(t, readFile(t, unitPath), calloutBinary(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify prints every unknown key, misplaced setting or bad value; a clean unit prints nothing.
	out, err := exec.Command(analyze, "verify", "--man=no", unitFile).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=yes", "--no-pager", unitFile).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("exposure level %.1f, want at most 2.0 (systemd's OK band):\n%s", level, out)
	} else {
		t.Logf("systemd-analyze security: exposure %.1f", level)
	}
}

// The unit's command line, as systemd runs it with the credential in place, serves the
// readiness the unit's users check, and stops cleanly on the unit's KillSignal well within
// TimeoutStopSec.
func TestSystemdExecStartRunsAndStopsWithinTimeout(t *testing.T) {
	t.Parallel()
	u := parseUnit(t, readFile(t, unitPath))
	w := newWorld(t)
	creds := t.TempDir()
	id, _, _ := strings.Cut(u.get("Service", "LoadCredential"), ":")
	writeConfig(t, filepath.Join(creds, id), w.doc(t))

	args := strings.Fields(u.get("Service", "ExecStart"))[1:]
	listen := addr(freePort(t))
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "${CREDENTIALS_DIRECTORY}", creds)
		if i > 0 && args[i-1] == "-listen" {
			if !strings.HasPrefix(a, "127.0.0.1:") {
				t.Errorf("the unit listens on %s; it should keep /metrics on the loopback interface", a)
			}
			args[i] = listen
		}
	}
	p := startCallout(t, args, append(baseEnv(), "CREDENTIALS_DIRECTORY="+creds), listen)
	p.waitFor(t, "/readyz", 200)
	if strings.Contains(p.stderr.String(), "readable by group or others") {
		t.Errorf("the callout warns about the credential's mode:\n%s", p.stderr.String())
	}
	limit, _ := time.ParseDuration(u.get("Service", "TimeoutStopSec"))
	took, code := p.stop(t, syscall.SIGTERM, limit)
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0 (systemd would mark the stop failed); log:\n%s", code, p.stderr.String())
	}
	t.Logf("stopped %s after SIGTERM (TimeoutStopSec %s)", took.Round(time.Millisecond), limit)
}

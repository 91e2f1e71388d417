package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	promql "github.com/prometheus/prometheus/promql/parser"
)

const (
	rulesPath     = "prometheus/natsping-callout-rules.yml"
	rulesTestPath = "prometheus/natsping-callout-rules.test.yml"
)

// parseRules loads the rule file as Prometheus itself does (strict YAML, every expression and
// template checked), which is what `promtool check rules` runs.
func parseRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesPath, false, model.UTF8Validation, promql.NewParser(promql.Options{}),
		slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil {
		t.FailNow()
	}
	return groups
}

// exercisedCallout is a real callout after the events every rule's metrics come from: a
// refused request (decisions, latency), a good and a refused reload. Its /metrics is the
// inventory the rules are checked against.
func exercisedCallout(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	w := newWorld(t)
	config := filepath.Join(t.TempDir(), "callout.json")
	writeConfig(t, config, w.doc(t))
	listen := addr(freePort(t))
	p := startCallout(t, []string{"-config", config, "-listen", listen}, baseEnv(), listen)
	p.waitFor(t, "/readyz", 200)
	sendAuthRequest(t, w.natsURL)

	if err := os.Chmod(config, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, p, "natsping_callout_reloads_total", "result", "ok")
	if err := os.WriteFile(config, []byte(`{"version": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, p, "natsping_callout_reloads_total", "result", "error")
	waitMetric(t, p, "natsping_callout_decisions_total", "result", "deny")
	return p.metrics(t)
}

func waitMetric(t *testing.T, p *calloutProc, family, label, value string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, ok := p.metrics(t)[family]; ok {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == label && l.GetValue() == value {
						return
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s{%s=%q} in /metrics; log:\n%s", family, label, value, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seriesFamily maps a series name to its family: a histogram's _bucket, _sum and _count.
func seriesFamily(name string, fams map[string]*dto.MetricFamily) (*dto.MetricFamily, bool) {
	if f, ok := fams[name]; ok {
		return f, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if f, ok := fams[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) &&
			f.GetType() == dto.MetricType_HISTOGRAM {
			return f, true
		}
	}
	return nil, false
}

func TestPrometheusRulesUseTheCalloutsRealMetrics(t *testing.T) {
	t.Parallel()
	groups := parseRules(t)
	fams := exercisedCallout(t)
	reasons := decisionReasons(t)

	recorded := map[string]bool{}
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			name := r.Record + r.Alert
			if r.Alert != "" {
				alerts++
				if r.Labels["severity"] != "warning" && r.Labels["severity"] != "critical" {
					t.Errorf("%s: severity %q, want warning or critical", name, r.Labels["severity"])
				}
				if !strings.Contains(r.Annotations["runbook"], name) {
					t.Errorf("%s: the runbook annotation must name the alert's runbook entry", name)
				}
			}
			expr, err := promql.NewParser(promql.Options{}).ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, sel := range promql.ExtractSelectors(expr) {
				checkSelector(t, name, sel, fams, recorded, reasons)
			}
		}
	}
	if alerts < 10 {
		t.Errorf("%d alerts, want the full set the runbook covers", alerts)
	}
}

func checkSelector(t *testing.T, rule string, sel []*labels.Matcher, fams map[string]*dto.MetricFamily,
	recorded map[string]bool, reasons map[string]bool) {
	t.Helper()
	var metric string
	for _, m := range sel {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			metric = m.Value
		}
	}
	if recorded[metric] {
		return
	}
	f, ok := seriesFamily(metric, fams)
	if !ok {
		t.Errorf("%s: %q is not a metric natsping-callout exports (it has %v)", rule, metric, familyNames(fams))
		return
	}
	have := familyLabels(f)
	for _, m := range sel {
		if m.Name == model.MetricNameLabel {
			continue
		}
		if !have[m.Name] {
			t.Errorf("%s: %s has no label %q", rule, metric, m.Name)
		}
		if m.Name == "reason" {
			for _, v := range alternatives(t, m.Value) {
				if !reasons[v] {
					t.Errorf("%s: reason %q is not a reason the callout records", rule, v)
				}
			}
		}
		if m.Name == "result" && !slices.Contains([]string{"allow", "deny", "ok", "error"}, m.Value) {
			t.Errorf("%s: result %q is never recorded", rule, m.Value)
		}
	}
}

func familyNames(fams map[string]*dto.MetricFamily) []string {
	var out []string
	for n := range fams {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// alternatives are the literal values a|b|c regexp matches.
func alternatives(t *testing.T, re string) []string {
	t.Helper()
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	parsed = parsed.Simplify()
	var out []string
	var walk func(*syntax.Regexp) bool
	walk = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpLiteral:
			out = append(out, string(r.Rune))
			return true
		case syntax.OpAlternate:
			for _, s := range r.Sub {
				if !walk(s) {
					return false
				}
			}
			return true
		default:
			return false
		}
	}
	if !walk(parsed) {
		// Prefix factoring (a|ab → a(?:|b)) defeats the walk; fall back to splitting.
		out = strings.Split(re, "|")
	}
	return out
}

// decisionReasons are the values the callout puts in the reason label: the string constants
// of type Reason in the callout and in the token verifier, read from their source.
func decisionReasons(t *testing.T) map[string]bool {
	t.Helper()
	root := repoRoot(t)
	out := map[string]bool{}
	for _, file := range []string{"internal/callout/decision.go", "internal/oidc/types.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, file), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				return true
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out[s] = true
				}
			}
			return true
		})
	}
	if len(out) < 20 {
		t.Fatalf("found only %d reasons in the callout's source; has the Reason type moved?", len(out))
	}
	return out
}

// promtoolPath is a promtool binary: $NATSPING_PROMTOOL, or the one scripts/ensure-promtool.sh
// caches, or one on PATH.
func promtoolPath() string {
	if p := os.Getenv("NATSPING_PROMTOOL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	return ""
}

func TestPrometheusRulesPassPromtool(t *testing.T) {
	t.Parallel()
	promtool := promtoolPath()
	if promtool == "" {
		if os.Getenv("NATSPING_REQUIRE_ACC") == "1" {
			t.Fatal("no promtool: scripts/test.sh provides it through scripts/ensure-promtool.sh")
		}
		t.Skip("no promtool (set NATSPING_PROMTOOL, or run scripts/test.sh, which builds and caches it)")
	}
	for _, args := range [][]string{
		{"check", "rules", "--lint=all", "--lint-fatal", rulesPath},
		{"test", "rules", rulesTestPath},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// Every alert has its runbook entry in the production guide, and the guide has no entry for
// an alert that does not exist.
func TestProductionRunbookCoversEveryAlert(t *testing.T) {
	t.Parallel()
	guide := string(readFile(t, filepath.Join(repoRoot(t), "templates/guides/production.md.tmpl")))
	var entries []string
	for _, line := range strings.Split(guide, "\n") {
		if name, ok := strings.CutPrefix(line, "### "); ok && strings.HasPrefix(name, "NatspingCallout") {
			entries = append(entries, name)
		}
	}
	var alerts []string
	for _, g := range parseRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r.Alert)
			}
		}
	}
	slices.Sort(entries)
	slices.Sort(alerts)
	if !slices.Equal(entries, alerts) {
		t.Errorf("runbook entries %q, alerts %q", entries, alerts)
	}
}

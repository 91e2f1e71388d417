package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"sigs.k8s.io/yaml"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

type trustWorld struct {
	in               serverconfig.Input
	appJWT           string
	userJWT, seed    string // a user of APP
	sysUser, sysSeed string // a user of the system account, to push with
}

// newTrust is an operator with a signing key, its system account and one application
// account with a user, as natsping renders them.
func newTrust(t *testing.T) *trustWorld {
	t.Helper()
	kp := func(create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
		k, err := create()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := k.PublicKey()
		return k, pub
	}
	opKP, opPub := kp(nkeys.CreateOperator)
	opSK, opSKPub := kp(nkeys.CreateOperator)
	sysKP, sysPub := kp(nkeys.CreateAccount)
	appKP, appPub := kp(nkeys.CreateAccount)
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name, oc.SystemAccount = "OP", sysPub
	oc.SigningKeys.Add(opSKPub)
	opJWT, err := oc.Encode(opKP)
	if err != nil {
		t.Fatal(err)
	}
	w := &trustWorld{}
	w.in = serverconfig.Input{OperatorJWT: opJWT, Fragment: true}
	for name, k := range map[string]nkeys.KeyPair{"SYS": sysKP, "APP": appKP} {
		pub, _ := k.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		s, err := ac.Encode(opSK)
		if err != nil {
			t.Fatal(err)
		}
		if name == "APP" {
			w.appJWT = s
		}
		w.in.AccountJWTs = append(w.in.AccountJWTs, s)
	}
	user := func(account nkeys.KeyPair, accountPub string) (string, string) {
		ukp, upub := kp(nkeys.CreateUser)
		uc := jwt.NewUserClaims(upub)
		uc.IssuerAccount = accountPub
		token, err := uc.Encode(account)
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := ukp.Seed()
		return token, string(seed)
	}
	w.userJWT, w.seed = user(appKP, appPub)
	w.sysUser, w.sysSeed = user(sysKP, sysPub)
	return w
}

// natsValues is deploy/kubernetes/nats-values.yaml, parsed.
func natsValues(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal(readFile(t, filepath.Join(k8sDir, "nats-values.yaml")), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func object(v any, path ...string) map[string]any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	m, _ := v.(map[string]any)
	return m
}

// The two rewrites of the chart's nats.formatConfig (templates/_helpers.tpl): a key ending in
// $include becomes an include directive, a "<< x >>" string loses its quotes.
var (
	chartInclude = regexp.MustCompile(`".*\$include": "(.*)",?`)
	chartRaw     = regexp.MustCompile(`"<<\s+(.*?)\s+>>"`)
)

// chartNATSConf writes the nats.conf the official NATS Helm chart (1.x; unchanged in 2.x)
// renders from values, as its templates do: the keys of files/config/config.yaml that a
// single server boots with, config.resolver (dir, then its merge) when enabled, then
// config.merge on top, written as pretty JSON with sorted keys and the two rewrites above.
// Left out: pid_file (a pod path), the cluster block (its routes name the StatefulSet's other
// pods; TestRenderFragmentIncluded includes a fragment beside one) and the monitoring port.
// The resolver dir is moved into the test's directory. The include's target is the
// ConfigMap key of the same name, a file next to nats.conf.
func chartNATSConf(t *testing.T, values map[string]any, dir string) string {
	t.Helper()
	cfg := object(values, "config")
	doc := map[string]any{
		"server_name":            "nats-0", // the chart writes << $SERVER_NAME >>, the pod's name
		"lame_duck_grace_period": "10s",
		"lame_duck_duration":     "30s",
		"port":                   4222,
	}
	if r := object(cfg, "resolver"); r["enabled"] == true {
		block := map[string]any{"dir": filepath.ToSlash(filepath.Join(dir, "resolver"))}
		maps.Copy(block, object(r, "merge"))
		doc["resolver"] = block
	}
	maps.Copy(doc, object(cfg, "merge"))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return chartRaw.ReplaceAllString(chartInclude.ReplaceAllString(buf.String(), "include ${1};"), "${1}")
}

// includedFile is the file config.merge includes (the test of the values checks there is one).
func includedFile(values map[string]any) string {
	for k, v := range object(values, "config", "merge") {
		if strings.HasSuffix(k, "$include") {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// startChart boots nats-server from the chart's nats.conf for values, with the fragment as
// the file it includes.
func startChart(t *testing.T, values map[string]any, fragment string) (*server.Server, string) {
	t.Helper()
	dir := t.TempDir()
	name := includedFile(values)
	if name == "" {
		t.Fatal("the values include no file")
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(fragment), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := chartNATSConf(t, values, dir)
	if !strings.Contains(conf, "include "+name+";") {
		t.Fatalf("the chart's config does not include %s:\n%s", name, conf)
	}
	file := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &server.Options{}
	if err := opts.ProcessConfigFile(file); err != nil {
		t.Fatalf("nats-server rejects the chart's config: %v\n%s", err, conf)
	}
	opts.Host, opts.Port, opts.NoSigs, opts.NoLog = "127.0.0.1", -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return s, filepath.Join(dir, "resolver")
}

func render(t *testing.T, in serverconfig.Input) string {
	t.Helper()
	out, err := serverconfig.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Config
}

// The guide's arrangement: the chart's nats.conf, from nats-values.yaml as shipped, includes
// the fragment rendered with fragment = true and resolver = { type = "full", external = true }.
// The resolver in effect is the chart's (its dir, on the chart's PVC); the fragment's operator
// and preloaded system account work at once; other accounts are admitted once pushed.
func TestNATSChartIncludeLoadsTheRenderedTrust(t *testing.T) {
	t.Parallel()
	w := newTrust(t)
	w.in.Resolver = serverconfig.Resolver{Type: serverconfig.ResolverFull, External: true}
	s, chartDir := startChart(t, natsValues(t), render(t, w.in))
	if _, ok := s.AccountResolver().(*server.DirAccResolver); !ok {
		t.Fatalf("account resolver %T, want the chart's full resolver", s.AccountResolver())
	}
	if nc, err := natstest.ConnectUser(s.ClientURL(), w.userJWT, w.seed); err == nil {
		nc.Close()
		t.Fatal("an account that was neither pushed nor preloaded is admitted: the fragment preloaded more than the system account")
	}
	sys, err := natstest.ConnectUser(s.ClientURL(), w.sysUser, w.sysSeed)
	if err != nil {
		t.Fatalf("a system account user is refused; the fragment's preload did not reach the chart's resolver: %v", err)
	}
	defer sys.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := resolver.Push(ctx, sys, []string{w.appJWT}, resolver.Options{Servers: 1}); err != nil {
		t.Fatalf("push to the chart's resolver: %v", err)
	}
	pub, _ := jwt.DecodeAccountClaims(w.appJWT)
	if _, err := os.Stat(filepath.Join(chartDir, pub.Subject+".jwt")); err != nil {
		t.Errorf("the pushed account is not in the chart's resolver dir: %v", err)
	}
	nc, err := natstest.ConnectUser(s.ClientURL(), w.userJWT, w.seed)
	if err != nil {
		t.Fatalf("a user of the pushed account is refused: %v", err)
	}
	nc.Close()
}

// The guide's other arrangement: a memory resolver in the fragment and the chart's
// config.resolver disabled. Every account is in the fragment and admitted without a push.
func TestNATSChartMemoryResolverWithoutTheChartsResolver(t *testing.T) {
	t.Parallel()
	w := newTrust(t)
	w.in.Resolver = serverconfig.Resolver{Type: serverconfig.ResolverMemory}
	values := natsValues(t)
	object(values, "config", "resolver")["enabled"] = false
	s, _ := startChart(t, values, render(t, w.in))
	if _, ok := s.AccountResolver().(*server.MemAccResolver); !ok {
		t.Fatalf("account resolver %T, want the fragment's memory resolver", s.AccountResolver())
	}
	nc, err := natstest.ConnectUser(s.ClientURL(), w.userJWT, w.seed)
	if err != nil {
		t.Fatalf("a user of a preloaded account is refused: %v", err)
	}
	nc.Close()
}

// A key both the chart and the fragment set is the chart's: the include comes first ("0" and
// "$" sort before every key the chart writes) and in the NATS configuration format the last
// value of a key wins. A fragment that keeps its resolver block beside the chart's enabled
// config.resolver is overridden, which is why the guide renders it with external = true.
func TestNATSChartKeysOverrideTheIncludedFragment(t *testing.T) {
	t.Parallel()
	w := newTrust(t)
	w.in.Resolver = serverconfig.Resolver{Type: serverconfig.ResolverMemory}
	fragment := render(t, w.in)
	if !strings.Contains(fragment, "resolver: MEMORY") {
		t.Fatalf("want a fragment with its own resolver:\n%s", fragment)
	}
	s, _ := startChart(t, natsValues(t), fragment)
	if _, ok := s.AccountResolver().(*server.DirAccResolver); !ok {
		t.Fatalf("account resolver %T: the fragment's MEMORY resolver won over the chart's full one", s.AccountResolver())
	}
}

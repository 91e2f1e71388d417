package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

type trustWorld struct {
	in      serverconfig.Input
	appKP   nkeys.KeyPair
	userJWT string
	seed    string
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
	w := &trustWorld{appKP: appKP}
	w.in = serverconfig.Input{OperatorJWT: opJWT, Resolver: serverconfig.Resolver{Type: serverconfig.ResolverMemory}}
	for name, k := range map[string]nkeys.KeyPair{"SYS": sysKP, "APP": appKP} {
		pub, _ := k.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		s, err := ac.Encode(opSK)
		if err != nil {
			t.Fatal(err)
		}
		w.in.AccountJWTs = append(w.in.AccountJWTs, s)
	}
	ukp, upub := kp(nkeys.CreateUser)
	uc := jwt.NewUserClaims(upub)
	uc.IssuerAccount = appPub
	if w.userJWT, err = uc.Encode(appKP); err != nil {
		t.Fatal(err)
	}
	seed, _ := ukp.Seed()
	w.seed = string(seed)
	return w
}

// startChartStyle boots nats-server from a nats.conf shaped like the one the NATS Helm chart
// writes (its keys as sorted JSON, each `…$include` key turned into an include directive),
// with the rendered natsping configuration as the included file beside it.
func startChartStyle(t *testing.T, fragment string, chartKeys []string) (*server.Server, *server.Options) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "natsping.conf"), []byte(fragment), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := "{\n  include natsping.conf;\n  " + strings.Join(chartKeys, ",\n  ") + "\n}\n"
	file := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &server.Options{}
	if err := opts.ProcessConfigFile(file); err != nil {
		t.Fatalf("nats-server rejects the chart-style config: %v\n%s", err, conf)
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
	return s, opts
}

// The chart's nats.conf includes the configuration natsping renders: the servers trust the
// operator and admit its accounts' users.
func TestNATSChartIncludeLoadsTheRenderedTrust(t *testing.T) {
	t.Parallel()
	w := newTrust(t)
	out, err := serverconfig.Render(w.in)
	if err != nil {
		t.Fatal(err)
	}
	s, opts := startChartStyle(t, out.Config, []string{
		`"lame_duck_duration": "30s"`, `"lame_duck_grace_period": "10s"`, `"server_name": "nats-0"`,
	})
	if n := len(opts.TrustedOperators); n != 1 {
		t.Fatalf("the server trusts %d operators, want the included one", n)
	}
	nc, err := natstest.ConnectUser(s.ClientURL(), w.userJWT, w.seed)
	if err != nil {
		t.Fatalf("a user of the included account is refused: %v", err)
	}
	nc.Close()
}

// A key both the chart and the fragment set is the chart's: the chart writes its keys after
// the include (sorted after "00$include"), and in the NATS configuration format the last
// value of a key wins. This is why the guide gives the resolver block to the chart.
func TestNATSChartKeysOverrideTheIncludedFragment(t *testing.T) {
	t.Parallel()
	w := newTrust(t)
	out, err := serverconfig.Render(w.in) // resolver: MEMORY
	if err != nil {
		t.Fatal(err)
	}
	resolverDir := filepath.ToSlash(t.TempDir())
	s, _ := startChartStyle(t, out.Config, []string{
		`"resolver": {"dir": "` + resolverDir + `", "type": "full", "allow_delete": false, "interval": "2m", "timeout": "1.9s"}`,
		`"server_name": "nats-0"`,
	})
	if _, ok := s.AccountResolver().(*server.DirAccResolver); !ok {
		t.Fatalf("account resolver %T: the fragment's MEMORY resolver won over the chart's full one", s.AccountResolver())
	}
	// The fragment's preload still seeds the full resolver, so its accounts work at once.
	nc, err := natstest.ConnectUser(s.ClientURL(), w.userJWT, w.seed)
	if err != nil {
		t.Fatalf("a user of a preloaded account is refused: %v", err)
	}
	nc.Close()
}

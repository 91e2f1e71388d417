package serverconfig

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	strict := newFixture(t, 0, func(oc *jwt.OperatorClaims) { oc.StrictSigningKeyUsage = true })
	strictByIdentity := strict.input()
	strictByIdentity.AccountJWTs = append(strictByIdentity.AccountJWTs, func() string {
		kp := must(nkeys.CreateAccount())
		ac := jwt.NewAccountClaims(must(kp.PublicKey()))
		ac.Name = "LEGACY"
		return must(ac.Encode(strict.opKP))
	}())
	other := newFixture(t, 1)
	noSys := newFixture(t, 1, func(oc *jwt.OperatorClaims) { oc.SystemAccount = "" })
	sysSeed := string(must(f.accountKPs[0].Seed()))
	tampered := f.accountJWTs[1][:len(f.accountJWTs[1])-4] + "AAAA"
	foreignSentinel := other.sentinel
	unsignedSentinel := func() string {
		// A bearer user claiming account APP0 but signed by a key APP0 never granted.
		ukp := must(nkeys.CreateUser())
		uc := jwt.NewUserClaims(must(ukp.PublicKey()))
		uc.BearerToken = true
		uc.IssuerAccount = f.accounts[1]
		return must(uc.Encode(must(nkeys.CreateAccount())))
	}()

	tests := []struct {
		name      string
		in        func(*Input)
		field     string
		substring string
	}{
		{"operator missing", func(in *Input) { in.OperatorJWT = "" }, "operator_jwt", "is empty"},
		{"operator not a JWT", func(in *Input) { in.OperatorJWT = "SOABC" }, "operator_jwt", "is not a JWT"},
		{"account JWT as operator", func(in *Input) { in.OperatorJWT = f.sysJWT }, "operator_jwt", "is an account JWT (subject " + f.sys},
		{"system account is a seed", func(in *Input) { in.SystemAccount = sysSeed }, "system_account", "this is a seed"},
		{"system account differs from operator's", func(in *Input) { in.SystemAccount = f.accounts[1] }, "system_account", "requires them to be identical"},
		{"no system account anywhere", func(in *Input) { *in = noSys.input(); in.SystemAccount = "" }, "system_account", "names no system account"},
		{"no accounts", func(in *Input) { in.AccountJWTs = nil }, "account_jwts", "is empty"},
		{"user JWT among accounts", func(in *Input) { in.AccountJWTs = append(in.AccountJWTs, f.sentinel) }, "account_jwts", "element 4 is a user JWT"},
		{"tampered account", func(in *Input) { in.AccountJWTs[1] = tampered }, "account_jwts", "element 2 is not a valid account JWT"},
		{"duplicate account", func(in *Input) { in.AccountJWTs = append(in.AccountJWTs, in.AccountJWTs[2]) }, "account_jwts", f.accounts[2] + " (\"APP1\") is listed more than once"},
		{"account of another operator", func(in *Input) { in.AccountJWTs = append(in.AccountJWTs, other.accountJWTs[1]) }, "account_jwts", "neither operator \"ACME\""},
		{"strict operator, identity-signed account", func(in *Input) { *in = strictByIdentity }, "account_jwts", "strict_signing_key_usage"},
		{"system account JWT missing", func(in *Input) { in.AccountJWTs = in.AccountJWTs[1:] }, "account_jwts", "system account " + f.sys + " is not among"},
		{"unknown resolver type", func(in *Input) { in.Resolver.Type = "url" }, "resolver.type", `"url" is not a resolver type; use one of memory, full, cache`},
		{"ttl on full", func(in *Input) { in.Resolver = Resolver{Type: ResolverFull, TTL: "1h"} }, "resolver.ttl", "not supported by the full resolver (only by cache)"},
		{"interval on cache", func(in *Input) { in.Resolver = Resolver{Type: ResolverCache, Interval: "2m"} }, "resolver.interval", "not supported by the cache resolver"},
		{"allow_delete on cache", func(in *Input) { in.Resolver = Resolver{Type: ResolverCache, AllowDelete: true} }, "resolver.allow_delete", "only by full"},
		{"dir on memory", func(in *Input) { in.Resolver = Resolver{Dir: "/x"} }, "resolver.dir", "not supported by the memory resolver (only by full and cache)"},
		{"timeout not a duration", func(in *Input) { in.Resolver = Resolver{Type: ResolverFull, Timeout: "fast"} }, "resolver.timeout", `"fast" is not a positive Go duration`},
		{"negative interval", func(in *Input) { in.Resolver = Resolver{Type: ResolverFull, Interval: "-1s"} }, "resolver.interval", "positive"},
		{"negative limit", func(in *Input) { in.Resolver = Resolver{Type: ResolverFull, Limit: -1} }, "resolver.limit", "negative"},
		{"sentinel not bearer", func(in *Input) { in.DefaultSentinel = f.user(t, 1, false) }, "default_sentinel", "not a bearer token"},
		{"sentinel is an account JWT", func(in *Input) { in.DefaultSentinel = f.sysJWT }, "default_sentinel", "is an account JWT"},
		{"sentinel of an unlisted account", func(in *Input) { in.DefaultSentinel = foreignSentinel }, "default_sentinel", "not among account_jwts"},
		{"sentinel signed by a stranger", func(in *Input) { in.DefaultSentinel = unsignedSentinel }, "default_sentinel", "neither account " + f.accounts[1]},
		{"port out of range", func(in *Input) { in.Listen.Port = 70000 }, "listen.port", "70000 is not a port"},
		{"host with space", func(in *Input) { in.Listen.Host = "0.0.0.0 " }, "listen.host", "whitespace"},
		{"server name with space", func(in *Input) { in.ServerName = "my server" }, "server_name", `use e.g. "my-server"`},
		{"size with unit the server rejects", func(in *Input) { in.JetStream = &JetStream{MaxMemory: "1GB"} }, "jetstream.max_memory", `"1GB" is not a size`},
		{"size overflowing int64", func(in *Input) { in.JetStream = &JetStream{MaxFile: "99999999999999999999"} }, "jetstream.max_file", "is not a size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := f.input()
			tt.in(&in)
			out, err := Render(in)
			if err == nil {
				t.Fatalf("Render accepted the input:\n%s", out.Config)
			}
			fes := AsFieldErrors(err)
			if fes == nil {
				t.Fatalf("error is not a FieldErrors: %v", err)
			}
			for _, fe := range fes {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.substring) {
					return
				}
			}
			t.Fatalf("want an error on %s containing %q, got: %v", tt.field, tt.substring, err)
		})
	}
}

func TestRenderReportsAllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	in := f.input()
	in.Resolver = Resolver{Type: ResolverCache, Interval: "2m", Timeout: "soon"}
	in.Listen.Port = -5
	in.AccountJWTs = append(in.AccountJWTs, "garbage")
	_, err := Render(in)
	fields := map[string]bool{}
	for _, fe := range AsFieldErrors(err) {
		fields[fe.Field] = true
	}
	for _, want := range []string{"resolver.interval", "resolver.timeout", "listen.port", "account_jwts"} {
		if !fields[want] {
			t.Errorf("no error reported for %s; got %v", want, err)
		}
	}
}

func TestValidateSettingsAcceptsDefaults(t *testing.T) {
	t.Parallel()
	tests := []Input{
		{},
		{Resolver: Resolver{Type: ResolverFull, Dir: "/d", AllowDelete: true, Interval: "1m", Timeout: "2s", Limit: 10}},
		{Resolver: Resolver{Type: ResolverCache, Dir: "/d", TTL: "10m", Timeout: "2s", Limit: 10}},
		{Listen: Listen{Host: "::", Port: -1}, ServerName: "n-1", JetStream: &JetStream{MaxMemory: "512M", MaxFile: "10"}},
	}
	for _, in := range tests {
		if errs := ValidateSettings(in); len(errs) > 0 {
			t.Errorf("%+v: unexpected errors %v", in, errs)
		}
	}
}

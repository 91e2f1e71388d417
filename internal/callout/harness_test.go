package callout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// testAccount is a target account with its roles (scoped signing keys).
type testAccount struct {
	name  string
	pub   string
	kp    nkeys.KeyPair
	roles map[string]string // role name -> scoped signing key seed
}

// natsEnv is a real nats-server in operator mode with a callout account, as the provider
// renders it: the callout account's authorization block (auth_users, allowed_accounts and
// optionally an xkey), a default sentinel, and target accounts whose roles are scoped
// signing keys with permission templates.
type natsEnv struct {
	t        testing.TB
	srv      *server.Server
	url      string
	operator nkeys.KeyPair

	calloutPub, calloutSeed string
	serviceCreds            string // the callout service user (in auth_users)
	xkeyPub, xkeySeed       string // set when the account JWT carries an xkey
	orders, billing         *testAccount
	staticCreds             string // an ordinary ORDERS user, for connect baselines
}

type envOptions struct {
	xkey bool
	// omitXKeyFromAccount creates an xkey for the service but leaves it out of the
	// account JWT, so the server sends plaintext requests.
	omitXKeyFromAccount bool
}

// must is for harness steps that only fail on a broken environment (key generation,
// encoding fixed claims); the panic names the error.
func must[T any](v T, err error) T {
	if err != nil {
		panic("test harness: " + err.Error())
	}
	return v
}

func newKP(t testing.TB, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string, string) {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	return kp, must(kp.PublicKey()), string(must(kp.Seed()))
}

func newNATSEnv(t testing.TB, o envOptions) *natsEnv {
	t.Helper()
	e := &natsEnv{t: t}
	okp, opub, _ := newKP(t, nkeys.CreateOperator)
	e.operator = okp
	skp, spub, _ := newKP(t, nkeys.CreateAccount)
	_ = skp
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "test-operator"
	oc.SystemAccount = spub
	ojwt := must(oc.Encode(okp))
	oclaims := must(jwt.DecodeOperatorClaims(ojwt))

	resolver := &server.MemAccResolver{}
	store := func(ac *jwt.AccountClaims) {
		t.Helper()
		if err := resolver.Store(ac.Subject, must(ac.Encode(okp))); err != nil {
			t.Fatal(err)
		}
	}
	sys := jwt.NewAccountClaims(spub)
	sys.Name = "SYS"
	store(sys)

	e.orders = e.targetAccount("ORDERS", map[string]func(*jwt.UserScope){
		"reader": func(s *jwt.UserScope) {
			s.Template.Sub.Allow.Add("orders.>", "_INBOX.>")
			s.Template.Pub.Deny.Add(">")
		},
		"writer": func(s *jwt.UserScope) {
			s.Template.Sub.Allow.Add("orders.>", "_INBOX.>")
			s.Template.Pub.Allow.Add("orders.{{tag(team)}}.>", "_INBOX.>")
		},
	}, store)
	e.billing = e.targetAccount("BILLING", map[string]func(*jwt.UserScope){
		"reader": func(s *jwt.UserScope) {
			s.Template.Sub.Allow.Add("billing.>", "_INBOX.>")
			s.Template.Pub.Deny.Add(">")
		},
	}, store)

	ckp, cpub, cseed := newKP(t, nkeys.CreateAccount)
	e.calloutPub, e.calloutSeed = cpub, cseed
	svcKP, svcPub, svcSeed := newKP(t, nkeys.CreateUser)
	_ = svcKP
	svc := jwt.NewUserClaims(svcPub)
	svc.Name = "natsping-callout"
	e.serviceCreds = string(must(jwt.FormatUserConfig(must(svc.Encode(ckp)), []byte(svcSeed))))

	ca := jwt.NewAccountClaims(cpub)
	ca.Name = "CALLOUT"
	ca.EnableExternalAuthorization(svcPub)
	ca.Authorization.AllowedAccounts.Add(e.orders.pub, e.billing.pub)
	if o.xkey || o.omitXKeyFromAccount {
		_, xpub, xseed := newKP(t, nkeys.CreateCurveKeys)
		e.xkeyPub, e.xkeySeed = xpub, xseed
		if !o.omitXKeyFromAccount {
			ca.Authorization.XKey = xpub
		}
	}
	store(ca)

	_, sentPub, _ := newKP(t, nkeys.CreateUser)
	sentinel := jwt.NewUserClaims(sentPub)
	sentinel.Name = "sentinel"
	sentinel.BearerToken = true
	sentinel.Pub.Deny.Add(">")
	sentinel.Sub.Deny.Add(">")
	sentinelJWT := must(sentinel.Encode(ckp))

	_, stPub, stSeed := newKP(t, nkeys.CreateUser)
	st := jwt.NewUserClaims(stPub)
	st.Name = "static"
	e.staticCreds = string(must(jwt.FormatUserConfig(must(st.Encode(e.orders.kp)), []byte(stSeed))))

	opts := &server.Options{
		Host:             "127.0.0.1",
		Port:             -1,
		NoLog:            true,
		NoSigs:           true,
		TrustedOperators: []*jwt.OperatorClaims{oclaims},
		SystemAccount:    spub,
		AccountResolver:  resolver,
		DefaultSentinel:  sentinelJWT,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(srv.Shutdown)
	e.srv, e.url = srv, srv.ClientURL()
	return e
}

func (e *natsEnv) targetAccount(name string, roles map[string]func(*jwt.UserScope), store func(*jwt.AccountClaims)) *testAccount {
	t := e.t
	kp, pub, _ := newKP(t, nkeys.CreateAccount)
	a := &testAccount{name: name, pub: pub, kp: kp, roles: map[string]string{}}
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	for role, shape := range roles {
		_, rpub, rseed := newKP(t, nkeys.CreateAccount)
		scope := jwt.NewUserScope()
		scope.Key, scope.Role = rpub, role
		shape(scope)
		ac.SigningKeys.AddScopedSigner(scope)
		a.roles[role] = rseed
	}
	store(ac)
	return a
}

// mapping returns a document mapping for one role of a target account.
func (a *testAccount) mapping(name, role string, priority int, groups ...string) calloutconfig.Mapping {
	m := calloutconfig.Mapping{
		Name: name, Priority: priority, Account: a.pub, AccountName: a.name, Role: role,
		RoleSigningKey: seedPublicKey(a.roles[role]), RoleSigningKeySeed: a.roles[role],
		MaxSession: calloutconfig.Duration(8 * time.Hour),
	}
	for _, g := range groups {
		m.Groups = append(m.Groups, calloutconfig.Group{Name: g})
	}
	return m
}

// doc renders a callout document for this environment and issuer.
func (e *natsEnv) doc(iss calloutconfig.Issuer, mappings ...calloutconfig.Mapping) *calloutconfig.Document {
	return &calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer:  iss,
		NATS: calloutconfig.NATS{
			URLs:               []string{e.url},
			CalloutAccount:     e.calloutPub,
			CalloutAccountSeed: e.calloutSeed,
			Creds:              e.serviceCreds,
			XKeySeed:           e.xkeySeed,
			QueueGroup:         "natsping-callout",
		},
		Mappings: mappings,
	}
}

// issuerFor is the issuer section for a pingonetest issuer, as a trust would render it.
func issuerFor(p *pingonetest.Server) calloutconfig.Issuer {
	return calloutconfig.Issuer{
		URL:                    p.Issuer(),
		Audiences:              []string{pingonetest.APIAudience},
		Algorithms:             []string{"RS256"},
		MaxTokenLifetime:       calloutconfig.Duration(2 * time.Hour),
		ClockSkew:              calloutconfig.Duration(30 * time.Second),
		RequiredScopes:         []string{"openid"},
		ForbiddenScopes:        []string{"p1:admin"},
		GroupsClaim:            "groups",
		NameClaims:             []string{"name", "preferred_username"},
		JWKSURL:                p.JWKSURL(),
		CABundlePEM:            string(p.CAPEM()),
		JWKSMinRefreshInterval: calloutconfig.Duration(calloutconfig.JWKSRefreshBounds.Min),
	}
}

// seedPublicKey is the public key of an nkey seed, or "" for a broken one (which the
// document's validation then reports).
func seedPublicKey(seed string) string {
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return ""
	}
	pub, _ := kp.PublicKey()
	return pub
}

// auditSink collects audit lines in memory.
type auditSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *auditSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *auditSink) raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *auditSink) records(t testing.TB) []AuditRecord {
	t.Helper()
	var out []AuditRecord
	sc := bufio.NewScanner(strings.NewReader(s.raw()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, r)
	}
	return out
}

// waitRecord returns the audit line for a token, waiting for the asynchronous writer.
func (s *auditSink) waitRecord(t testing.TB, token string) AuditRecord {
	t.Helper()
	hash := oidc.TokenHash(token)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range s.records(t) {
			if r.TokenSHA256 == hash {
				return r
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no audit line for token %s…; audit so far:\n%s", hash[:12], s.raw())
	return AuditRecord{}
}

// startService runs a callout service on doc and stops it at the end of the test.
func startService(t testing.TB, doc *calloutconfig.Document, opts Options) (*Service, *auditSink) {
	t.Helper()
	sink := &auditSink{}
	if opts.AuditWriter == nil {
		opts.AuditWriter = sink
	}
	s, err := New(doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	deadline := time.Now().Add(10 * time.Second)
	for s.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("service not ready: %v", s.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s, sink
}

// connectToken connects a client that holds only a Ping token; user, when set, names the
// account (the token then travels as the password).
func (e *natsEnv) connectToken(token, user string, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{nats.MaxReconnects(0), nats.Timeout(5 * time.Second)}
	if user != "" {
		opts = append(opts, nats.UserInfo(user, token))
	} else {
		opts = append(opts, nats.Token(token))
	}
	return nats.Connect(e.url, append(opts, extra...)...)
}

package liveimpact_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/liveimpact"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// operator is a strict-signing-key operator with its system account and one system user, the
// shape natsping_operator builds.
type operator struct {
	identity, signer nkeys.KeyPair
	claims           *jwt.OperatorClaims
	jwt              string
	sysJWT, sysCreds string
}

func newKey(t testing.TB, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return kp, pub
}

func encode(t testing.TB, c interface {
	Encode(nkeys.KeyPair) (string, error)
}, kp nkeys.KeyPair) string {
	t.Helper()
	token, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func newOperator(t testing.TB) *operator {
	t.Helper()
	o := &operator{}
	var opPub, skPub string
	o.identity, opPub = newKey(t, nkeys.CreateOperator)
	o.signer, skPub = newKey(t, nkeys.CreateOperator)
	_, sysPub := newKey(t, nkeys.CreateAccount)
	sysSK, sysSKPub := newKey(t, nkeys.CreateAccount)
	o.claims = jwt.NewOperatorClaims(opPub)
	o.claims.Name = "acme"
	o.claims.StrictSigningKeyUsage = true
	o.claims.SigningKeys.Add(skPub)
	o.claims.SystemAccount = sysPub
	o.jwt = encode(t, o.claims, o.identity)
	sys := jwt.NewAccountClaims(sysPub)
	sys.Name = "SYS"
	sys.SigningKeys.Add(sysSKPub) // strict signing keys: users are signed by a signing key too
	o.sysJWT = encode(t, sys, o.signer)
	userKP, userPub := newKey(t, nkeys.CreateUser)
	uc := jwt.NewUserClaims(userPub)
	uc.Name = "sys"
	uc.IssuerAccount = sysPub
	seed, _ := userKP.Seed()
	creds, err := natstest.Creds(encode(t, uc, sysSK), string(seed))
	if err != nil {
		t.Fatal(err)
	}
	o.sysCreds = creds
	return o
}

// signerSigner is the operator signing key as natsjwt's signer, for delete requests.
func (o *operator) signerSigner(t testing.TB) *natsjwt.Signer {
	t.Helper()
	seed, err := o.signer.Seed()
	if err != nil {
		t.Fatal(err)
	}
	s, err := natsjwt.NewSigner(o.claims.Subject, "", string(seed), natsjwt.KindOperator)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rotated returns the operator JWT after a signing-key rotation with a grace period: a new
// signing key is listed next to the current one.
func (o *operator) rotated(t testing.TB) (string, *jwt.OperatorClaims, nkeys.KeyPair) {
	t.Helper()
	next, nextPub := newKey(t, nkeys.CreateOperator)
	c := *o.claims
	c.SigningKeys = append(jwt.StringList(nil), o.claims.SigningKeys...)
	c.SigningKeys.Add(nextPub)
	return encode(t, &c, o.identity), &c, next
}

// account is an account with two unscoped signing keys (one for a static service user, one
// for a bearer user) and two roles; every user of the fixture is signed by one of them.
type account struct {
	pub            string
	svcKP, bearKP  nkeys.KeyPair
	svcPub, bearPB string
	roles          map[string]nkeys.KeyPair
	rolePubs       map[string]string
}

func newAccount(t testing.TB) *account {
	t.Helper()
	a := &account{roles: map[string]nkeys.KeyPair{}, rolePubs: map[string]string{}}
	_, a.pub = newKey(t, nkeys.CreateAccount)
	a.svcKP, a.svcPub = newKey(t, nkeys.CreateAccount)
	a.bearKP, a.bearPB = newKey(t, nkeys.CreateAccount)
	for _, r := range []string{"reader", "writer"} {
		a.roles[r], a.rolePubs[r] = newKey(t, nkeys.CreateAccount)
	}
	return a
}

// claims is the account as first deployed: readers may publish orders.read.>, writers orders.>.
func (a *account) claims() *jwt.AccountClaims {
	c := jwt.NewAccountClaims(a.pub)
	c.Name = "ORDERS"
	c.SigningKeys.Add(a.svcPub, a.bearPB)
	for role, subject := range map[string]string{"reader": "orders.read.>", "writer": "orders.>"} {
		s := jwt.NewUserScope()
		s.Key, s.Role, s.Description = a.rolePubs[role], role, "the "+role+" role"
		s.Template.Pub.Allow.Add(subject)
		s.Template.Sub.Allow.Add("_INBOX.>")
		c.SigningKeys.AddScopedSigner(s)
	}
	return c
}

func scope(c *jwt.AccountClaims, key string) *jwt.UserScope {
	return c.SigningKeys[key].(*jwt.UserScope)
}

// live is one connection of the fixture and what the server knows about its user.
type live struct {
	name        string
	user        liveimpact.User
	token, seed string
	nc          *nats.Conn
	closed      chan struct{}
}

// reconnect tries the same user JWT again, as a client's reconnect would.
func (l *live) reconnect(url string) error {
	nc, err := natstest.ConnectUser(url, l.token, l.seed)
	if err == nil {
		nc.Close()
	}
	return err
}

// connect signs a user with key (scoped users carry no permissions; the role's template
// applies) and connects it.
func (a *account) connect(t testing.TB, url, name string, key nkeys.KeyPair, scoped, bearer bool) *live {
	t.Helper()
	userKP, userPub := newKey(t, nkeys.CreateUser)
	uc := jwt.NewUserClaims(userPub)
	uc.Name = name
	uc.IssuerAccount = a.pub
	uc.BearerToken = bearer
	if scoped {
		uc.SetScoped(true)
	}
	token := encode(t, uc, key)
	signingPub, _ := key.PublicKey()
	seed, _ := userKP.Seed()
	l := &live{name: name, closed: make(chan struct{}), token: token, seed: string(seed),
		user: liveimpact.User{PublicKey: userPub, SigningKey: signingPub, IssuedAt: uc.IssuedAt, Bearer: bearer}}
	nc, err := natstest.ConnectUser(url, token, string(seed),
		nats.ClosedHandler(func(*nats.Conn) { close(l.closed) }), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connecting %s: %v", name, err)
	}
	t.Cleanup(nc.Close)
	l.nc = nc
	return l
}

// connectAll connects the fixture's users in a fixed order (the connection limit case
// depends on it): two readers, a writer, a static service user and a bearer user.
func (a *account) connectAll(t testing.TB, url string) []*live {
	t.Helper()
	return []*live{
		a.connect(t, url, "reader-1", a.roles["reader"], true, false),
		a.connect(t, url, "reader-2", a.roles["reader"], true, false),
		a.connect(t, url, "writer", a.roles["writer"], true, false),
		a.connect(t, url, "service", a.svcKP, false, false),
		a.connect(t, url, "bearer", a.bearKP, false, true),
	}
}

// checkClosed waits until exactly the connections in want are closed by the server and the
// others still answer a round trip.
func checkClosed(t testing.TB, conns []*live, want map[string]bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for _, c := range conns {
		if !want[c.name] {
			continue
		}
		select {
		case <-c.closed:
		case <-deadline:
			t.Fatalf("%s was expected to be disconnected and is not", c.name)
		}
	}
	for _, c := range conns {
		if want[c.name] {
			continue
		}
		if err := c.nc.FlushTimeout(2 * time.Second); err != nil {
			t.Errorf("%s was expected to stay connected: %v", c.name, err)
		}
		select {
		case <-c.closed:
			t.Errorf("%s was disconnected but should not have been", c.name)
		default:
		}
	}
}

// predicted lists the connections the findings say the server closes.
func predicted(findings []liveimpact.Finding, conns []*live) map[string]bool {
	out := map[string]bool{}
	for _, c := range conns {
		for _, f := range findings {
			if f.Closes(c.user) {
				out[c.name] = true
			}
		}
	}
	return out
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is an embedded nats-server started from a rendered config, which a test can rewrite
// and reload the way an operator edits the file and sends SIGHUP.
type server struct {
	*natstest.Server
	port int
}

func render(t testing.TB, in serverconfig.Input) string {
	t.Helper()
	out, err := serverconfig.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Config
}

// startMemory starts a MEMORY-resolver server preloading accounts.
func startMemory(t testing.TB, op *operator, accounts ...string) *server {
	t.Helper()
	port := freePort(t)
	cfg := render(t, memoryInput(op.jwt, port, op.sysJWT, accounts...))
	return &server{Server: natstest.StartServer(t, cfg, natstest.WithListen("127.0.0.1", port)), port: port}
}

func memoryInput(operatorJWT string, port int, sysJWT string, accounts ...string) serverconfig.Input {
	return serverconfig.Input{
		OperatorJWT: operatorJWT,
		AccountJWTs: append([]string{sysJWT}, accounts...),
		Resolver:    serverconfig.Resolver{Type: serverconfig.ResolverMemory},
		Listen:      serverconfig.Listen{Host: "127.0.0.1", Port: port},
	}
}

// reload rewrites the config file and reloads it, as `nats-server --signal reload` does.
func (s *server) reload(t testing.TB, config string) error {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.Dir, natstest.ConfigFileName), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return s.Reload()
}

// startFull starts a full-resolver server seeded with accounts.
func startFull(t testing.TB, op *operator, accounts map[string]string) *natstest.Server {
	t.Helper()
	return startFullResolver(t, op, accounts, false)
}

// startFullDeletes is startFull with allow_delete.
func startFullDeletes(t testing.TB, op *operator, accounts map[string]string) *natstest.Server {
	t.Helper()
	return startFullResolver(t, op, accounts, true)
}

func startFullResolver(t testing.TB, op *operator, accounts map[string]string, allowDelete bool) *natstest.Server {
	t.Helper()
	cfg := render(t, serverconfig.Input{
		OperatorJWT: op.jwt,
		AccountJWTs: []string{op.sysJWT},
		Resolver:    serverconfig.Resolver{Type: serverconfig.ResolverFull, Dir: "jwt", AllowDelete: allowDelete},
	})
	files := map[string]string{}
	for pub, token := range accounts {
		files[pub+".jwt"] = token
	}
	return natstest.StartServer(t, cfg, natstest.WithResolverFiles(files))
}

// push sends account JWTs the way natsping_resolver_push does.
func push(t testing.TB, url, sysCreds string, tokens ...string) (resolver.Report, error) {
	t.Helper()
	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{url}, Creds: sysCreds})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	return resolver.Push(context.Background(), nc, tokens, resolver.Options{Servers: 1})
}

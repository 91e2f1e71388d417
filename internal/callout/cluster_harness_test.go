package callout

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/oauth2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// clusterEnv is a 3-node cluster booted from the configs natsping renders for it (one
// rendered config per node, full resolver, default sentinel, JetStream, a leafnode listener),
// a PingOne-shaped issuer, and the keys to run callout replicas and build leaf nodes.
type clusterEnv struct {
	t     testing.TB
	idp   *pingonetest.Server
	nodes []*natstest.Node
	out   *serverconfig.Output
	in    serverconfig.Input

	operator                nkeys.KeyPair
	sysKP                   nkeys.KeyPair
	sysCreds                string
	calloutKP               nkeys.KeyPair
	callout                 *jwt.AccountClaims // the callout account as pushed, for re-issuing it
	calloutPub, calloutSeed string
	serviceCreds            string
	xkeySeed                string
	sentinelJWT             string
	orders                  *testAccount
	ordersJWT               string
	staticCreds             string // an ordinary ORDERS user
	leafPorts               []int  // each node's leafnode listener
}

// clusterNodes names the nodes; natstest.StartCluster returns them in this (sorted) order.
var clusterNodes = []string{"nats-a", "nats-b", "nats-c"}

// newClusterEnv renders and boots the cluster; adjust changes the rendered input first.
func newClusterEnv(t testing.TB, adjust ...func(*serverconfig.Input)) *clusterEnv {
	t.Helper()
	c := &clusterEnv{t: t, idp: pingonetest.New(pingonetest.Options{})}
	t.Cleanup(c.idp.Close)
	okp, opub, _ := newKP(t, nkeys.CreateOperator)
	c.operator = okp
	skp, spub, _ := newKP(t, nkeys.CreateAccount)
	c.sysKP = skp
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "cluster-operator"
	oc.SystemAccount = spub
	operatorJWT := must(oc.Encode(okp))
	sys := jwt.NewAccountClaims(spub)
	sys.Name = "SYS"
	_, suPub, suSeed := newKP(t, nkeys.CreateUser)
	su := jwt.NewUserClaims(suPub)
	su.Name = "sys"
	c.sysCreds = string(must(jwt.FormatUserConfig(must(su.Encode(skp)), []byte(suSeed))))

	var accountJWTs []string
	collect := func(ac *jwt.AccountClaims) {
		token := must(ac.Encode(okp))
		accountJWTs = append(accountJWTs, token)
		if ac.Name == "ORDERS" {
			c.ordersJWT = token
		}
	}
	collect(sys)
	c.orders = (&natsEnv{t: t}).targetAccount("ORDERS", map[string]func(*jwt.UserScope){
		"reader": func(s *jwt.UserScope) {
			s.Template.Sub.Allow.Add("orders.>", "_INBOX.>")
			s.Template.Pub.Deny.Add(">")
		},
		"writer": func(s *jwt.UserScope) {
			s.Template.Sub.Allow.Add("orders.>", "_INBOX.>")
			s.Template.Pub.Allow.Add("orders.>", "_INBOX.>")
		},
	}, collect)

	ckp, cpub, cseed := newKP(t, nkeys.CreateAccount)
	c.calloutKP, c.calloutPub, c.calloutSeed = ckp, cpub, cseed
	_, svcPub, svcSeed := newKP(t, nkeys.CreateUser)
	svc := jwt.NewUserClaims(svcPub)
	svc.Name = "natsping-callout"
	c.serviceCreds = string(must(jwt.FormatUserConfig(must(svc.Encode(ckp)), []byte(svcSeed))))
	_, xpub, xseed := newKP(t, nkeys.CreateCurveKeys)
	c.xkeySeed = xseed
	c.callout = jwt.NewAccountClaims(cpub)
	c.callout.Name = "CALLOUT"
	c.callout.EnableExternalAuthorization(svcPub)
	c.callout.Authorization.AllowedAccounts.Add(c.orders.pub)
	c.callout.Authorization.XKey = xpub
	collect(c.callout)

	_, sentPub, _ := newKP(t, nkeys.CreateUser)
	sentinel := jwt.NewUserClaims(sentPub)
	sentinel.Name = "sentinel"
	sentinel.BearerToken = true
	sentinel.Pub.Deny.Add(">")
	sentinel.Sub.Deny.Add(">")
	c.sentinelJWT = must(sentinel.Encode(ckp))

	_, stPub, stSeed := newKP(t, nkeys.CreateUser)
	st := jwt.NewUserClaims(stPub)
	st.Name = "static"
	c.staticCreds = string(must(jwt.FormatUserConfig(must(st.Encode(c.orders.kp)), []byte(stSeed))))

	ports := natstest.FreePorts(t, 3*len(clusterNodes))
	var nodes []serverconfig.Node
	for i, name := range clusterNodes {
		nodes = append(nodes, serverconfig.Node{ServerName: name, Host: "127.0.0.1",
			ClientPort: ports[3*i], ClusterPort: ports[3*i+1], LeafNodePort: ports[3*i+2]})
		c.leafPorts = append(c.leafPorts, ports[3*i+2])
	}
	c.in = serverconfig.Input{
		OperatorJWT:     operatorJWT,
		AccountJWTs:     accountJWTs,
		Resolver:        serverconfig.Resolver{Type: serverconfig.ResolverFull},
		DefaultSentinel: c.sentinelJWT,
		Listen:          serverconfig.Listen{Host: "127.0.0.1"},
		Cluster:         &serverconfig.Cluster{Name: "east", Host: "127.0.0.1"},
		LeafNodes:       &serverconfig.LeafNodes{Host: "127.0.0.1"},
		JetStream:       &serverconfig.JetStream{MaxMemory: "64M", MaxFile: "256M"},
		Nodes:           nodes,
	}
	for _, f := range adjust {
		f(&c.in)
	}
	out, err := serverconfig.Render(c.in)
	if err != nil {
		t.Fatal(err)
	}
	c.out = out
	c.nodes = natstest.StartCluster(t, out.NodeConfigs, natstest.WithResolverFiles(out.ResolverFiles))
	return c
}

// urls are the client URLs of every node, as a client of the cluster lists them.
func (c *clusterEnv) urls() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.URL())
	}
	return out
}

func (c *clusterEnv) mappings() []calloutconfig.Mapping {
	return []calloutconfig.Mapping{
		c.orders.mapping("orders-readers", "reader", 0, "order-readers"),
		c.orders.mapping("orders-writers", "writer", 10, "order-writers"),
	}
}

// doc is the callout document for a replica attached to the given node.
func (c *clusterEnv) doc(node int, mappings ...calloutconfig.Mapping) *calloutconfig.Document {
	if len(mappings) == 0 {
		mappings = c.mappings()
	}
	return &calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer:  issuerFor(c.idp),
		NATS: calloutconfig.NATS{
			URLs:               []string{c.nodes[node].URL()},
			CalloutAccount:     c.calloutPub,
			CalloutAccountSeed: c.calloutSeed,
			Creds:              c.serviceCreds,
			XKeySeed:           c.xkeySeed,
			QueueGroup:         "natsping-callout",
		},
		Mappings: mappings,
	}
}

// replica starts a callout replica attached to one node (its configured URL); it learns
// the other nodes from the cluster and reconnects to them if its node goes away.
func (c *clusterEnv) replica(t testing.TB, name string, node int, audit io.Writer) *Service {
	t.Helper()
	if audit == nil {
		audit = io.Discard
	}
	s, _ := startService(t, c.doc(node), Options{Name: name, AuditWriter: audit})
	return s
}

// heldVerifier admits every token as a reader; once armed it holds each verification until
// the test ends, so a replica can be killed with a known number of requests in hand.
type heldVerifier struct {
	armed   atomic.Bool
	held    atomic.Int32
	release chan struct{}
}

func newHeldVerifier(t testing.TB) *heldVerifier {
	v := &heldVerifier{release: make(chan struct{})}
	t.Cleanup(func() { close(v.release) })
	return v
}

func (v *heldVerifier) Verify(ctx context.Context, raw string) (*oidc.Identity, error) {
	if v.armed.Load() {
		v.held.Add(1)
		select {
		case <-v.release:
		case <-ctx.Done():
		}
		return nil, errors.New("held until the test ended")
	}
	id := identity("alice", "order-readers")
	id.IssuedAt, id.Expiry = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	id.TokenHash = oidc.TokenHash(raw)
	return id, nil
}

// heldReplica is a replica on node whose decisions v can hold.
func (c *clusterEnv) heldReplica(t testing.TB, name string, node int, v *heldVerifier) *Service {
	t.Helper()
	s, _ := startService(t, c.doc(node), Options{Name: name, AuditWriter: io.Discard,
		NewVerifier: func(calloutconfig.Issuer) (Verifier, error) { return v, nil }})
	return s
}

// token issues a Ping token for a person in the given groups; n makes it distinct.
func (c *clusterEnv) token(n int, groups ...string) string {
	return c.idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Extra: map[string]any{"n": n}})
}

// connectOnce connects to exactly one node, with no other server to fall back on: a lost
// authorization request shows as a refusal instead of being hidden by nats.go's walk of the
// server pool. The handshake timeout is above the server's auth timeout (as natspingclient
// sets it), so the server's verdict is what the client reports.
func connectOnce(url, token string, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{nats.Token(token), nats.MaxReconnects(0), nats.IgnoreDiscoveredServers(),
		nats.Timeout(natspingclient.DefaultConnectTimeout)}
	return nats.Connect(url, append(opts, extra...)...)
}

// source is a natspingclient Source handing out one fixed token.
func source(t testing.TB, token string, o natspingclient.Options) *natspingclient.Source {
	t.Helper()
	s, err := natspingclient.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// kill ends a replica the way a crash does: its connections close at once, without
// unsubscribing first or answering what they hold.
func (s *Service) kill() {
	if p := s.links.Load(); p != nil {
		for _, l := range *p {
			l.nc.Close()
		}
	}
}

// writeFile writes content into the test's temp dir and returns the path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// requestsOf counts the authorization requests a replica has received.
func requestsOf(s *Service) int {
	n := 0
	for _, st := range s.Stats() {
		for _, ep := range st.Endpoints {
			n += ep.NumRequests
		}
	}
	return n
}

func waitUntilCtx(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := waitUntil(ctx, cond); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// natsConnWithErrs is a connection whose asynchronous errors (permission violations) are kept.
type natsConnWithErrs struct {
	nc   *nats.Conn
	errs chan error
}

func connectWithErrs(url, token string) (*natsConnWithErrs, error) {
	c := &natsConnWithErrs{errs: make(chan error, 16)}
	nc, err := connectOnce(url, token, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case c.errs <- err:
		default:
		}
	}))
	if err != nil {
		return nil, err
	}
	c.nc = nc
	return c, nil
}

// expectDenied publishes on subject and waits for the server's permissions violation.
func (c *natsConnWithErrs) expectDenied(t testing.TB, subject string) {
	t.Helper()
	if err := c.nc.Publish(subject, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("publish on %s: %v, want a permissions violation", subject, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("publish on %s was not denied", subject)
	}
}

package offboard_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// world is a 3-node cluster in operator mode with JetStream and routes, the callout account
// as natsping_trust signs it with offboarding on, a target account ORDERS with two roles, a
// PingOne-shaped issuer and the callout service.
type world struct {
	nodes     []*server.Server
	urls      []string
	sysCreds  string
	staticCfg string // creds of an ORDERS user signed by the account key, tagged like a person
	ordersPub string
	doc       *calloutconfig.Document
	ping      *pingonetest.Server
	svc       *callout.Service
	audit     *auditSink

	// readerNext is the reader role's successor key, listed with the role's template as
	// rotation lists it one apply ahead (natsjwt.RoleSpec.OverlapKeys).
	readerNextPub, readerNextSeed string
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func signer(owner, seed string, kind natsjwt.KeyKind) *natsjwt.Signer {
	return must(natsjwt.NewSigner(owner, "", seed, kind))
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	w := &world{}
	opPub, opSeed := must2(natsjwt.NewKey(natsjwt.KindOperator))
	skPub, skSeed := must2(natsjwt.NewKey(natsjwt.KindOperator))
	op := signer(opPub, skSeed, natsjwt.KindOperator)
	opJWT := must(natsjwt.BuildOperatorJWT(natsjwt.OperatorSpec{Name: "OP", StrictSigningKeys: true, SigningKeys: []string{skPub}},
		signer(opPub, opSeed, natsjwt.KindOperator)))

	sysPub, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	sysSKPub, sysSKSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	sysJWT := must(natsjwt.BuildSystemAccountJWT(natsjwt.SystemAccountSpec{Name: "SYS", PublicKey: sysPub, SigningKey: sysSKPub}, op))
	_, _, _, w.sysCreds = must4(natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "sys", Account: sysPub}, signer(sysPub, sysSKSeed, natsjwt.KindAccount)))

	// ORDERS: reader and writer roles, and an unscoped signing key for a static user.
	ordersPub, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	w.ordersPub = ordersPub
	ordSKPub, ordSKSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	readerPub, readerSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	writerPub, writerSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	w.readerNextPub, w.readerNextSeed = must2(natsjwt.NewKey(natsjwt.KindAccount))
	perms := natsjwt.Permissions{SubAllow: []string{"orders.>", "_INBOX.>"}, PubAllow: []string{"_INBOX.>"}}
	ordersJWT := must(natsjwt.SignAccount(natsjwt.AccountSpec{Name: "ORDERS", SigningKeys: []string{ordSKPub}, Roles: []natsjwt.RoleSpec{
		{Name: "reader", PublicKey: readerPub, Permissions: perms, OverlapKeys: []string{w.readerNextPub}},
		{Name: "writer", PublicKey: writerPub, Permissions: perms},
	}}, ordersPub, op))
	// A static user carrying the tags the callout gives the person offboarded below: it was not
	// admitted by the callout, and closing it would touch a connection that is not theirs.
	_, _, _, w.staticCfg = must4(natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "static", Account: ordersPub,
		Tags: []string{calloutconfig.TagPingSub + ":" + calloutconfig.IdentityTagValue(alice), "role:reader"}},
		signer(ordersPub, ordSKSeed, natsjwt.KindAccount)))

	// The callout account, signed as the trust signs it with offboarding on.
	coPub, coSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	coSKPub, coSKSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	svcPub, svcSeed := must2(natsjwt.NewKey(natsjwt.KindUser))
	coSigner := signer(coPub, coSKSeed, natsjwt.KindAccount)
	coJWT := must(natsjwt.SignCalloutAccount(natsjwt.CalloutAccountSpec{Name: "CALLOUT", PublicKey: coPub, SigningKey: coSKPub,
		ServiceUser: svcPub, AllowedAccounts: []string{ordersPub}, JetStream: natsjwt.CalloutOffboardingJetStream()}, op))
	svcJWT := must(natsjwt.BuildCalloutServiceUserJWT(coPub, coSigner, svcPub))
	svcCreds := must(natsjwt.FormatCreds(svcJWT, svcSeed))
	sentPub, _ := must2(natsjwt.NewKey(natsjwt.KindUser))
	sentinel := must(natsjwt.BuildSentinelJWT(coPub, coSigner, sentPub))

	// A clustered JetStream server refuses to start without routes, so every node is given the
	// route ports of all three up front.
	ports := make([]int, 3)
	var routeURLs []string
	for i := range ports {
		l := must(net.Listen("tcp", "127.0.0.1:0"))
		ports[i] = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		routeURLs = append(routeURLs, fmt.Sprintf("\"nats://127.0.0.1:%d\"", ports[i]))
	}
	routes := "  routes: [" + strings.Join(routeURLs, ", ") + "]\n"
	for i := range 3 {
		dir := tb.TempDir()
		out, err := serverconfig.Render(serverconfig.Input{
			OperatorJWT: opJWT, SystemAccount: sysPub, AccountJWTs: []string{sysJWT, ordersJWT, coJWT},
			DefaultSentinel: sentinel, ServerName: fmt.Sprintf("n%d", i+1),
			JetStream: &serverconfig.JetStream{StoreDir: "js"},
		})
		if err != nil {
			tb.Fatal(err)
		}
		config := out.Config + fmt.Sprintf("\ncluster {\n  name: \"offboard\"\n  listen: \"127.0.0.1:%d\"\n%s}\n", ports[i], routes)
		s, err := natstest.Start(config, dir)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		w.nodes = append(w.nodes, s)
		w.urls = append(w.urls, s.ClientURL())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for _, n := range w.nodes {
			ok = ok && n.NumRoutes() >= 2 && n.JetStreamIsClustered() && n.JetStreamIsCurrent()
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("the 3-node JetStream cluster did not form")
		}
		time.Sleep(20 * time.Millisecond)
	}

	w.ping = pingonetest.New(pingonetest.Options{})
	tb.Cleanup(w.ping.Close)
	w.doc = &calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer: calloutconfig.Issuer{
			URL: w.ping.Issuer(), Audiences: []string{pingonetest.APIAudience}, Algorithms: []string{"RS256"},
			MaxTokenLifetime: calloutconfig.Duration(2 * time.Hour), ClockSkew: calloutconfig.Duration(30 * time.Second),
			GroupsClaim: "groups", NameClaims: []string{"name", "preferred_username"}, JWKSURL: w.ping.JWKSURL(),
			CABundlePEM: string(w.ping.CAPEM()), JWKSMinRefreshInterval: calloutconfig.Duration(calloutconfig.JWKSRefreshBounds.Min),
		},
		NATS: calloutconfig.NATS{URLs: w.urls, CalloutAccount: coPub, CalloutAccountSeed: coSeed, Creds: svcCreds, QueueGroup: "natsping-callout"},
		Mappings: []calloutconfig.Mapping{
			{Name: "orders-readers", Priority: 10, Groups: []calloutconfig.Group{{Name: "readers"}}, Account: ordersPub, AccountName: "ORDERS",
				Role: "reader", RoleSigningKey: readerPub, RoleSigningKeySeed: readerSeed, MaxSession: calloutconfig.Duration(8 * time.Hour)},
			{Name: "orders-writers", Priority: 20, Groups: []calloutconfig.Group{{Name: "writers"}}, Account: ordersPub, AccountName: "ORDERS",
				Role: "writer", RoleSigningKey: writerPub, RoleSigningKeySeed: writerSeed, MaxSession: calloutconfig.Duration(8 * time.Hour)},
			{Name: "orders-services", Priority: 5, ClientIDs: []string{svcA, svcB}, Account: ordersPub, AccountName: "ORDERS",
				Role: "writer", RoleSigningKey: writerPub, RoleSigningKeySeed: writerSeed, MaxSession: calloutconfig.Duration(8 * time.Hour)},
		},
		Offboarding: &calloutconfig.Offboarding{Bucket: calloutconfig.DefaultOffboardingBucket, Replicas: 3},
	}
	if err := w.doc.Validate(); err != nil {
		tb.Fatal(err)
	}
	w.startCallout(tb)
	return w
}

func must4[A, B, C, D any](a A, b B, c C, d D, err error) (A, B, C, D) {
	if err != nil {
		panic(err)
	}
	return a, b, c, d
}

// Identities used across the tests: Ping subjects are UUIDs; bob's is upper case so its tag
// is the encoded form, not the subject itself.
const (
	alice = "0a1b2c3d-0000-4000-8000-00000000a11c"
	carol = "0a1b2c3d-0000-4000-8000-0000000ca401"
	bob   = "B0B-Upper.Case@example"
	svcA  = "svc-orders-a"
	svcB  = "svc-orders-b"
)

func (w *world) startCallout(tb testing.TB) {
	tb.Helper()
	w.audit = &auditSink{}
	svc, err := callout.New(w.doc, callout.Options{AuditWriter: w.audit, Connections: 2})
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		tb.Fatal(err)
	}
	w.svc = svc
	tb.Cleanup(func() { w.stopCallout() })
	deadline := time.Now().Add(20 * time.Second)
	for svc.Ready() != nil {
		if time.Now().After(deadline) {
			tb.Fatalf("callout not ready: %v", svc.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *world) stopCallout() {
	if w.svc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = w.svc.Shutdown(ctx)
	w.svc = nil
}

// person issues a token for sub in group, issued 2 s ago (so before any cutoff taken now).
func (w *world) person(sub, group string) string {
	return w.ping.IssueToken(pingonetest.TokenOptions{Subject: sub, Groups: []string{group}, IssuedAt: time.Now().Add(-2 * time.Second)})
}

func (w *world) personAt(sub, group string, iat time.Time) string {
	return w.ping.IssueToken(pingonetest.TokenOptions{Subject: sub, Groups: []string{group}, IssuedAt: iat})
}

func connectOnce(w *world, token string) (*nats.Conn, error) {
	return nats.Connect(w.urls[0], nats.Token(token), nats.MaxReconnects(0), nats.IgnoreDiscoveredServers(), nats.Timeout(5*time.Second))
}

func (w *world) service(clientID string) string {
	return w.ping.IssueToken(pingonetest.TokenOptions{ClientCredentials: true, ClientID: clientID, IssuedAt: time.Now().Add(-2 * time.Second)})
}

// client is a live connection that records when it was first disconnected.
type client struct {
	nc     *nats.Conn
	node   int
	lostAt atomic.Pointer[time.Time]
	lost   chan struct{}
	once   sync.Once
}

// connect opens a connection to one node only (no discovered servers), so where it lives is known;
// it reconnects like an ordinary client, which is what the callout must refuse.
func (w *world) connect(tb testing.TB, token string, node int) *client {
	tb.Helper()
	c := &client{node: node, lost: make(chan struct{})}
	mark := func() {
		c.once.Do(func() {
			now := time.Now()
			c.lostAt.Store(&now)
			close(c.lost)
		})
	}
	nc, err := nats.Connect(w.urls[node], nats.Token(token), nats.IgnoreDiscoveredServers(),
		nats.MaxReconnects(3), nats.ReconnectWait(50*time.Millisecond), nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { mark() }),
		nats.ClosedHandler(func(*nats.Conn) { mark() }),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		tb.Fatalf("connecting to node %d: %v", node+1, err)
	}
	c.nc = nc
	tb.Cleanup(nc.Close)
	return c
}

// refused checks that a fresh connect with token is refused on every node.
func (w *world) refused(tb testing.TB, token string) {
	tb.Helper()
	for i, u := range w.urls {
		nc, err := nats.Connect(u, nats.Token(token), nats.MaxReconnects(0), nats.IgnoreDiscoveredServers(), nats.Timeout(5*time.Second))
		if err == nil {
			nc.Close()
			tb.Fatalf("node %d admitted a token that is offboarded", i+1)
		}
		if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			tb.Fatalf("node %d: want an authorization violation, got %v", i+1, err)
		}
	}
}

func (w *world) opts(put []offboard.Entry, remove []string) offboard.Options {
	return offboard.Options{Servers: w.urls, SystemCreds: w.sysCreds, Doc: w.doc, Put: put, Remove: remove, Settle: time.Second}
}

// auditSink collects the callout's audit lines.
type auditSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *auditSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *auditSink) records(tb testing.TB) []callout.AuditRecord {
	tb.Helper()
	s.mu.Lock()
	raw := s.buf.String()
	s.mu.Unlock()
	var out []callout.AuditRecord
	sc := bufio.NewScanner(strings.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r callout.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("audit line is not JSON: %v", err)
		}
		out = append(out, r)
	}
	return out
}

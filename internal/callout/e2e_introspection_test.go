package callout

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// offsetClock is the wall clock plus a skip the test advances, so the callout (and the
// fixture issuer, which shares it) can be moved past an answer's fresh window or a token's exp
// without waiting for either.
type offsetClock struct{ skip atomic.Int64 }

func (c *offsetClock) now() time.Time          { return time.Now().Add(time.Duration(c.skip.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.skip.Add(int64(d)) }

// introspectingIssuer is issuerFor(p) with introspection at endpoint, as a trust renders it.
func introspectingIssuer(p *pingonetest.Server, endpoint, authMethod string) calloutconfig.Issuer {
	iss := issuerFor(p)
	id, secret := p.IntrospectionCredentials()
	iss.Introspection = &calloutconfig.Introspection{Endpoint: endpoint, ClientID: id, ClientSecret: secret, AuthMethod: authMethod}
	return iss
}

// recordsFor waits until the audit holds at least n lines for token and returns them in order.
func recordsFor(t *testing.T, sink *auditSink, token string, n int) []AuditRecord {
	t.Helper()
	hash := oidc.TokenHash(token)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []AuditRecord
		for _, r := range sink.records(t) {
			if r.TokenSHA256 == hash {
				got = append(got, r)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d audit lines for token %s…, want %d; audit so far:\n%s", len(got), hash[:12], n, sink.raw())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func refused(t *testing.T, e *natsEnv, token string) {
	t.Helper()
	nc, err := e.connectToken(token, "")
	if err == nil {
		nc.Close()
		t.Fatal("connected, want a refusal")
	}
	if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("got %v, want an authorization error", err)
	}
}

func admitted(t *testing.T, e *natsEnv, token string) {
	t.Helper()
	nc, err := e.connectToken(token, "")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if got := connInfo(t, e, nc).Account; got != e.orders.pub {
		t.Fatalf("bound to %s, want ORDERS", got)
	}
	nc.Close()
}

// TestIntrospectionRevokedTokenRefusedOnReconnect: an opaque token is admitted through the
// server and mapped by its groups like a JWT; a reconnect inside the fresh window is answered
// from the cache; once the issuer has revoked it, the client's next reconnect after the
// window is refused, and so is every new connect.
func TestIntrospectionRevokedTokenRefusedOnReconnect(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	idp := pingonetest.New(pingonetest.Options{Now: clk.now})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	iss := introspectingIssuer(idp, idp.IntrospectionURL(), "")
	iss.Introspection.ReuseFor = calloutconfig.Duration(oidc.DefaultIntrospectionFreshFor)
	doc := e.doc(iss, e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{Now: clk.now})

	tok := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}, Extra: map[string]any{"name": "Alice Reader"}})
	reconnected := make(chan struct{}, 4)
	closed := make(chan struct{})
	nc, err := e.connectToken(tok, "",
		nats.MaxReconnects(2), nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(0, 0),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatalf("connect with an opaque token: %v", err)
	}
	defer nc.Close()
	ci := connInfo(t, e, nc)
	if ci.Account != e.orders.pub || ci.AuthorizedUser != "Alice Reader" || !slices.Contains(ci.Tags, "ping-sub:"+aliceID) ||
		!slices.Contains(ci.Tags, "mapping:orders-readers") {
		t.Fatalf("bound to %s as %q with tags %v, want ORDERS, Alice Reader, her ping-sub and the mapping", ci.Account, ci.AuthorizedUser, ci.Tags)
	}
	rec := recordsFor(t, audit, tok, 1)[0]
	if rec.Decision != "allow" || rec.Subject != aliceID || rec.KeyID != "" || !slices.Equal(rec.Groups, []string{"order-readers"}) ||
		rec.OAuthClientID != pingonetest.DefaultAppClientID || rec.TokenExpires.IsZero() {
		t.Fatalf("audit line %+v", rec)
	}
	if strings.Contains(audit.raw(), tok) {
		t.Fatal("an audit line contains the opaque token")
	}
	if n := idp.IntrospectionRequests(); n != 1 {
		t.Fatalf("%d introspection requests for one connect", n)
	}

	kick := func() {
		t.Helper()
		cid, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.DisconnectClientByID(cid); err != nil {
			t.Fatal(err)
		}
	}
	kick()
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not reconnect inside the fresh window")
	}
	if n := idp.IntrospectionRequests(); n != 1 {
		t.Fatalf("a reconnect inside the fresh window sent a request (%d in all)", n)
	}

	if !idp.RevokeToken(tok) {
		t.Fatal("the fixture did not know its own token")
	}
	clk.advance(oidc.DefaultIntrospectionFreshFor)
	kick()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the client kept reconnecting with a revoked token")
	}
	select {
	case <-reconnected:
		t.Fatal("a reconnect with the revoked token was admitted")
	default:
	}
	seen := len(recordsFor(t, audit, tok, 3))
	refused(t, e, tok)
	// Every decision after the two admissions (each reconnect attempt, then the new connect)
	// is a refusal because the issuer says the token is no longer active.
	for i, r := range recordsFor(t, audit, tok, seen+1)[2:] {
		if r.Decision != "deny" || r.Reason != Reason(oidc.ReasonTokenInactive) {
			t.Fatalf("decision %d after revocation: %s %s (%s), want deny token_inactive", i+1, r.Decision, r.Reason, r.Detail)
		}
	}
}

// TestIntrospectionOutage: while the introspection endpoint is down, an opaque token answered
// before keeps connecting until its exp, a token never answered is refused, JWTs are not
// affected, and once the endpoint is back new tokens are admitted again.
func TestIntrospectionOutage(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	idp := pingonetest.New(pingonetest.Options{Now: clk.now})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{})
	doc := e.doc(introspectingIssuer(idp, idp.IntrospectionURL(), ""), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{Now: clk.now})
	groups := []string{"order-readers"}

	known := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: groups})
	admitted(t, e, known)

	idp.SetIntrospectionAvailable(false)
	clk.advance(oidc.DefaultIntrospectionFreshFor) // the known answer must be revalidated
	fresh := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: bobID, Groups: groups})
	admitted(t, e, known)
	refused(t, e, fresh)
	if r := recordsFor(t, audit, fresh, 1)[0]; r.Reason != Reason(oidc.ReasonIntrospectionUnavailable) {
		t.Fatalf("a new token during the outage: %s (%s), want introspection_unavailable", r.Reason, r.Detail)
	}
	if recs := recordsFor(t, audit, known, 2); recs[1].Decision != "allow" {
		t.Fatalf("the known token during the outage: %+v", recs[1])
	}
	admitted(t, e, idp.IssueToken(pingonetest.TokenOptions{Subject: bobID, Groups: groups}))

	// The cached answer lasts until the token's exp and not beyond.
	clk.advance(pingonetest.DefaultTokenLifetime)
	refused(t, e, known)
	if recs := recordsFor(t, audit, known, 3); recs[2].Decision != "deny" {
		t.Fatalf("the known token past its exp: %+v", recs[2])
	}

	idp.SetIntrospectionAvailable(true)
	clk.advance(oidc.DefaultIntrospectionRetryInterval)
	admitted(t, e, idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: bobID, Groups: groups}))
}

// TestIntrospectionPingFederateShape: PingFederate's path and client_secret_post, and its
// default answer without iss and iat, admit the holder; a malformed JWT is refused without a
// request.
func TestIntrospectionPingFederateShape(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(introspectingIssuer(idp, idp.PingFederateIntrospectionURL(), "client_secret_post"),
		e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{})
	tok := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}, Omit: []string{"iss", "iat"}})
	admitted(t, e, tok)
	if r := recordsFor(t, audit, tok, 1)[0]; r.Decision != "allow" || r.Subject != aliceID {
		t.Fatalf("audit %+v", r)
	}

	before := idp.IntrospectionRequests()
	broken := "not-a.jwt-but.two-dots-in-it"
	refused(t, e, broken)
	if r := recordsFor(t, audit, broken, 1)[0]; r.Reason != Reason(oidc.ReasonMalformed) {
		t.Fatalf("a malformed JWT: %s (%s)", r.Reason, r.Detail)
	}
	if n := idp.IntrospectionRequests(); n != before {
		t.Fatalf("a malformed JWT was sent to the introspection endpoint (%d requests)", n-before)
	}
}

// TestIntrospectionDefaultAsksOnEveryConnect: with reuse_for at its default of 0 every connect
// asks the issuer while it answers, so a token revoked at Ping is refused on its very next
// connect, with no window to wait out.
func TestIntrospectionDefaultAsksOnEveryConnect(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{})
	_, audit := startService(t, e.doc(introspectingIssuer(idp, idp.IntrospectionURL(), ""),
		e.orders.mapping("orders-readers", "reader", 0, "order-readers")), Options{})
	tok := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}})
	for i := range 2 {
		nc, err := e.connectToken(tok, "")
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		nc.Close()
	}
	if n := idp.IntrospectionRequests(); n != 2 {
		t.Fatalf("%d introspection requests for two connects, want one each", n)
	}
	if !idp.RevokeToken(tok) {
		t.Fatal("the fixture did not know its own token")
	}
	refused(t, e, tok)
	recs := recordsFor(t, audit, tok, 3)
	if last := recs[len(recs)-1]; last.Decision != "deny" || last.Reason != Reason(oidc.ReasonTokenInactive) {
		t.Fatalf("the first connect after revocation: %s %s, want deny token_inactive", last.Decision, last.Reason)
	}
}

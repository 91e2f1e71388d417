package callout

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

const (
	aliceID = "5b3c9a0e-1f2d-4c8b-9e7a-000000000a11"
	bobID   = "5b3c9a0e-1f2d-4c8b-9e7a-000000000b0b"
)

// asyncErrors collects the errors a server sends a client (permission violations).
func asyncErrors() (nats.Option, <-chan error) {
	ch := make(chan error, 16)
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case ch <- err:
		default:
		}
	}), ch
}

func expectViolation(t *testing.T, nc *nats.Conn, errs <-chan error, subject string) {
	t.Helper()
	if err := nc.Publish(subject, []byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") || !strings.Contains(err.Error(), subject) {
			t.Fatalf("publish to %s: got %v, want a permissions violation", subject, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("publish to %s was not refused by the server", subject)
	}
}

func connInfo(t *testing.T, e *natsEnv, nc *nats.Conn) *server.ConnInfo {
	t.Helper()
	cid, err := nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	cz, err := e.srv.Connz(&server.ConnzOptions{Username: true, CID: cid})
	if err != nil || len(cz.Conns) != 1 {
		t.Fatalf("connz for cid %d: %v (%d conns)", cid, err, len(cz.Conns))
	}
	return cz.Conns[0]
}

func TestServiceRolesEnforcedByServer(t *testing.T) {
	t.Parallel()
	for _, xkey := range []bool{false, true} {
		name := "plaintext"
		if xkey {
			name = "xkey"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			idp := pingonetest.New(pingonetest.Options{})
			t.Cleanup(idp.Close)
			e := newNATSEnv(t, envOptions{xkey: xkey})
			writer := e.orders.mapping("orders-writers", "writer", 10, "order-writers")
			writer.Tags = []string{"team:blue"}
			doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"), writer)
			_, audit := startService(t, doc, Options{})

			readerTok := idp.IssueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}, Extra: map[string]any{"name": "Alice Reader"}})
			opt, readerErrs := asyncErrors()
			reader, err := e.connectToken(readerTok, "", opt, nats.Name("alice-cli"))
			if err != nil {
				t.Fatalf("reader connect: %v", err)
			}
			defer reader.Close()
			got := make(chan *nats.Msg, 4)
			if _, err := reader.ChanSubscribe("orders.>", got); err != nil {
				t.Fatal(err)
			}
			if err := reader.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-readerErrs:
				t.Fatalf("reader may subscribe to orders.>: %v", err)
			default:
			}
			ci := connInfo(t, e, reader)
			if ci.Account != e.orders.pub || ci.AuthorizedUser != "Alice Reader" {
				t.Fatalf("reader bound to account %s as %q, want ORDERS as \"Alice Reader\"", ci.Account, ci.AuthorizedUser)
			}
			for _, tag := range []string{"ping-sub:" + aliceID, "role:reader", "mapping:orders-readers"} {
				if !slices.Contains(ci.Tags, tag) {
					t.Errorf("reader tags %v lack %q", ci.Tags, tag)
				}
			}
			expectViolation(t, reader, readerErrs, "orders.blue.new")

			writerTok := idp.IssueToken(pingonetest.TokenOptions{Subject: bobID, Groups: []string{"order-writers", "order-readers"}})
			wopt, writerErrs := asyncErrors()
			w, err := e.connectToken(writerTok, "", wopt)
			if err != nil {
				t.Fatalf("writer connect: %v", err)
			}
			defer w.Close()
			if err := w.Publish("orders.blue.new", []byte("42")); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-got:
				if m.Subject != "orders.blue.new" || string(m.Data) != "42" {
					t.Fatalf("reader got %s %q", m.Subject, m.Data)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the writer's message never reached the reader")
			}
			// The role template grants orders.{{tag(team)}}.> only: team blue may not
			// publish for team red.
			expectViolation(t, w, writerErrs, "orders.red.new")

			rec := audit.waitRecord(t, readerTok)
			if rec.Decision != "allow" || rec.Reason != ReasonOK || rec.Subject != aliceID || rec.Name != "Alice Reader" ||
				rec.Mapping != "orders-readers" || rec.Account != e.orders.pub || rec.AccountName != "ORDERS" || rec.Role != "reader" ||
				rec.ConnectName != "alice-cli" || rec.ClientHost != "127.0.0.1" || rec.ClientID == 0 || rec.ServerID != e.srv.ID() ||
				rec.OAuthClientID != pingonetest.DefaultAppClientID || !slices.Equal(rec.Groups, []string{"order-readers"}) ||
				!slices.Contains(rec.Scopes, "openid") || rec.KeyID != idp.ActiveKeyID() || rec.UserExpires.IsZero() || rec.TokenExpires.IsZero() {
				t.Fatalf("audit line lacks the decision's facts: %+v", rec)
			}
			if strings.Contains(audit.raw(), readerTok) || strings.Contains(audit.raw(), writerTok) {
				t.Fatal("an audit line contains a raw token")
			}
			if wrec := audit.waitRecord(t, writerTok); wrec.Mapping != "orders-writers" {
				t.Fatalf("a member of both groups got mapping %q, want the higher-priority orders-writers", wrec.Mapping)
			}
		})
	}
}

func TestServiceAccountSelection(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp),
		e.orders.mapping("orders", "writer", 10, "staff"),
		e.billing.mapping("billing", "reader", 5, "staff"),
	)
	_, audit := startService(t, doc, Options{})
	tok := idp.IssueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"staff"}})

	tests := []struct {
		user    string
		account string // "" means refused
		reason  Reason
	}{
		{user: "", account: e.orders.pub},
		{user: "BILLING", account: e.billing.pub},
		{user: "billing", account: e.billing.pub},
		{user: e.billing.pub, account: e.billing.pub},
		{user: "ORDERS", account: e.orders.pub},
		{user: "MARKETING", reason: ReasonUnknownAccount},
	}
	for _, tc := range tests {
		nc, err := e.connectToken(tok, tc.user)
		if tc.account == "" {
			if err == nil {
				nc.Close()
				t.Fatalf("user %q: connected, want refusal", tc.user)
			}
			continue
		}
		if err != nil {
			t.Fatalf("user %q: %v", tc.user, err)
		}
		if got := connInfo(t, e, nc).Account; got != tc.account {
			t.Errorf("user %q: bound to %s, want %s", tc.user, got, tc.account)
		}
		nc.Close()
	}
	var refused []AuditRecord
	deadline := time.Now().Add(10 * time.Second)
	for len(refused) == 0 && time.Now().Before(deadline) {
		for _, r := range audit.records(t) {
			if r.Decision == "deny" {
				refused = append(refused, r)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(refused) != 1 || refused[0].Reason != ReasonUnknownAccount || refused[0].ConnectUser != "MARKETING" {
		t.Fatalf("refusals in audit: %+v", refused)
	}
}

func TestServiceRefusesBadTokens(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{})
	now := time.Now()
	groups := []string{"order-readers"}
	good := idp.IssueToken(pingonetest.TokenOptions{Groups: groups})
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "e30" + "." + parts[2]

	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"no mapped group", idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"marketing"}}), string(ReasonNoMapping)},
		{"no groups claim", idp.IssueToken(pingonetest.TokenOptions{}), string(ReasonNoMapping)},
		{"expired", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, IssuedAt: now.Add(-3 * time.Hour), Lifetime: time.Hour}), "expired"},
		{"not yet valid", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, NotBefore: now.Add(time.Hour)}), "not_yet_valid"},
		{"wrong issuer", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Issuer: "https://auth.pingone.eu/other/as"}), "wrong_issuer"},
		{"wrong audience", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Audience: []string{"someone-else"}}), "wrong_audience"},
		{"lifetime too long", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Lifetime: 30 * 24 * time.Hour}), "lifetime_too_long"},
		{"missing required scope", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Scope: "profile"}), "missing_required_scope"},
		{"forbidden scope", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Scope: "openid p1:admin"}), "forbidden_scope"},
		{"alg none", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Algorithm: "none"}), "algorithm_not_allowed"},
		{"HS256 with the public key", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, Algorithm: "HS256"}), "algorithm_not_allowed"},
		{"unknown kid", idp.IssueToken(pingonetest.TokenOptions{Groups: groups, KeyID: "not-a-published-kid"}), "unknown_key"},
		{"tampered payload", tampered, ""},
		{"not a JWT", "an old API key lying around", "malformed_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, user := range []string{"", "ORDERS"} {
				if nc, err := e.connectToken(tc.token, user); err == nil {
					nc.Close()
					t.Fatalf("connected with user %q, want refusal", user)
				} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
					t.Fatalf("user %q: got %v, want an authorization error", user, err)
				}
			}
			rec := audit.waitRecord(t, tc.token)
			if rec.Decision != "deny" || (tc.reason != "" && string(rec.Reason) != tc.reason) || rec.Reason == ReasonOK {
				t.Fatalf("audit: decision %s reason %s (%s), want deny %s", rec.Decision, rec.Reason, rec.Detail, tc.reason)
			}
		})
	}
}

func TestServiceTokenExpiryClosesConnection(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{})
	// exp is whole seconds: two seconds from now leaves at least one to connect in.
	exp := time.Now().Truncate(time.Second).Add(2 * time.Second)
	tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}, Expiry: exp})
	closed := make(chan struct{})
	errs := make(chan error, 4)
	nc, err := e.connectToken(tok, "",
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	if rec := audit.waitRecord(t, tok); !rec.UserExpires.Equal(exp.UTC()) {
		t.Fatalf("user JWT expires %v, want the token's exp %v", rec.UserExpires, exp.UTC())
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the server kept the connection open past the token's exp")
	}
	if !time.Now().After(exp) {
		t.Fatal("the connection closed before the token expired")
	}
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "expired") {
			t.Fatalf("closed with %v, want user authentication expired", err)
		}
	default:
		t.Fatal("the server closed the connection without saying why")
	}
}

func TestServiceRefusesPlaintextRequestWhenXKeyConfigured(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{omitXKeyFromAccount: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{})
	tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}})
	if nc, err := e.connectToken(tok, ""); err == nil {
		nc.Close()
		t.Fatal("a plaintext request was answered although the service requires sealed requests")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := audit.records(t)
		if len(recs) > 0 {
			if recs[0].Reason != ReasonPlaintextRequest || recs[0].Decision != "deny" {
				t.Fatalf("audit: %+v", recs[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no audit line for the plaintext request")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestServiceReplicasShareLoadAndFailOver(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	a, _ := startService(t, doc, Options{Name: "replica-a", Connections: 1})
	b, _ := startService(t, doc, Options{Name: "replica-b", Connections: 1})
	tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}})

	connectAll := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				nc, err := e.connectToken(tok, "")
				if err != nil {
					errs <- err
					return
				}
				nc.Close()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("connect refused: %v", err)
		}
	}
	requests := func(s *Service) int {
		var n int
		for _, st := range s.Stats() {
			for _, ep := range st.Endpoints {
				n += ep.NumRequests
			}
		}
		return n
	}
	connectAll(40)
	if ra, rb := requests(a), requests(b); ra == 0 || rb == 0 || ra+rb != 40 {
		t.Fatalf("replicas answered %d and %d of 40 requests; the queue group should spread them", ra, rb)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	before := requests(b)
	connectAll(20)
	if got := requests(b) - before; got != 20 {
		t.Fatalf("after replica a stopped, b answered %d of 20", got)
	}
}

func TestServiceReloadSwapsMappings(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("devs", "reader", 0, "developers"))
	s, audit := startService(t, doc, Options{})
	tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}})

	nc, err := e.connectToken(tok, "")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if rec := audit.waitRecord(t, tok); rec.Role != "reader" {
		t.Fatalf("before reload: role %q", rec.Role)
	}

	next := e.doc(issuerFor(idp), e.billing.mapping("devs-billing", "reader", 0, "developers"))
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	nc, err = e.connectToken(tok, "")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if got := connInfo(t, e, nc).Account; got != e.billing.pub {
		t.Fatalf("after reload the developers group is bound to %s, want BILLING", got)
	}

	moved := *next
	moved.NATS.QueueGroup = "elsewhere"
	if err := s.Reload(&moved); err == nil || !strings.Contains(err.Error(), "nats.queue_group") {
		t.Fatalf("reload changing the queue group: %v, want a restart-required error", err)
	}
	broken := *next
	broken.Mappings = nil
	broken.Issuer.Audiences = nil
	if err := s.Reload(&broken); err == nil {
		t.Fatal("reload accepted an invalid document")
	}
	nc2, err := e.connectToken(tok, "")
	if err != nil {
		t.Fatalf("a refused reload must keep the running configuration: %v", err)
	}
	nc2.Close()
}

func TestServiceKeyRotation(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	startService(t, doc, Options{})
	before := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}})
	nc, err := e.connectToken(before, "")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	newKid := idp.RotateKey()
	after := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}})
	nc, err = e.connectToken(after, "")
	if err != nil {
		t.Fatalf("token signed with the rotated key %s: %v", newKid, err)
	}
	nc.Close()
}

func TestServiceHTTPEndpoints(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))

	notStarted, err := New(doc, Options{AuditWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer notStarted.Shutdown(context.Background())
	h := httptest.NewServer(notStarted.HTTPHandler())
	defer h.Close()
	if code, _ := get(t, h.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before connecting: %d", code)
	}
	if code, _ := get(t, h.URL+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}

	s, _ := startService(t, doc, Options{Connections: 2})
	h2 := httptest.NewServer(s.HTTPHandler())
	defer h2.Close()
	if code, body := get(t, h2.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz when connected with keys: %d %s", code, body)
	}
	if nc, err := e.connectToken(idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"nobody"}}), ""); err == nil {
		nc.Close()
	}
	// The decision is counted just after the reply is sent, so wait for it.
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, body = get(t, h2.URL+"/metrics"); strings.Contains(body, `reason="no_mapped_group"`) {
			break
		}
	}
	for _, want := range []string{
		`natsping_callout_decisions_total{reason="no_mapped_group",result="deny"} 1`,
		"natsping_callout_decision_duration_seconds_bucket",
		"natsping_callout_jwks_fetches_total",
		"natsping_callout_nats_connections 2",
		"natsping_callout_audit_dropped_total 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServicePublishesAuditLines(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	doc.NATS.AuditSubject = "natsping.audit.callout"
	startService(t, doc, Options{})

	// Audit consumers live in the callout account, like the service itself.
	ujwt, kp, err := parseCreds(e.serviceCreds)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := nats.Connect(e.url, nats.UserJWT(func() (string, error) { return ujwt, nil }, kp.Sign))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	lines := make(chan *nats.Msg, 8)
	if _, err := sub.ChanSubscribe(doc.NATS.AuditSubject, lines); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}

	tok := idp.IssueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}})
	nc, err := e.connectToken(tok, "")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	select {
	case m := <-lines:
		var rec AuditRecord
		if err := json.Unmarshal(m.Data, &rec); err != nil {
			t.Fatalf("published audit line is not JSON: %v", err)
		}
		if rec.Decision != "allow" || rec.Subject != aliceID || rec.TokenSHA256 != oidc.TokenHash(tok) || strings.Contains(string(m.Data), tok) {
			t.Fatalf("published audit line: %s", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no audit line was published")
	}
}

func TestServiceReloadUnderLoadRefusesNobody(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	docs := []*calloutconfig.Document{
		e.doc(issuerFor(idp), e.orders.mapping("devs", "reader", 0, "developers")),
		e.doc(issuerFor(idp), e.billing.mapping("devs", "reader", 0, "developers")),
	}
	s, _ := startService(t, docs[0], Options{})
	tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}})

	stop := make(chan struct{})
	reloads := make(chan error, 1)
	go func() {
		defer close(reloads)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Reload(docs[i%2]); err != nil {
				reloads <- err
				return
			}
		}
	}()
	for range 40 {
		nc, err := e.connectToken(tok, "")
		if err != nil {
			close(stop)
			t.Fatalf("refused during reloads: %v", err)
		}
		nc.Close()
	}
	close(stop)
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
}

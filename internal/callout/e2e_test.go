package callout

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

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

package callout

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// Operations end to end: replicas, reloads, key rotation, health and metrics, audit
// publishing.

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
	t.Cleanup(func() {
		if err := notStarted.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
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

// TestServiceReloadKeepsKeysWhenTheKeySourceIsUnchanged: a reload that only tightens the token
// policy must not throw away the issuer's cached keys. Otherwise every token waits for a new
// JWKS fetch, and while the issuer is unreachable the reload alone refuses everyone.
func TestServiceReloadKeepsKeysWhenTheKeySourceIsUnchanged(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(issuerFor(idp), e.orders.mapping("devs", "reader", 0, "developers"))
	s, audit := startService(t, doc, Options{})
	first := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}})
	nc, err := e.connectToken(first, "")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	audit.waitRecord(t, first)

	idp.Close() // the issuer is unreachable from now on
	next := e.doc(issuerFor(idp), e.orders.mapping("devs", "reader", 0, "developers"))
	next.Issuer.ForbiddenScopes = append(next.Issuer.ForbiddenScopes, "p1:update:env")
	next.Issuer.ClockSkew = calloutconfig.Duration(45 * time.Second)
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	second := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}, Extra: map[string]any{"jti": "after-reload"}})
	nc, err = e.connectToken(second, "")
	if err != nil {
		t.Fatalf("after a policy-only reload with the issuer down: %v (audit: %+v)", err, audit.waitRecord(t, second))
	}
	nc.Close()
	if err := s.Ready(); err != nil {
		t.Fatalf("not ready after the reload: %v", err)
	}
	forbidden := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}, Scope: "openid p1:update:env"})
	if nc, err := e.connectToken(forbidden, ""); err == nil {
		nc.Close()
		t.Fatal("the reloaded policy was not applied: a forbidden scope got in")
	}
}

// A test or lab issuer on plain http is usable only on loopback and only when the config opts
// in; without the opt-in the service refuses to start rather than fetch keys over http.
func TestServicePlainHTTPLoopbackIssuer(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	iss := issuerFor(idp)
	iss.CABundlePEM = ""

	refused := e.doc(iss, e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	if _, err := New(refused, Options{AuditWriter: io.Discard}); err == nil {
		t.Fatal("a plain-http issuer was accepted without allow_insecure_http")
	}

	iss.AllowInsecureHTTP = true
	doc := e.doc(iss, e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	startService(t, doc, Options{})
	nc, err := e.connectToken(idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}}), "")
	if err != nil {
		t.Fatalf("token from a loopback http issuer with allow_insecure_http: %v", err)
	}
	nc.Close()
}

package callout

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// gatedVerifier admits every token as alice in order-readers, but holds each verification
// until the gate opens, so a test can stop the service while decisions are running.
type gatedVerifier struct {
	gate    chan struct{}
	waiting atomic.Int32
}

func (g *gatedVerifier) Verify(ctx context.Context, raw string) (*oidc.Identity, error) {
	g.waiting.Add(1)
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	id := identity("alice", "order-readers")
	id.Expiry = time.Now().Add(time.Hour)
	id.IssuedAt = time.Now().Add(-time.Minute)
	id.TokenHash = oidc.TokenHash(raw)
	return id, nil
}

// TestShutdownDrainsRequestsInFlight: a replica stopped while it holds authorization
// requests answers all of them before it closes, and reports not ready (503 draining on
// /readyz, natsping_callout_draining 1) from the moment the drain begins.
func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	t.Parallel()
	e := newNATSEnv(t, envOptions{xkey: true})
	v := &gatedVerifier{gate: make(chan struct{})}
	idp := pingonetest.New(pingonetest.Options{}) // only for a valid issuer section; v decides
	t.Cleanup(idp.Close)
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	svc, err := New(doc, Options{Connections: 2, NewVerifier: func(calloutconfig.Issuer) (Verifier, error) { return v, nil }, AuditWriter: &auditSink{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for svc.Ready() != nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	web := httptest.NewServer(svc.HTTPHandler())
	t.Cleanup(web.Close)

	const held = 5
	results := make(chan error, held)
	for i := range held {
		go func() {
			nc, err := e.connectToken("token-"+string(rune('a'+i)), "")
			if err == nil {
				nc.Close()
			}
			results <- err
		}()
	}
	for v.waiting.Load() < held {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests reached the verifier", v.waiting.Load(), held)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- svc.Shutdown(ctx)
	}()
	for !svc.Draining() {
		time.Sleep(time.Millisecond)
	}
	if err := svc.Ready(); !errors.Is(err, ErrDraining) {
		t.Fatalf("Ready while draining = %v, want ErrDraining", err)
	}
	if code, body := get(t, web.URL+"/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Fatalf("/readyz while draining: %d %q", code, body)
	}
	if _, body := get(t, web.URL+"/metrics"); !strings.Contains(body, "natsping_callout_draining 1") {
		t.Fatalf("/metrics while draining lacks natsping_callout_draining 1")
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while %d decisions were still running", err, held)
	case <-time.After(200 * time.Millisecond):
	}
	close(v.gate)
	for range held {
		if err := <-results; err != nil {
			t.Errorf("a request received before the drain was not answered: %v", err)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

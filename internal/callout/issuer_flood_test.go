package callout

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// stepClock is a clock the test moves by hand; the issuer and the service share it, so the
// JWKS refetch gates see exactly the time the test says has passed, however slow the machine.
type stepClock struct{ ns atomic.Int64 }

func newStepClock(t time.Time) *stepClock {
	c := &stepClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *stepClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *stepClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// defaultIssuerFor is issuerFor with the JWKS settings a trust renders by default.
func defaultIssuerFor(p *pingonetest.Server) calloutconfig.Issuer {
	iss := issuerFor(p)
	iss.JWKSMinRefreshInterval = calloutconfig.Duration(calloutconfig.DefaultJWKSMinRefreshInterval)
	return iss
}

// TestServiceForgedKidFloodDuringRotations runs the callout with default settings behind a
// real nats-server while 50 clients a second (of the shared clock) connect with tokens whose
// kid Ping never published, the worst case: valid claims, a real 2048-bit signature. Through
// it Ping first rotates to a key it announced beforehand, then to one it never announced.
// Before the refetch budget, one forged kid per jwks_min_refresh_interval (30 s) kept the
// callout from learning either key for that long.
func TestServiceForgedKidFloodDuringRotations(t *testing.T) {
	t.Parallel()
	clock := newStepClock(time.Now())
	idp := pingonetest.New(pingonetest.Options{Now: clock.Now})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(defaultIssuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	_, audit := startService(t, doc, Options{Now: clock.Now})
	startFetches := idp.JWKSFetches()

	const (
		step       = 20 * time.Millisecond // one forged kid per step: 50 a second
		legitEvery = 200 * time.Millisecond
		announceAt = 2 * time.Second
		rotateAt   = 4 * time.Second // to the announced key
		surpriseAt = 6 * time.Second // to a key nobody announced
		floodFor   = 10 * time.Second
	)
	var announced, surprise string
	surpriseAdmitted := time.Duration(-1)
	var forged []string
	for elapsed := time.Duration(0); elapsed < floodFor; elapsed += step {
		// The forged kid comes first in every step, so at each rotation it has just spent
		// the refetch on a JWKS without the new key: the worst moment.
		tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"},
			KeyID: fmt.Sprintf("forged-%d", elapsed/step)})
		forged = append(forged, tok)
		if nc, err := e.connectToken(tok, ""); err == nil {
			nc.Close()
			t.Fatalf("at %s a forged kid was let in", elapsed)
		}
		switch elapsed {
		case announceAt:
			announced = idp.PublishNextKey()
		case rotateAt:
			if got := idp.RotateKey(); got != announced {
				t.Fatalf("rotated to %q, not the announced %q", got, announced)
			}
		case surpriseAt:
			surprise = idp.RotateKey()
		}

		if elapsed%legitEvery == 0 {
			kid := idp.ActiveKeyID()
			tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}, Extra: map[string]any{"jti": elapsed.String()}})
			nc, err := e.connectToken(tok, "")
			switch {
			case err == nil:
				nc.Close()
				if kid == surprise && surpriseAdmitted < 0 {
					surpriseAdmitted = elapsed - surpriseAt
				}
			case kid == surprise && surpriseAdmitted < 0:
				// Until the next refetch the callout has not seen this key: a refusal, but
				// one that says so.
				if rec := audit.waitRecord(t, tok); rec.Reason != Reason(oidc.ReasonUnknownKey) {
					t.Fatalf("at %s a token of the unannounced key was refused with %q, want %q", elapsed, rec.Reason, oidc.ReasonUnknownKey)
				}
			default:
				t.Fatalf("at %s a legitimate token (kid %s, announced %s) was refused: %v (audit: %+v)",
					elapsed, kid, announced, err, audit.waitRecord(t, tok))
			}
		}
		clock.Advance(step)
	}

	fetches := idp.JWKSFetches() - startFetches
	t.Logf("unannounced key admitted %s after the rotation; %d JWKS requests in %s of flood", surpriseAdmitted, fetches, floodFor)
	if surpriseAdmitted < 0 || surpriseAdmitted > oidc.DefaultUnknownKIDInterval+legitEvery {
		t.Fatalf("the unannounced key was admitted after %s, want within the %s refetch interval (plus the client's %s retry)",
			surpriseAdmitted, oidc.DefaultUnknownKIDInterval, legitEvery)
	}
	if most := int64(floodFor / oidc.DefaultUnknownKIDInterval); fetches > most {
		t.Fatalf("%d JWKS requests during %s of flood, want at most %d (one a second)", fetches, floodFor, most)
	}
	for _, tok := range forged[len(forged)-3:] {
		if rec := audit.waitRecord(t, tok); rec.Reason != Reason(oidc.ReasonUnknownKey) {
			t.Fatalf("forged kid audited as %q, want %q", rec.Reason, oidc.ReasonUnknownKey)
		}
	}
}

// TestServiceForgedKidFloodRealClock is the same flood on the wall clock, with forged
// clients running concurrently. It measures what the fake-clock test proves; its only
// assertions cannot fail on a slow machine: slowness lowers the fetch rate, and admission is
// awaited, not timed.
func TestServiceForgedKidFloodRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a few seconds of wall-clock flood")
	}
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	doc := e.doc(defaultIssuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	startService(t, doc, Options{})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, letIn atomic.Int64
	start, startFetches := time.Now(), idp.JWKSFetches()
	for w := range 2 {
		wg.Go(func() {
			tick := time.NewTicker(40 * time.Millisecond) // 2 × 25/s = 50 forged kids a second
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}, KeyID: fmt.Sprintf("forged-%d-%d", w, i)})
				sent.Add(1)
				if nc, err := e.connectToken(tok, ""); err == nil {
					letIn.Add(1)
					nc.Close()
				}
			}
		})
	}
	time.Sleep(2 * time.Second)
	// Rotate just after a forged kid has spent the refetch, the worst moment.
	for before := idp.JWKSFetches(); idp.JWKSFetches() == before; {
		if time.Since(start) > 30*time.Second {
			close(stop)
			wg.Wait()
			t.Fatal("the flood never made the callout refetch the JWKS")
		}
		time.Sleep(time.Millisecond)
	}
	idp.RotateKey()
	rotated := time.Now()
	attempts := 0
	for {
		attempts++
		tok := idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}, Extra: map[string]any{"jti": fmt.Sprint(attempts)}})
		if nc, err := e.connectToken(tok, ""); err == nil {
			nc.Close()
			break
		}
		if time.Since(rotated) > 30*time.Second {
			close(stop)
			wg.Wait()
			t.Fatalf("a token of the new key was still refused %d attempts after the rotation", attempts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	admitted := time.Since(rotated)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	fetches := idp.JWKSFetches() - startFetches
	t.Logf("%d forged kids in %s (%.0f/s); %d JWKS requests (%.2f/s); the unannounced key was admitted %s after the rotation (%d attempts 100 ms apart)",
		sent.Load(), elapsed.Round(time.Millisecond), float64(sent.Load())/elapsed.Seconds(), fetches, float64(fetches)/elapsed.Seconds(),
		admitted.Round(time.Millisecond), attempts)
	if letIn.Load() != 0 {
		t.Fatalf("%d forged kids were let in", letIn.Load())
	}
	if most := 1 + int64(elapsed/oidc.DefaultUnknownKIDInterval); fetches > most {
		t.Fatalf("%d JWKS requests in %s, want at most %d", fetches, elapsed, most)
	}
}

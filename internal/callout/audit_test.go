package callout

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

func TestAuditLines(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, true)
	const token = "tok-alice"
	e := c.engine(t, fakeVerifier{token: identity("alice", "g", "other")}, c.orders.mapping("m", "reader", 0, "g"))

	tests := []struct {
		name   string
		opts   jwt.ConnectOptions
		checks map[string]any
		absent []string
	}{
		{
			name: "allow",
			opts: jwt.ConnectOptions{Token: token, Name: "alice-cli"},
			checks: map[string]any{
				"decision": "allow", "reason": "ok", "ping_sub": "alice", "name": "Alice Example",
				"oauth_client_id": "app-1", "mapping": "m", "account": c.orders.pub, "account_name": "ORDERS",
				"role": "reader", "client_host": "10.1.2.3", "client_id": float64(7), "server_id": c.serverPub,
				"connect_name": "alice-cli", "token_sha256": oidc.TokenHash(token), "token_kid": "kid-1",
				"session_cap": "2030-01-02T04:00:00Z", "time": "2030-01-02T03:04:05Z",
			},
		},
		{
			name:   "refused token",
			opts:   jwt.ConnectOptions{Username: "ORDERS", Password: "an-old-api-key"},
			checks: map[string]any{"decision": "deny", "reason": "bad_signature", "connect_user": "ORDERS", "token_sha256": oidc.TokenHash("an-old-api-key")},
			absent: []string{"mapping", "account", "ping_sub", "user_expires", "session_cap"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, hdr, upub := c.request(t, func(rc *jwt.AuthorizationRequestClaims) { rc.ConnectOptions = tc.opts })
			_, d := e.handle(context.Background(), data, hdr)
			if d.Allowed {
				// user_expires is the chosen expiry: the cap spread by the default for this nkey.
				tc.checks["user_expires"] = wantSpreadExpiry(time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC), c.now,
					calloutconfig.DefaultExpirySpreadPercent, upub).UTC().Format(time.RFC3339)
			}
			var sink auditSink
			a := NewAuditor(&sink, 4)
			a.Record(d.record(), "")
			a.Close()
			line := sink.raw()
			if strings.Count(line, "\n") != 1 {
				t.Fatalf("want exactly one line, got %q", line)
			}
			for _, secret := range []string{tc.opts.Token, tc.opts.Password} {
				if secret != "" && strings.Contains(line, secret) {
					t.Fatalf("audit line contains the raw token: %s", line)
				}
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.checks {
				if got[k] != want {
					t.Errorf("%s = %v, want %v", k, got[k], want)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present in a refusal: %v", k, got[k])
				}
			}
			if _, ok := got["latency_us"]; !ok {
				t.Error("latency_us missing")
			}
		})
	}
}

// blockingWriter blocks every write until released, like a stalled log pipe.
type blockingWriter struct{ release chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

func TestAuditorDropsInsteadOfBlocking(t *testing.T) {
	t.Parallel()
	w := blockingWriter{release: make(chan struct{})}
	a := NewAuditor(w, 2)
	accepted, dropped := 0, 0
	// Once the writer goroutine is stuck in a write (at the latest when its 64 KiB buffer
	// fills), two more lines fit in the queue; recording must then drop, never block.
	for range 5000 {
		if a.Record(AuditRecord{Decision: "deny"}, "") {
			accepted++
		} else {
			dropped++
		}
	}
	if dropped == 0 || uint64(dropped) != a.Dropped() {
		t.Fatalf("accepted %d, dropped %d (counter %d)", accepted, dropped, a.Dropped())
	}
	close(w.release)
	a.Close()
	if a.Written() != uint64(accepted) {
		t.Fatalf("wrote %d of %d accepted lines", a.Written(), accepted)
	}
}

func TestAuditorPublishes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	published := map[string][]string{}
	a := NewAuditor(io.Discard, 8)
	a.SetPublisher(func(subject string, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		published[subject] = append(published[subject], string(data))
		return nil
	})
	a.Record(AuditRecord{Decision: "allow", Reason: ReasonOK}, "audit.callout")
	a.Record(AuditRecord{Decision: "deny", Reason: ReasonNoMapping}, "")
	a.Close()
	got := published["audit.callout"]
	if len(published) != 1 || len(got) != 1 || !strings.Contains(got[0], `"decision":"allow"`) || strings.HasSuffix(got[0], "\n") {
		t.Fatalf("published %v", published)
	}
}

// TestAuditorRecordAfterClose: Shutdown closes the auditor when its deadline passes even if
// a decision is still running; that decision's line must be dropped, not crash the process
// with a send on a closed channel.
func TestAuditorRecordAfterClose(t *testing.T) {
	t.Parallel()
	a := NewAuditor(io.Discard, 4)
	a.Close()
	if a.Record(AuditRecord{Decision: "deny"}, "") {
		t.Fatal("a line recorded after Close was reported as queued")
	}
	if a.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", a.Dropped())
	}
	a.Close() // a second Close is harmless too
}

package callout

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// wantSpreadExpiry is the spread rule written out independently of the callout: the window is
// percent of the remaining session (whole seconds, at most 5m, leaving at least 10s), and the
// offset in it is the first 8 bytes of SHA-256(user nkey) modulo the window's seconds + 1.
func wantSpreadExpiry(sessionCap, now time.Time, percent float64, userNkey string) time.Time {
	sessionCap = time.Unix(sessionCap.Unix(), 0)
	remaining := sessionCap.Sub(now)
	window := min(time.Duration(float64(remaining)*percent/100), 5*time.Minute, remaining-10*time.Second)
	if window < time.Second {
		return sessionCap
	}
	h := sha256.Sum256([]byte(userNkey))
	return sessionCap.Add(-time.Duration(binary.BigEndian.Uint64(h[:8])%uint64(window/time.Second+1)) * time.Second)
}

// TestDecisionExpirySpread admits many connections of one token (one cap) and checks each
// user JWT's exp: never past the cap, inside the window, as the rule picks it for the
// connection's nkey, and spread over the window rather than all in one second.
func TestDecisionExpirySpread(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	tests := []struct {
		name       string
		percent    *float64 // nil: the document names none
		tokenExp   time.Duration
		maxSession time.Duration
		window     time.Duration // the widest spread expected
	}{
		{name: "absent means the default", tokenExp: time.Hour, maxSession: 8 * time.Hour, window: 3 * time.Minute},
		{name: "long sessions are bounded to 5m", percent: new(5.0), tokenExp: 8 * time.Hour, maxSession: 8 * time.Hour, window: 5 * time.Minute},
		{name: "max_session is the cap", percent: new(10.0), tokenExp: 8 * time.Hour, maxSession: 10 * time.Minute, window: time.Minute},
		{name: "half of a short session, keeping the floor", percent: new(50.0), tokenExp: 16 * time.Second, maxSession: time.Hour, window: 6 * time.Second},
		{name: "under the floor nothing is cut", percent: new(50.0), tokenExp: 8 * time.Second, maxSession: time.Hour},
		{name: "off", percent: new(0.0), tokenExp: time.Hour, maxSession: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := c.orders.mapping("m", "reader", 0, "g")
			m.MaxSession = calloutconfig.Duration(tc.maxSession)
			id := identity("alice", "g")
			id.Expiry = c.now.Add(tc.tokenExp)
			doc := c.doc(m)
			doc.ExpirySpreadPercent = tc.percent
			e, err := newEngine(doc, fakeVerifier{"tok-alice": id}, func() time.Time { return c.now })
			if err != nil {
				t.Fatal(err)
			}
			sessionCap := c.now.Add(min(tc.tokenExp, tc.maxSession))
			seen := map[int64]int{}
			const conns = 200
			for range conns {
				data, hdr, upub := c.request(t, nil)
				reply, d := e.handle(context.Background(), data, hdr)
				if !d.Allowed {
					t.Fatalf("refused: %s %s", d.Reason, d.Detail)
				}
				uc, err := jwt.DecodeUserClaims(c.response(t, reply).Jwt)
				if err != nil {
					t.Fatal(err)
				}
				exp := time.Unix(uc.Expires, 0)
				switch {
				case !d.SessionCap.Equal(sessionCap):
					t.Fatalf("session cap %v, want %v", d.SessionCap, sessionCap)
				case !d.Expires.Equal(exp):
					t.Fatalf("audited expiry %v, JWT exp %v", d.Expires, exp)
				case exp.After(sessionCap):
					t.Fatalf("exp %v is past the cap %v", exp, sessionCap)
				case exp.Before(sessionCap.Add(-tc.window)):
					t.Fatalf("exp %v is more than %s before the cap %v", exp, tc.window, sessionCap)
				case tc.window > 0 && exp.Sub(c.now) < calloutconfig.ExpirySpreadFloor:
					t.Fatalf("exp %v leaves less than the floor", exp)
				case !exp.Equal(wantSpreadExpiry(sessionCap, c.now, doc.ExpirySpread(), upub)):
					t.Fatalf("exp %v, want %v for %s", exp, wantSpreadExpiry(sessionCap, c.now, doc.ExpirySpread(), upub), upub)
				}
				seen[uc.Expires]++
			}
			if tc.window == 0 {
				if len(seen) != 1 || seen[sessionCap.Unix()] != conns {
					t.Fatalf("unspread: want every exp at the cap, got %d distinct", len(seen))
				}
				return
			}
			// 200 nkeys over window+1 seconds: a uniform pick fills well over a third of them
			// and puts no more than a third of the connections in one second.
			slots := int(tc.window/time.Second) + 1
			most := 0
			for _, n := range seen {
				most = max(most, n)
			}
			if len(seen) < min(slots, conns)/3 || most > conns/3 {
				t.Fatalf("exp spread over %d of %d seconds, most in one second %d", len(seen), slots, most)
			}
		})
	}
}

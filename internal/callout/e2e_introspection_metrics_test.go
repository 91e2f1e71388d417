package callout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// introspectionMetrics scrapes /metrics and returns the natsping_callout_introspection_*
// series by name, without the prefix. Every series must be present, so a metric that is
// renamed or dropped fails here rather than on a dashboard.
func introspectionMetrics(t *testing.T, url string) map[string]float64 {
	t.Helper()
	_, body := get(t, url+"/metrics")
	out := map[string]float64{}
	for _, name := range []string{"requests_total", "failures_total", "inactive_total", "cache_hits_total",
		"stale_served_total", "rate_limited_total", "suppressed_total", "cache_entries", "cache_bytes"} {
		m := regexp.MustCompile(`(?m)^natsping_callout_introspection_` + name + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no natsping_callout_introspection_%s:\n%s", name, body)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return out
}

// expectMetrics compares the counters named in want; the rest may have any value.
func expectMetrics(t *testing.T, step string, got map[string]float64, want map[string]float64) {
	t.Helper()
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: introspection %s = %v, want %v (all: %v)", step, name, got[name], v, got)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// TestIntrospectionMetrics follows each introspection counter through what moves it, as
// /metrics shows it: a call, a fresh cache hit, a revocation, an outage served from the cache
// and then paused, a flood of invented tokens cut off by the call budget, and a reload to a
// new introspector that must not reset any counter.
func TestIntrospectionMetrics(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	idp := pingonetest.New(pingonetest.Options{Now: clk.now})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	mapping := e.orders.mapping("orders-readers", "reader", 0, "order-readers")
	reusing := func(iss calloutconfig.Issuer) calloutconfig.Issuer {
		iss.Introspection.ReuseFor = calloutconfig.Duration(oidc.DefaultIntrospectionFreshFor)
		return iss
	}
	s, _ := startService(t, e.doc(reusing(introspectingIssuer(idp, idp.IntrospectionURL(), "")), mapping), Options{Now: clk.now})
	h := httptest.NewServer(s.HTTPHandler())
	t.Cleanup(h.Close)
	groups := []string{"order-readers"}

	expectMetrics(t, "before any token", introspectionMetrics(t, h.URL), map[string]float64{
		"requests_total": 0, "failures_total": 0, "inactive_total": 0, "cache_hits_total": 0,
		"stale_served_total": 0, "rate_limited_total": 0, "suppressed_total": 0, "cache_entries": 0, "cache_bytes": 0,
	})
	// A JWT is verified locally and never counted here.
	admitted(t, e, idp.IssueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: groups}))

	alice := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: groups})
	admitted(t, e, alice)
	admitted(t, e, alice)
	got := introspectionMetrics(t, h.URL)
	expectMetrics(t, "a token and its reconnect", got, map[string]float64{"requests_total": 1, "cache_hits_total": 1, "cache_entries": 1})
	if got["cache_bytes"] <= 0 {
		t.Fatalf("cache_bytes %v with an answer cached", got["cache_bytes"])
	}

	bob := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: bobID, Groups: groups})
	admitted(t, e, bob)
	idp.RevokeToken(bob)
	clk.advance(oidc.DefaultIntrospectionFreshFor)
	refused(t, e, bob)
	expectMetrics(t, "a revocation", introspectionMetrics(t, h.URL), map[string]float64{
		"requests_total": 3, "inactive_total": 1, "cache_hits_total": 1, "cache_entries": 1,
	})

	// Alice's answer is past its fresh window: during the outage it is served stale after one
	// failed call, and the next new token is refused without a call during the pause.
	idp.SetIntrospectionAvailable(false)
	admitted(t, e, alice)
	refused(t, e, idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: bobID, Groups: groups}))
	expectMetrics(t, "an outage", introspectionMetrics(t, h.URL), map[string]float64{
		"requests_total": 4, "failures_total": 1, "stale_served_total": 1, "suppressed_total": 1, "rate_limited_total": 0,
	})

	// Invented tokens, one after another, straight to the verifier: each costs a call until
	// the budget for tokens not cached is spent, then none.
	idp.SetIntrospectionAvailable(true)
	clk.advance(oidc.DefaultIntrospectionRetryInterval)
	const flood = 2 * oidc.DefaultIntrospectionBurst
	v := s.state.Load().iss.verifier
	for range flood {
		var b [32]byte
		_, _ = rand.Read(b[:])
		if _, err := v.Verify(context.Background(), base64.RawURLEncoding.EncodeToString(b[:])); err == nil {
			t.Fatal("an invented opaque token was accepted")
		}
	}
	got = introspectionMetrics(t, h.URL)
	limited := got["rate_limited_total"]
	if limited < flood-oidc.DefaultIntrospectionBurst-oidc.DefaultIntrospectionRate || limited >= flood {
		t.Fatalf("%v of %d invented tokens were rate-limited; the budget lets about %d through", limited, flood, oidc.DefaultIntrospectionBurst)
	}
	sent := flood - limited
	expectMetrics(t, "a flood", got, map[string]float64{"requests_total": 4 + sent, "inactive_total": 1 + sent, "failures_total": 1})

	// A reload to another auth method builds a new introspector: the counters carry on from
	// where they were, and the new one adds to them.
	before := got
	if err := s.Reload(e.doc(reusing(introspectingIssuer(idp, idp.PingFederateIntrospectionURL(), "client_secret_post")), mapping)); err != nil {
		t.Fatal(err)
	}
	if s.state.Load().iss.verifier == v {
		t.Fatal("the reload kept the introspector; the test needs a new one")
	}
	expectMetrics(t, "after the reload", introspectionMetrics(t, h.URL), map[string]float64{
		"requests_total": before["requests_total"], "rate_limited_total": before["rate_limited_total"],
		"cache_hits_total": 1, "stale_served_total": 1, "suppressed_total": 1, "cache_entries": 0,
	})
	admitted(t, e, idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: groups}))
	expectMetrics(t, "a token after the reload", introspectionMetrics(t, h.URL), map[string]float64{
		"requests_total": before["requests_total"] + 1, "cache_entries": 1,
	})
}

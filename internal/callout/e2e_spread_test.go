package callout

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// A reconnect storm: clients admitted together with tokens that all expire in the same
// second. Each client reconnects, when the server ends its session, with a fresh token from
// its TokenHandler, as an application holding a token source does. TestE2EExpirySpread
// checks it; BenchmarkReconnectStorm measures it.

type stormOptions struct {
	clients int
	percent float64 // expiry_spread_percent, rendered explicitly
	// lead is how long the first sessions should last; the tokens' exp is set after the
	// setup, which is timed, so that about this much is left when the last client is in.
	lead time.Duration
	xkey bool
}

type stormResult struct {
	tokenExp time.Time
	// first and again are the audit lines of the first sessions and of the reconnects.
	first, again []AuditRecord
	// refused counts audit denials and failed client reconnect attempts.
	refused, denied, failedAttempts int
	// reconnect is, per client, the time from its disconnect to being connected again. It is
	// not measured from the user JWT's exp: nats-server arms its expiry timer in whole seconds
	// from the connect, so it closes a connection up to a second after exp.
	reconnect []time.Duration
	// reconnectedAt is when each client was connected again.
	reconnectedAt []time.Time
}

// stormClient connects with first until it has been connected once, then with again.
type stormClient struct {
	first, again string
	used         atomic.Bool
	// disconnected and reconnected are the unix nanoseconds of the first of each.
	disconnected, reconnected atomic.Int64
}

func (c *stormClient) token() string {
	if c.used.Swap(true) {
		return c.again
	}
	return c.first
}

func runReconnectStorm(tb testing.TB, o stormOptions) *stormResult {
	tb.Helper()
	idp := pingonetest.New(pingonetest.Options{})
	tb.Cleanup(idp.Close)
	e := newNATSEnv(tb, envOptions{xkey: o.xkey})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	doc.ExpirySpreadPercent = new(o.percent)
	_, audit := startService(tb, doc, Options{AuditBuffer: 4 * o.clients})

	issue := func(opts func(i int) pingonetest.TokenOptions) []string {
		out := make([]string, o.clients)
		var wg sync.WaitGroup
		per := (o.clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
		for lo := 0; lo < o.clients; lo += per {
			wg.Go(func() {
				for i := lo; i < min(lo+per, o.clients); i++ {
					out[i] = idp.IssueToken(opts(i))
				}
			})
		}
		wg.Wait()
		return out
	}
	person := func(i int) pingonetest.TokenOptions {
		return pingonetest.TokenOptions{Subject: fmt.Sprintf("storm-user-%05d", i), Groups: []string{"order-readers"},
			Extra: map[string]any{"name": fmt.Sprintf("Storm User %d", i)}}
	}
	started := time.Now()
	again := issue(person) // the fresh tokens, valid for an hour
	setup := time.Since(started)
	// Issuing as many tokens again and connecting every client each take about as long as
	// issuing these did; exp is whole seconds.
	res := &stormResult{tokenExp: time.Now().Add(o.lead + 4*setup).Truncate(time.Second)}
	first := issue(func(i int) pingonetest.TokenOptions {
		t := person(i)
		t.IssuedAt, t.Expiry = res.tokenExp.Add(-30*time.Minute), res.tokenExp
		return t
	})

	var back atomic.Int64
	done := make(chan struct{}, o.clients)
	var failed atomic.Int64
	clients := make([]*stormClient, o.clients)
	conns := make([]*nats.Conn, o.clients)
	sem := make(chan struct{}, 16) // the first connects are not the storm
	var wg sync.WaitGroup
	for i := range clients {
		c := &stormClient{first: first[i], again: again[i]}
		clients[i] = c
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			nc, err := nats.Connect(e.url, nats.TokenHandler(c.token), nats.IgnoreAuthErrorAbort(),
				nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.Timeout(5*time.Second),
				nats.ReconnectErrHandler(func(*nats.Conn, error) { failed.Add(1) }),
				// A reconnect refused by the server is reported here, beside the expiry notice.
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
					if !errors.Is(err, nats.ErrAuthExpired) {
						failed.Add(1)
					}
				}),
				nats.DisconnectErrHandler(func(*nats.Conn, error) { c.disconnected.CompareAndSwap(0, time.Now().UnixNano()) }),
				nats.ReconnectHandler(func(*nats.Conn) {
					if c.reconnected.CompareAndSwap(0, time.Now().UnixNano()) {
						back.Add(1)
						done <- struct{}{}
					}
				}))
			if err != nil {
				tb.Errorf("client %d: first connect: %v", i, err)
				return
			}
			conns[i] = nc
		})
	}
	wg.Wait()
	tb.Cleanup(func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
	})
	if tb.Failed() {
		tb.FailNow()
	}
	if left := time.Until(res.tokenExp); left < o.lead/2 {
		tb.Fatalf("setup took until %s before the tokens' exp, wanted about %s: the machine is too busy for this storm", left, o.lead)
	}
	// Bounded so that a client that never comes back fails the run instead of hanging it.
	deadline := time.After(time.Until(res.tokenExp) + 60*time.Second)
	for range o.clients {
		select {
		case <-done:
		case <-deadline:
			tb.Fatalf("only %d of %d clients reconnected within a minute after the tokens' exp", back.Load(), o.clients)
		}
	}

	firstHashes, againHashes := map[string]int{}, map[string]bool{}
	for i := range first {
		firstHashes[oidc.TokenHash(first[i])], againHashes[oidc.TokenHash(again[i])] = i, true
	}
	waitUntil := time.Now().Add(10 * time.Second)
	for {
		res.first, res.again, res.denied = nil, nil, 0
		for _, r := range audit.records(tb) {
			_, isFirst := firstHashes[r.TokenSHA256]
			switch {
			case r.Decision != "allow":
				res.denied++
			case isFirst:
				res.first = append(res.first, r)
			case againHashes[r.TokenSHA256]:
				res.again = append(res.again, r)
			}
		}
		if len(res.first) >= o.clients && len(res.again) >= o.clients || time.Now().After(waitUntil) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range res.first {
		c := clients[firstHashes[r.TokenSHA256]]
		at := time.Unix(0, c.reconnected.Load())
		res.reconnect = append(res.reconnect, at.Sub(time.Unix(0, c.disconnected.Load())))
		res.reconnectedAt = append(res.reconnectedAt, at)
	}
	res.failedAttempts = int(failed.Load())
	res.refused = res.denied + res.failedAttempts
	return res
}

// expiryBuckets counts the first sessions' user JWT expiries per second.
func (r *stormResult) expiryBuckets() map[int64]int {
	out := map[int64]int{}
	for _, rec := range r.first {
		out[rec.UserExpires.Unix()]++
	}
	return out
}

// peakPerSecond is the most reconnect decisions the callout started within one window of d,
// scaled to a rate per second.
func (r *stormResult) peakPerSecond(d time.Duration) float64 {
	counts := map[int64]int{}
	most := 0
	for _, rec := range r.again {
		k := rec.Time.UnixNano() / int64(d)
		counts[k]++
		most = max(most, counts[k])
	}
	return float64(most) * float64(time.Second) / float64(d)
}

func (r *stormResult) decisionLatencies() []time.Duration {
	out := make([]time.Duration, 0, len(r.again))
	for _, rec := range r.again {
		out = append(out, time.Duration(rec.LatencyMicros)*time.Microsecond)
	}
	return out
}

// reconnectsPerSecond renders how many clients were back in each second, for the log.
func (r *stormResult) reconnectsPerSecond() string {
	counts := map[int64]int{}
	for _, at := range r.reconnectedAt {
		counts[at.Unix()]++
	}
	secs := make([]int64, 0, len(counts))
	for s := range counts {
		secs = append(secs, s)
	}
	slices.Sort(secs)
	out := ""
	for _, s := range secs {
		out += fmt.Sprintf(" exp%+ds:%d", s-r.tokenExp.Unix(), counts[s])
	}
	return out
}

func (r *stormResult) log(tb testing.TB, name string) {
	tb.Helper()
	lat := r.decisionLatencies()
	tb.Logf("%s: %d clients; first sessions end in %d distinct seconds; reconnects per second:%s; peak %.0f decisions/s "+
		"(per 100 ms: %.0f/s); refused %d (denied %d, failed attempts %d); decision p50 %.2f ms p99 %.2f ms "+
		"(server auth timeout 2 s); reconnect p50 %.1f ms p99 %.1f ms (nats.go waits 100 ms + up to 100 ms jitter)",
		name, len(r.reconnect), len(r.expiryBuckets()), r.reconnectsPerSecond(), r.peakPerSecond(time.Second),
		r.peakPerSecond(100*time.Millisecond), r.refused, r.denied, r.failedAttempts,
		percentile(lat, 50), percentile(lat, 99), percentile(r.reconnect, 50), percentile(r.reconnect, 99))
}

// TestE2EExpirySpread: clients whose tokens expire in the same second. With spreading, their
// first sessions end over several seconds (counted from the user JWTs' exp, which the server
// enforces), so they come back over the window, and none is refused. Without it every session
// ends at the token's exp and the whole cohort comes back at once; that spike is measured and
// logged, never asserted on, as is the callout's decision latency.
func TestE2EExpirySpread(t *testing.T) {
	clients := 500
	if testing.Short() {
		clients = 50
	}
	t.Run("spread", func(t *testing.T) {
		// 50% of a ~14 s session is 7 s, bounded so that 10 s remain: a 4 s window, as a few
		// percent is of a real session.
		r := runReconnectStorm(t, stormOptions{clients: clients, percent: 50, lead: 14 * time.Second, xkey: true})
		r.log(t, "spread 50%")
		if r.refused != 0 {
			t.Errorf("refused %d times (denied %d, failed reconnect attempts %d), want none", r.refused, r.denied, r.failedAttempts)
		}
		checkFirstSessions(t, r, clients)
		buckets := r.expiryBuckets()
		most := 0
		for _, n := range buckets {
			most = max(most, n)
		}
		if len(buckets) < 3 || most > clients/2 {
			t.Errorf("first sessions end in %d distinct seconds (at most %d in one), want at least 3 and no more than half in one: %v",
				len(buckets), most, buckets)
		}
		for _, rec := range r.first {
			if !rec.UserExpires.Equal(rec.SessionCap) && rec.UserExpires.Sub(rec.Time) < calloutconfig.ExpirySpreadFloor {
				t.Fatalf("user %s was admitted at %v until %v, less than the spread floor", rec.UserNkey, rec.Time, rec.UserExpires)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		r := runReconnectStorm(t, stormOptions{clients: clients, percent: 0, lead: 3 * time.Second, xkey: true})
		r.log(t, "spread off")
		checkFirstSessions(t, r, clients)
		if buckets := r.expiryBuckets(); len(buckets) != 1 || buckets[r.tokenExp.Unix()] != clients {
			t.Errorf("unspread, every session should end at the token's exp %v: %v", r.tokenExp, buckets)
		}
	})
}

// checkFirstSessions: every client was admitted once with the expiring token, capped at its
// exp and never past it, and admitted again with its fresh token.
func checkFirstSessions(t *testing.T, r *stormResult, clients int) {
	t.Helper()
	if len(r.first) != clients || len(r.again) < clients || len(r.reconnect) != clients {
		t.Fatalf("%d first sessions, %d reconnect admissions, %d reconnected clients; want %d each",
			len(r.first), len(r.again), len(r.reconnect), clients)
	}
	for _, rec := range r.first {
		if !rec.SessionCap.Equal(r.tokenExp) || rec.UserExpires.After(rec.SessionCap) {
			t.Fatalf("first session of %s: cap %v, expires %v; want the token's exp %v and never later",
				rec.UserNkey, rec.SessionCap, rec.UserExpires, r.tokenExp)
		}
	}
}

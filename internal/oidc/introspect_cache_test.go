package oidc

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestIntrospectionCacheHit(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, in := newIntroVerifier(t, srv, clock, nil)
	ref := opaqueRef("hit")
	srv.set(ref, introAnswer(testEpoch))
	ctx := context.Background()
	for range 3 {
		if _, err := v.Verify(ctx, ref); err != nil {
			t.Fatal(err)
		}
		clock.Advance(DefaultIntrospectionFreshFor / 4)
	}
	st := v.Stats().Introspection
	if srv.hits.Load() != 1 || st.Requests != 1 || st.CacheHits != 2 || st.CacheEntries != 1 || st.CacheBytes <= answerOverhead {
		t.Fatalf("3 connects inside the fresh window: %d requests, stats %+v; want 1 request and 2 hits", srv.hits.Load(), st)
	}
	// The entry dies with exp; past it the endpoint is asked again (this one still says
	// active) and the policy refuses what it says.
	clock.Advance(time.Hour + time.Minute)
	_, err := v.Verify(ctx, ref)
	wantReason(t, err, ReasonExpired)
	if got := in.Stats().CacheEntries; got != 0 {
		t.Fatalf("%d entries left after exp", got)
	}
}

// TestIntrospectionRevocationSeenAfterFreshWindow pins the trade-off: inside the fresh window
// a revoked token is still admitted from the cache, on the first connect after it the
// issuer is asked again and the token is refused.
func TestIntrospectionRevocationSeenAfterFreshWindow(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, in := newIntroVerifier(t, srv, clock, func(o *IntrospectorOptions) { o.FreshFor = 10 * time.Second })
	ref := opaqueRef("revoked")
	srv.set(ref, introAnswer(testEpoch))
	ctx := context.Background()
	if _, err := v.Verify(ctx, ref); err != nil {
		t.Fatal(err)
	}
	srv.revoke(ref)
	clock.Advance(9 * time.Second)
	if _, err := v.Verify(ctx, ref); err != nil {
		t.Fatalf("inside the fresh window: %v", err)
	}
	clock.Advance(time.Second)
	_, err := v.Verify(ctx, ref)
	wantReason(t, err, ReasonTokenInactive)
	// Not cached as positive, nor served stale when the endpoint then fails.
	srv.fail(http.StatusServiceUnavailable, "", "")
	_, err = v.Verify(ctx, ref)
	wantReason(t, err, ReasonIntrospectionUnavailable)
	if st := in.Stats(); st.Inactive != 1 || st.StaleServed != 0 || st.CacheEntries != 0 {
		t.Fatalf("stats %+v", st)
	}

	// FreshFor < 0 asks on every connect: the revocation is seen on the very next one.
	srv2 := newIntroServer(t)
	v2, _ := newIntroVerifier(t, srv2, clock, func(o *IntrospectorOptions) { o.FreshFor = -1 })
	srv2.set(ref, introAnswer(clock.Now()))
	if _, err := v2.Verify(ctx, ref); err != nil {
		t.Fatal(err)
	}
	srv2.revoke(ref)
	_, err = v2.Verify(ctx, ref)
	wantReason(t, err, ReasonTokenInactive)
}

// TestIntrospectionStaleIfError: while the endpoint is down a token answered before keeps
// working until its exp, a token never answered is refused, and the endpoint is left alone
// for the retry interval instead of being asked by every decision.
func TestIntrospectionStaleIfError(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, in := newIntroVerifier(t, srv, clock, nil)
	known, unknown := opaqueRef("known"), opaqueRef("new")
	srv.set(known, introAnswer(testEpoch))
	srv.set(unknown, introAnswer(testEpoch))
	ctx := context.Background()
	if _, err := v.Verify(ctx, known); err != nil {
		t.Fatal(err)
	}

	srv.fail(http.StatusServiceUnavailable, "", "")
	clock.Advance(DefaultIntrospectionFreshFor + time.Second)
	id, err := v.Verify(ctx, known)
	if err != nil || id.Subject != "5a8b1c3e-0000-4000-8000-000000000001" {
		t.Fatalf("a cached token during an outage: %v", err)
	}
	_, err = v.Verify(ctx, unknown)
	wantReason(t, err, ReasonIntrospectionUnavailable)
	if !strings.Contains(err.Error(), "not asked until") {
		t.Fatalf("the new token was sent although the endpoint just failed: %v", err)
	}
	if st := in.Stats(); srv.hits.Load() != 2 || st.StaleServed != 1 || st.Failures != 1 || st.Suppressed != 1 {
		t.Fatalf("%d requests, stats %+v", srv.hits.Load(), st)
	}

	// Until exp, and not a moment longer.
	clock.Advance(50 * time.Minute)
	if _, err := v.Verify(ctx, known); err != nil {
		t.Fatalf("before exp during the outage: %v", err)
	}
	clock.Advance(10 * time.Minute)
	_, err = v.Verify(ctx, known)
	wantReason(t, err, ReasonIntrospectionUnavailable)

	// Back up: the new token is answered.
	srv.fail(0, "", "")
	srv.set(unknown, introAnswer(clock.Now()))
	clock.Advance(DefaultIntrospectionRetryInterval)
	if _, err := v.Verify(ctx, unknown); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

func TestIntrospectionHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, _ := newIntroVerifier(t, srv, clock, nil)
	srv.fail(http.StatusTooManyRequests, "", "5")
	ctx := context.Background()
	_, err := v.Verify(ctx, opaqueRef("a"))
	wantReason(t, err, ReasonIntrospectionUnavailable)
	srv.fail(0, "", "")
	srv.set(opaqueRef("b"), introAnswer(testEpoch))
	clock.Advance(4 * time.Second)
	_, err = v.Verify(ctx, opaqueRef("b"))
	wantReason(t, err, ReasonIntrospectionUnavailable)
	clock.Advance(time.Second)
	if _, err := v.Verify(ctx, opaqueRef("b")); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want 2: none while the issuer asked for quiet", n)
	}
}

// TestIntrospectionRateLimit: a flood of tokens nobody has seen spends only its own budget
// and is refused without reaching the issuer; the revalidation of a cached token still gets
// through, so a revoked token cannot ride out the flood on its cached answer.
func TestIntrospectionRateLimit(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, in := newIntroVerifier(t, srv, clock, func(o *IntrospectorOptions) { o.Rate, o.Burst = 1, 3 })
	ctx := context.Background()
	held := opaqueRef("held")
	srv.set(held, introAnswer(testEpoch))
	if _, err := v.Verify(ctx, held); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultIntrospectionFreshFor) // refills the new-token budget, ages the answer
	for i := range 3 {
		_, err := v.Verify(ctx, opaqueRef("flood"+string(rune('a'+i))))
		wantReason(t, err, ReasonTokenInactive)
	}
	for i := range 5 {
		_, err := v.Verify(ctx, opaqueRef("more"+string(rune('a'+i))))
		wantReason(t, err, ReasonIntrospectionRateLimited)
	}
	srv.revoke(held)
	_, err := v.Verify(ctx, held)
	wantReason(t, err, ReasonTokenInactive)
	if st := in.Stats(); srv.hits.Load() != 5 || st.RateLimited != 5 {
		t.Fatalf("%d requests, stats %+v; want 1 + 3 + 1 requests and 5 refused unsent", srv.hits.Load(), st)
	}
	clock.Advance(time.Second)
	_, err = v.Verify(ctx, opaqueRef("later"))
	wantReason(t, err, ReasonTokenInactive)
}

// TestIntrospectionRevalidationBudgetServesStale: when even the revalidation budget is spent
// (a reconnect storm of many holders), a cached answer is served as during an outage.
func TestIntrospectionRevalidationBudgetServesStale(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, in := newIntroVerifier(t, srv, clock, func(o *IntrospectorOptions) { o.Rate, o.Burst = rate.Every(time.Hour), 2 })
	ctx := context.Background()
	refs := []string{opaqueRef("one"), opaqueRef("two"), opaqueRef("three")}
	for i, ref := range refs {
		srv.set(ref, introAnswer(testEpoch))
		if i < 2 {
			if _, err := v.Verify(ctx, ref); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := v.Verify(ctx, refs[2])
	wantReason(t, err, ReasonIntrospectionRateLimited)
	for range 2 {
		clock.Advance(DefaultIntrospectionFreshFor)
		for _, ref := range refs[:2] {
			if _, err := v.Verify(ctx, ref); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st := in.Stats(); srv.hits.Load() != 4 || st.StaleServed != 2 {
		t.Fatalf("%d requests, stats %+v; want 2 answers, 2 revalidations, then 2 served stale", srv.hits.Load(), st)
	}
}

// TestIntrospectionSharesConcurrentCalls: lookups of one token while its call is running wait
// for that call instead of sending their own.
func TestIntrospectionSharesConcurrentCalls(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	v, in := newIntroVerifier(t, srv, newFakeClock(testEpoch), func(o *IntrospectorOptions) { o.CacheEntries = -1 })
	ref := opaqueRef("shared")
	srv.set(ref, introAnswer(testEpoch))
	release := make(chan struct{})
	srv.setBlock(release)
	const n = 16
	var waiting sync.WaitGroup
	waiting.Add(n)
	in.onWait = waiting.Done
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := v.Verify(context.Background(), ref)
			errs <- err
		}()
	}
	waiting.Wait()
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("%d concurrent lookups sent %d requests, want 1", n, got)
	}
}

// TestIntrospectionDeadline: a caller whose decision deadline passes gets a refusal at once,
// and the call it started still completes into the cache for the next connect.
func TestIntrospectionDeadline(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	v, in := newIntroVerifier(t, srv, newFakeClock(testEpoch), nil)
	ref := opaqueRef("slow")
	srv.set(ref, introAnswer(testEpoch))
	release := make(chan struct{})
	srv.setBlock(release)
	ctx, cancel := context.WithCancel(context.Background())
	in.onWait = cancel
	_, err := v.Verify(ctx, ref)
	wantReason(t, err, ReasonIntrospectionUnavailable)
	in.onWait = nil
	close(release)
	// The detached call finishes and fills the cache; this lookup either joins it or hits.
	if _, err := v.Verify(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("%d requests, want the one the cancelled caller started", got)
	}
}

func TestAnswerCacheBounds(t *testing.T) {
	t.Parallel()
	exp := testEpoch.Add(time.Hour)
	a := func(h string, size int) *answer { return &answer{hash: h, exp: exp, size: size} }

	c := newAnswerCache(2, 1000)
	c.put(a("a", 100))
	c.put(a("b", 100))
	c.put(a("c", 100))
	if _, ok := c.get("a", testEpoch); ok {
		t.Fatal("the least recently used entry survived the entry bound")
	}
	c = newAnswerCache(100, 1000)
	c.put(a("a", 400))
	c.put(a("b", 400))
	c.get("a", testEpoch)
	c.put(a("c", 400))
	if _, ok := c.get("b", testEpoch); ok {
		t.Fatal("the byte bound did not evict")
	}
	if n, b := c.stats(); n != 2 || b != 800 {
		t.Fatalf("%d entries, %d bytes", n, b)
	}
	c.put(a("huge", 1001))
	if _, ok := c.get("huge", testEpoch); ok {
		t.Fatal("an answer larger than the budget was stored")
	}
	if _, ok := c.get("a", testEpoch); !ok {
		t.Fatal("an oversized answer evicted the others")
	}
	c.put(a("a", 100)) // replacing re-charges
	if _, b := c.stats(); b != 500 {
		t.Fatalf("%d bytes after replacing a 400-byte answer with a 100-byte one", b)
	}
	if _, ok := c.get("a", exp); ok {
		t.Fatal("an answer was served at its exp")
	}
}

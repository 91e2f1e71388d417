package oidc

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestVerifyCacheHonoursClock(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	keys := mustStatic(t, jwksOf(t, k1.public()))
	ctx := context.Background()

	cases := []struct {
		name    string
		ttl     time.Duration
		advance time.Duration
		want    Reason // empty: the second Verify succeeds
		hits    uint64
		nbf     time.Duration // when set, the token carries nbf = epoch + nbf
	}{
		{name: "hit while valid", advance: 10 * time.Minute, ttl: time.Hour, hits: 1},
		// The entry dies with exp+skew, so the full check refuses it as expired.
		{name: "after exp the token is refused", advance: time.Hour + 31*time.Second, ttl: 2 * time.Hour, want: ReasonExpired, hits: 0},
		{name: "hit with the clock set back before nbf", nbf: 10 * time.Second, advance: -time.Minute, ttl: time.Hour, want: ReasonNotYetValid, hits: 1},
		{name: "exp inside skew still valid", advance: time.Hour + 29*time.Second, ttl: 2 * time.Hour, hits: 1},
		{name: "entry older than the TTL is verified again", advance: 6 * time.Minute, hits: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock(testEpoch)
			v := mustVerifier(t, testPolicy(), keys, VerifierOptions{Now: clock.Now, CacheSize: 8, CacheTTL: tc.ttl})
			claims := pingClaims(testEpoch)
			if tc.nbf != 0 {
				claims["nbf"] = testEpoch.Add(tc.nbf).Unix()
			}
			raw := signClaims(t, k1, claims, nil)
			if _, err := v.Verify(ctx, raw); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.advance)
			id, err := v.Verify(ctx, raw)
			if tc.want != "" {
				wantReason(t, err, tc.want)
			} else if err != nil || id.TokenHash != TokenHash(raw) {
				t.Fatalf("second verify: %v", err)
			}
			if st := v.Stats(); st.CacheHits != tc.hits {
				t.Fatalf("stats = %+v, want %d hits", st, tc.hits)
			}
		})
	}
}

func TestVerifyCacheNeverCachesFailures(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	clock := newFakeClock(testEpoch)
	v := mustVerifier(t, testPolicy(), mustStatic(t, jwksOf(t, k1.public())), VerifierOptions{Now: clock.Now, CacheSize: 8})
	claims := pingClaims(testEpoch)
	claims["nbf"] = testEpoch.Add(time.Minute).Unix()
	raw := signClaims(t, k1, claims, nil)
	_, err := v.Verify(context.Background(), raw)
	wantReason(t, err, ReasonNotYetValid)
	clock.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatalf("a token refused earlier must be judged afresh once valid: %v", err)
	}
}

func TestVerifyCacheDropsTokensOfRemovedKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := rsaTestKey(0, "k1"), rsaTestKey(1, "k2")
	f := newRemoteFixture(t, 8, k1)
	ctx := context.Background()
	raw := f.token(t, k1)
	if _, err := f.v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	// A refresh that keeps k1 keeps the cache entry (unchanged keys keep their identity).
	f.srv.set(jwksOf(t, k1.public(), k2.public()))
	if err := f.keys.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if st := f.v.Stats(); st.CacheHits != 1 {
		t.Fatalf("stats = %+v, want the unchanged key to keep its cached token", st)
	}
	// Once the issuer stops publishing k1, its tokens stop working even from the cache.
	f.srv.set(jwksOf(t, k2.public()))
	if err := f.keys.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := f.v.Verify(ctx, raw)
	wantReason(t, err, ReasonUnknownKey)
}

func TestVerifyCacheEvictsAndIsolatesCallers(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	v := mustVerifier(t, testPolicy(), mustStatic(t, jwksOf(t, k1.public())),
		VerifierOptions{Now: func() time.Time { return testEpoch }, CacheSize: 2})
	ctx := context.Background()
	var tokens []string
	for i := range 3 {
		c := pingClaims(testEpoch)
		c["jti"] = i
		tokens = append(tokens, signClaims(t, k1, c, nil))
	}
	for _, tok := range tokens {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if st := v.Stats(); st.CacheEntries != 2 {
		t.Fatalf("stats = %+v, want the cache bounded at 2", st)
	}
	// tokens[0] was evicted, tokens[2] is still cached.
	if _, err := v.Verify(ctx, tokens[2]); err != nil {
		t.Fatal(err)
	}
	first, _ := v.Verify(ctx, tokens[2])
	first.Groups[0] = "nats-admins"
	second, _ := v.Verify(ctx, tokens[2])
	if second.Groups[0] != "nats-readers" {
		t.Fatalf("a caller's edit leaked into the cache: %q", second.Groups)
	}
	if st := v.Stats(); st.CacheHits != 3 || st.CacheMisses != 3 {
		t.Fatalf("stats = %+v", st)
	}
	if _, err := v.Verify(ctx, tokens[0]); err != nil {
		t.Fatal(err)
	}
	if st := v.Stats(); st.CacheMisses != 4 {
		t.Fatalf("evicted token should have missed: %+v", st)
	}
}

func TestVerifyCacheConcurrent(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	clock := newFakeClock(testEpoch)
	v := mustVerifier(t, testPolicy(), mustStatic(t, jwksOf(t, k1.public())), VerifierOptions{Now: clock.Now, CacheSize: 4})
	good := signClaims(t, k1, pingClaims(testEpoch), nil)
	badClaims := pingClaims(testEpoch)
	badClaims["scope"] = "nats:connect nats:admin"
	bad := signClaims(t, k1, badClaims, nil)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if _, err := v.Verify(context.Background(), good); err != nil {
					t.Errorf("worker %d: good token refused: %v", w, err)
					return
				}
				if _, err := v.Verify(context.Background(), bad); ReasonOf(err) != ReasonForbiddenScope || err == nil {
					t.Errorf("worker %d iteration %d: bad token: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The key set under a flood of forged kids, in fake time: whatever the flood does, a key the
// issuer announced is used without a single refusal, one it never announced is admitted
// within an unknown-kid interval, and the issuer sees about one request a second.

// forgedToken has claims that pass the policy and a 2048-bit signature, so nothing but the
// missing key tells it apart from a real token: the worst case for the refetch budget.
func (f *remoteFixture) forgedToken(t testing.TB, i int) string {
	return signClaims(t, testKey{kid: fmt.Sprintf("forged-%d", i), alg: jose.RS256, priv: rsaPool()[3]}, pingClaims(f.clock.Now()), nil)
}

func TestRemoteKeySetForgedKidFloodCannotStarveAnUnannouncedKey(t *testing.T) {
	t.Parallel()
	k1, k2 := rsaTestKey(0, "k1"), rsaTestKey(1, "k2-unannounced")
	f := newRemoteFixture(t, 0, k1)
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, f.token(t, k1)); err != nil {
		t.Fatal(err)
	}

	const (
		step     = 20 * time.Millisecond // 50 forged kids a second
		retry    = 250 * time.Millisecond
		rotateAt = 3 * time.Second
		duration = 10 * time.Second
	)
	admitted := time.Duration(-1)
	for elapsed := time.Duration(0); elapsed < duration; elapsed += step {
		// The forged kid comes first in every step, so at the rotation it has just spent
		// the refetch on a JWKS that does not have k2 yet: the worst moment.
		wantReason(t, verifyErr(f.v.Verify(ctx, f.forgedToken(t, int(elapsed/step)))), ReasonUnknownKey)
		if elapsed == rotateAt {
			f.srv.set(jwksOf(t, k1.public(), k2.public()))
		}
		if elapsed%retry == 0 {
			if _, err := f.v.Verify(ctx, f.token(t, k1)); err != nil {
				t.Fatalf("at %s the current key was refused during the flood: %v", elapsed, err)
			}
		}
		if elapsed >= rotateAt && admitted < 0 && (elapsed-rotateAt)%retry == 0 {
			_, err := f.v.Verify(ctx, f.token(t, k2))
			if err == nil {
				admitted = elapsed - rotateAt
			} else {
				wantReason(t, err, ReasonUnknownKey)
			}
		}
		f.clock.Advance(step)
	}
	t.Logf("unannounced key admitted %s after the rotation; %d JWKS requests in %s of flood", admitted, f.srv.hits.Load(), duration)
	if admitted < 0 || admitted > DefaultUnknownKIDInterval {
		t.Fatalf("unannounced key admitted after %s, want within the unknown-kid interval %s", admitted, DefaultUnknownKIDInterval)
	}
	// One warm-up fetch plus one per second of flood.
	if hits, most := f.srv.hits.Load(), int64(1+duration/DefaultUnknownKIDInterval); hits > most {
		t.Fatalf("%d JWKS requests in %s of flood, want at most %d", hits, duration, most)
	}
}

func TestRemoteKeySetRunLearnsAnAnnouncedKeyBeforeItsFirstToken(t *testing.T) {
	t.Parallel()
	k1, k2 := rsaTestKey(0, "k1"), rsaTestKey(1, "k2-next")
	f := newRemoteFixture(t, 0, k1)
	f.srv.setHeader("Cache-Control", "max-age=300")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.keys.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if wake := f.clock.nextWake(t); wake != 300*time.Second {
		t.Fatalf("first scheduled refresh in %s, want the issuer's max-age of 300s", wake)
	}

	// Ping publishes its next key well before it signs with it.
	f.srv.set(jwksOf(t, k1.public(), k2.public()))
	f.clock.Advance(300 * time.Second)
	f.clock.nextWake(t)
	if hits := f.srv.hits.Load(); hits != 2 {
		t.Fatalf("JWKS requests after one scheduled refresh = %d, want 2", hits)
	}
	// A forged kid spends the unknown-kid refetch just before the first k2 token arrives.
	wantReason(t, verifyErr(f.v.Verify(context.Background(), f.forgedToken(t, 0))), ReasonUnknownKey)
	wantReason(t, verifyErr(f.v.Verify(context.Background(), f.forgedToken(t, 1))), ReasonUnknownKey)
	hits := f.srv.hits.Load()
	if _, err := f.v.Verify(context.Background(), f.token(t, k2)); err != nil {
		t.Fatalf("first token of the announced key: %v", err)
	}
	if got := f.srv.hits.Load(); got != hits {
		t.Fatalf("the announced key needed a fetch of its own (%d → %d requests)", hits, got)
	}
}

// Run waits as long as the issuer's Cache-Control allows, within [MinRefreshInterval,
// RefreshInterval].
func TestRemoteKeySetRunFollowsCacheControl(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		cacheControl string
		age          string
		want         time.Duration
	}{
		{name: "no header", want: DefaultRefreshInterval},
		{name: "max-age inside the bounds", cacheControl: "public, max-age=300", want: 300 * time.Second},
		{name: "quoted max-age", cacheControl: `max-age="120"`, want: 120 * time.Second},
		{name: "max-age minus Age", cacheControl: "max-age=600", age: "100", want: 500 * time.Second},
		{name: "short max-age raised to the floor", cacheControl: "public, max-age=15, stale-while-revalidate=15", want: DefaultMinRefreshInterval},
		{name: "long max-age lowered to the ceiling", cacheControl: "max-age=3293198, must-revalidate", want: DefaultRefreshInterval},
		{name: "no-cache", cacheControl: "no-cache", want: DefaultMinRefreshInterval},
		{name: "invalid max-age is stale", cacheControl: "max-age=soon", want: DefaultMinRefreshInterval},
		{name: "two max-age directives: the shorter", cacheControl: "max-age=900, max-age=60", want: 60 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRemoteFixture(t, 0, rsaTestKey(0, "k1"))
			f.srv.setHeader("Cache-Control", tc.cacheControl)
			f.srv.setHeader("Age", tc.age)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { f.keys.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			for i := range 2 {
				if wake := f.clock.nextWake(t); wake != tc.want {
					t.Fatalf("refresh %d scheduled in %s, want %s", i+1, wake, tc.want)
				}
				f.clock.Advance(tc.want)
			}
			f.clock.nextWake(t)
			if hits := f.srv.hits.Load(); hits != 3 {
				t.Fatalf("JWKS requests = %d, want 3 (start and two refreshes)", hits)
			}
		})
	}
}

func TestFreshness(t *testing.T) {
	t.Parallel()
	cases := []struct {
		headers map[string][]string
		want    time.Duration
		ok      bool
	}{
		{headers: nil, ok: false},
		{headers: map[string][]string{"Cache-Control": {"public"}}, ok: false},
		{headers: map[string][]string{"Cache-Control": {"max-age=60"}}, want: time.Minute, ok: true},
		{headers: map[string][]string{"Cache-Control": {"Max-Age=60"}}, want: time.Minute, ok: true},
		{headers: map[string][]string{"Cache-Control": {"max-age=60", "max-age=30"}}, want: 30 * time.Second, ok: true},
		{headers: map[string][]string{"Cache-Control": {"max-age=60"}, "Age": {"90"}}, want: 0, ok: true},
		{headers: map[string][]string{"Cache-Control": {"max-age=-1"}}, want: 0, ok: true},
		{headers: map[string][]string{"Cache-Control": {"private, no-store"}}, want: 0, ok: true},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, vs := range tc.headers {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		got, ok := freshness(h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("freshness(%v) = %s, %v; want %s, %v", tc.headers, got, ok, tc.want, tc.ok)
		}
	}
}

// A failing JWKS endpoint is retried with backoff, never faster than MinRefreshInterval and
// never before the issuer's Retry-After; cached keys keep working throughout.
func TestRemoteKeySetRunBacksOffWhileTheIssuerFails(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	f := newRemoteFixture(t, 0, k1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.keys.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wake := f.clock.nextWake(t)

	f.srv.setDown(503, 0)
	for _, want := range []time.Duration{DefaultMinRefreshInterval, 2 * DefaultMinRefreshInterval, 4 * DefaultMinRefreshInterval} {
		f.clock.Advance(wake)
		if wake = f.clock.nextWake(t); wake != want {
			t.Fatalf("after a failure the next refresh is in %s, want %s", wake, want)
		}
	}
	if _, err := f.v.Verify(context.Background(), f.token(t, k1)); err != nil {
		t.Fatalf("cached key during the outage: %v", err)
	}
	f.srv.setDown(429, 600)
	f.clock.Advance(wake)
	if wake = f.clock.nextWake(t); wake != 600*time.Second {
		t.Fatalf("after a 429 with Retry-After: 600 the next refresh is in %s", wake)
	}
	f.srv.setDown(0, 0)
	f.clock.Advance(wake)
	if wake = f.clock.nextWake(t); wake != DefaultRefreshInterval {
		t.Fatalf("after recovering the next refresh is in %s, want %s", wake, DefaultRefreshInterval)
	}
	if st := f.keys.Stats(); st.FetchFailures != 4 || st.LastError != "" || st.Keys != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

// A key set that never loaded retries at the floor: until then every token is refused.
func TestRemoteKeySetRunRetriesAtTheFloorUntilKeysLoad(t *testing.T) {
	t.Parallel()
	f := newRemoteFixture(t, 0, rsaTestKey(0, "k1"))
	f.srv.setDown(500, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.keys.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for range 3 {
		wake := f.clock.nextWake(t)
		if wake != DefaultMinRefreshInterval {
			t.Fatalf("retry in %s, want %s", wake, DefaultMinRefreshInterval)
		}
		f.clock.Advance(wake)
	}
}

// A kid nobody publishes costs a fetch only when the token could pass with some key.
func TestVerifyFetchesForAnUnknownKIDOnlyWhenTheTokenCouldPass(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	forger := rsaPool()[3]
	cases := []struct {
		name   string
		key    testKey
		claims func(c map[string]any)
		want   Reason
		fetch  bool
		detail string
	}{
		{name: "claims pass the policy", key: testKey{kid: "new", alg: jose.RS256, priv: forger}, want: ReasonUnknownKey, fetch: true},
		{name: "expired", key: testKey{kid: "new", alg: jose.RS256, priv: forger}, want: ReasonUnknownKey,
			claims: func(c map[string]any) {
				c["exp"] = testEpoch.Add(-time.Hour).Unix()
				c["iat"] = testEpoch.Add(-2 * time.Hour).Unix()
			},
			detail: "not refetched because the token would be refused with any key: expired"},
		{name: "another issuer", key: testKey{kid: "new", alg: jose.RS256, priv: forger}, want: ReasonUnknownKey,
			claims: func(c map[string]any) { c["iss"] = "https://auth.pingone.eu/other/as" }, detail: "wrong_issuer"},
		{name: "another audience", key: testKey{kid: "new", alg: jose.RS256, priv: forger}, want: ReasonUnknownKey,
			claims: func(c map[string]any) { c["aud"] = "someone-else" }, detail: "wrong_audience"},
		{name: "1024-bit RSA signature", key: testKey{kid: "new", alg: jose.RS256, priv: weak}, want: ReasonUnknownKey,
			detail: "a 128-byte signature cannot be RS256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRemoteFixture(t, 0, rsaTestKey(0, "k1"))
			if err := f.keys.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			claims := pingClaims(testEpoch)
			if tc.claims != nil {
				tc.claims(claims)
			}
			_, err := f.v.Verify(context.Background(), signClaims(t, tc.key, claims, nil))
			wantReason(t, err, tc.want)
			if tc.detail != "" && !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("error %q should say %q", err, tc.detail)
			}
			if fetched := f.srv.hits.Load() == 2; fetched != tc.fetch {
				t.Fatalf("JWKS fetched for the unknown kid: %v, want %v", fetched, tc.fetch)
			}
		})
	}
}

func TestPlausibleSignatureLength(t *testing.T) {
	t.Parallel()
	cases := []struct {
		alg  string
		n    int
		want bool
	}{
		{"RS256", 256, true}, {"RS256", 512, true}, {"RS256", 128, false}, {"PS512", 255, false},
		{"ES256", 64, true}, {"ES256", 72, false}, {"ES384", 96, true}, {"ES512", 132, true}, {"ES512", 130, false},
		{"EdDSA", 64, true}, {"EdDSA", 32, false}, {"HS256", 32, false},
	}
	for _, tc := range cases {
		if got := plausibleSignatureLength(tc.alg, tc.n); got != tc.want {
			t.Errorf("plausibleSignatureLength(%s, %d) = %v, want %v", tc.alg, tc.n, got, tc.want)
		}
	}
}

// A crit header is its own reason, decided before any key lookup: with a known kid it is not a
// bad signature, and with an unknown kid it is no reason to fetch.
func TestVerifyRefusesCriticalHeaders(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	cases := []struct {
		name    string
		kid     string
		headers map[jose.HeaderKey]any
		detail  string
	}{
		{name: "unknown extension, known kid", kid: "k1", headers: map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}, detail: `headers ["exp"]`},
		{name: "unknown extension, unknown kid", kid: "new", headers: map[jose.HeaderKey]any{"crit": []string{"http://example.com/ext"}}},
		{name: "crit is not a list", kid: "k1", headers: map[jose.HeaderKey]any{"crit": "exp"}, detail: `"exp"`},
		{name: "empty crit list", kid: "k1", headers: map[jose.HeaderKey]any{"crit": []string{}}},
		{name: "many names", kid: "k1", headers: map[jose.HeaderKey]any{"crit": []string{"a", "b", "c", "d", "e", "f"}}, detail: "and 2 more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRemoteFixture(t, 0, k1)
			if err := f.keys.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			raw := signClaims(t, testKey{kid: tc.kid, alg: jose.RS256, priv: k1.priv}, pingClaims(testEpoch), tc.headers)
			_, err := f.v.Verify(context.Background(), raw)
			wantReason(t, err, ReasonUnsupportedCritical)
			if tc.detail != "" && !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("error %q should mention %q", err, tc.detail)
			}
			if hits := f.srv.hits.Load(); hits != 1 {
				t.Fatalf("a crit token caused %d extra JWKS requests", hits-1)
			}
		})
	}
}

package oidc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// remoteFixture is a verifier over a RemoteKeySet backed by a test JWKS server and a fake clock.
type remoteFixture struct {
	srv   *jwksServer
	clock *fakeClock
	keys  *RemoteKeySet
	v     *Verifier
}

func newRemoteFixture(t *testing.T, cacheSize int, published ...testKey) *remoteFixture {
	t.Helper()
	pubs := make([]jose.JSONWebKey, len(published))
	for i, k := range published {
		pubs[i] = k.public()
	}
	f := &remoteFixture{srv: newJWKSServer(t, jwksOf(t, pubs...)), clock: newFakeClock(testEpoch)}
	f.keys = NewRemoteKeySet(loopbackClient(t), f.srv.URL+"/as/jwks", RemoteKeySetOptions{Now: f.clock.Now, After: f.clock.After})
	f.v = mustVerifier(t, testPolicy(), f.keys, VerifierOptions{Now: f.clock.Now, CacheSize: cacheSize})
	return f
}

// token is a valid PingOne-shaped token signed by k at the fixture's current time.
func (f *remoteFixture) token(t *testing.T, k testKey) string {
	return signClaims(t, k, pingClaims(f.clock.Now()), nil)
}

func TestRemoteKeySetRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := rsaTestKey(0, "key-2026-01"), rsaTestKey(1, "key-2026-04")
	f := newRemoteFixture(t, 0, k1)
	ctx := context.Background()

	if _, err := f.v.Verify(ctx, f.token(t, k1)); err != nil {
		t.Fatalf("current key: %v", err)
	}
	f.srv.set(jwksOf(t, k1.public(), k2.public()))
	// Inside the refresh gate the new kid is refused without asking the issuer again.
	wantReason(t, verifyErr(f.v.Verify(ctx, f.token(t, k2))), ReasonUnknownKey)
	if got := f.srv.hits.Load(); got != 1 {
		t.Fatalf("JWKS requests inside the gate = %d, want 1", got)
	}
	f.clock.Advance(DefaultUnknownKIDInterval + time.Second)
	if _, err := f.v.Verify(ctx, f.token(t, k2)); err != nil {
		t.Fatalf("rotated key after the gate opened: %v", err)
	}
	if _, err := f.v.Verify(ctx, f.token(t, k1)); err != nil {
		t.Fatalf("old key still published: %v", err)
	}
	st := f.keys.Stats()
	if st.Fetches != 2 || f.srv.hits.Load() != 2 || st.Keys != 2 || st.SuppressedRefreshes != 1 {
		t.Fatalf("stats = %+v, server hits = %d", st, f.srv.hits.Load())
	}
}

func verifyErr(_ *Identity, err error) error { return err }

func TestRemoteKeySetBogusKidStorm(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	f := newRemoteFixture(t, 0, k1)
	ctx := context.Background()
	good := f.token(t, k1)
	if _, err := f.v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultUnknownKIDInterval + time.Second)

	forger := rsaTestKey(2, "")
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forged := signClaims(t, testKey{kid: fmt.Sprintf("bogus-%d", i), alg: jose.RS256, priv: forger.priv}, pingClaims(testEpoch), nil)
			_, err := f.v.Verify(ctx, forged)
			errs <- err
		}()
		if i%100 == 0 {
			if _, err := f.v.Verify(ctx, good); err != nil {
				t.Errorf("known key refused during the storm: %v", err)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if r := ReasonOf(err); err == nil || r != ReasonUnknownKey {
			t.Fatalf("bogus kid: reason %q, error %v", r, err)
		}
	}
	if hits := f.srv.hits.Load(); hits > 2 {
		t.Fatalf("a storm of 1,000 bogus kids caused %d JWKS requests; want at most 2 (warm-up + one refresh)", hits)
	}
	// Lookups either joined the one fetch in flight or were turned away by the gate.
	if st := f.keys.Stats(); st.Fetches > 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestRemoteKeySetEndpointDown(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	f := newRemoteFixture(t, 0, k1)
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, f.token(t, k1)); err != nil {
		t.Fatal(err)
	}
	f.srv.setDown(503, 0)
	f.clock.Advance(DefaultUnknownKIDInterval + time.Second)

	unknown := signClaims(t, rsaTestKey(1, "k2"), pingClaims(f.clock.Now()), nil)
	_, err := f.v.Verify(ctx, unknown)
	wantReason(t, err, ReasonKeysUnavailable)
	if !strings.Contains(err.Error(), "503") {
		t.Fatalf("error should carry the endpoint status: %v", err)
	}
	if _, err := f.v.Verify(ctx, f.token(t, k1)); err != nil {
		t.Fatalf("cached key must keep working while the JWKS endpoint is down: %v", err)
	}
	if st := f.keys.Stats(); st.FetchFailures != 1 || st.Keys != 1 || st.LastError == "" {
		t.Fatalf("stats = %+v", st)
	}
	if err := f.keys.Refresh(ctx); err == nil {
		t.Fatal("Refresh against a down endpoint must fail")
	}
}

func TestRemoteKeySetNeverFetched(t *testing.T) {
	t.Parallel()
	f := newRemoteFixture(t, 0, rsaTestKey(0, "k1"))
	f.srv.setDown(500, 0)
	_, err := f.v.Verify(context.Background(), f.token(t, rsaTestKey(0, "k1")))
	wantReason(t, err, ReasonKeysUnavailable)
}

func TestRemoteKeySetHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	k1 := rsaTestKey(0, "k1")
	f := newRemoteFixture(t, 0, k1)
	ctx := context.Background()
	if err := f.keys.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	f.srv.setDown(429, 120)
	f.clock.Advance(31 * time.Second)
	_, _ = f.keys.KeyFor(ctx, "new", "RS256") // fetch #2 gets 429 Retry-After: 120
	f.clock.Advance(31 * time.Second)
	_, err := f.keys.KeyFor(ctx, "new", "RS256")
	wantReason(t, err, ReasonKeysUnavailable)
	if err := f.keys.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "no requests until") {
		t.Fatalf("Refresh inside Retry-After = %v", err)
	}
	if hits := f.srv.hits.Load(); hits != 2 {
		t.Fatalf("requests during Retry-After = %d, want 2", hits)
	}
	f.srv.setDown(0, 0)
	f.clock.Advance(90 * time.Second)
	if err := f.keys.Refresh(ctx); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

func TestRemoteKeySetWaiterCanGiveUp(t *testing.T) {
	t.Parallel()
	f := newRemoteFixture(t, 0, rsaTestKey(0, "k1"))
	release := make(chan struct{})
	f.srv.setBlock(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.keys.KeyFor(ctx, "k1", "RS256")
	wantReason(t, err, ReasonKeysUnavailable)
	close(release)
	// The abandoned fetch still completes for everyone else.
	if err := f.keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.keys.KeyFor(context.Background(), "k1", "RS256"); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteKeySetRunWarmsTheCache(t *testing.T) {
	t.Parallel()
	f := newRemoteFixture(t, 0, rsaTestKey(0, "k1"))
	seen := make(chan struct{}, 1)
	f.srv.setNotify(seen)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.keys.Run(ctx)
		close(done)
	}()
	<-seen
	// Joins Run's fetch if it is still in flight; either way the keys are loaded afterwards.
	if err := f.keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if _, err := f.keys.KeyFor(context.Background(), "k1", "RS256"); err != nil {
		t.Fatalf("key not cached after Run: %v", err)
	}
	if st := f.keys.Stats(); st.Keys != 1 || st.SuppressedRefreshes != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestStaticKeySetKeySelection(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaA, rsaB := rsaPool()[0], rsaPool()[1]
	ec := ecKey()
	withPrivate, _ := json.Marshal(jose.JSONWebKey{Key: rsaPool()[3], KeyID: "leaked-private", Use: "sig"})
	keys := []json.RawMessage{
		mustJSON(t, jose.JSONWebKey{Key: &rsaA.PublicKey, KeyID: "sig", Use: "sig"}),
		mustJSON(t, jose.JSONWebKey{Key: &rsaB.PublicKey, KeyID: "enc", Use: "enc"}),
		mustJSON(t, jose.JSONWebKey{Key: &weak.PublicKey, KeyID: "weak"}),
		mustJSON(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec"}),
		mustJSON(t, jose.JSONWebKey{Key: &rsaB.PublicKey, KeyID: "rs512-only", Algorithm: "RS512"}),
		json.RawMessage(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`),
		// The same key twice collapses; two different keys under one kid are refused.
		mustJSON(t, jose.JSONWebKey{Key: &rsaA.PublicKey, KeyID: "twice"}),
		mustJSON(t, jose.JSONWebKey{Key: &rsaA.PublicKey, KeyID: "twice"}),
		mustJSON(t, jose.JSONWebKey{Key: &rsaA.PublicKey, KeyID: "clash"}),
		mustJSON(t, jose.JSONWebKey{Key: &rsaB.PublicKey, KeyID: "clash"}),
		// One RSA and one EC key under one kid: the alg decides, unambiguously.
		mustJSON(t, jose.JSONWebKey{Key: &rsaA.PublicKey, KeyID: "mixed"}),
		mustJSON(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "mixed"}),
		withPrivate,
		json.RawMessage(`{"kty":"RSA","kid":"verify-ops-missing","key_ops":["encrypt"],"n":"AQAB","e":"AQAB"}`),
	}
	doc, _ := json.Marshal(map[string]any{"keys": keys})
	ks := mustStatic(t, doc)

	cases := []struct {
		kid, alg   string
		want       Reason // empty: a key is returned
		detailHas  string
		wantPublic bool
	}{
		{kid: "sig", alg: "RS256"},
		{kid: "sig", alg: "PS384"},
		{kid: "sig", alg: "HS256", want: ReasonUnknownKey},
		{kid: "sig", alg: "ES256", want: ReasonUnknownKey},
		{kid: "enc", alg: "RS256", want: ReasonUnknownKey},
		{kid: "weak", alg: "RS256", want: ReasonUnknownKey},
		{kid: "ec", alg: "ES256"},
		{kid: "ec", alg: "ES384", want: ReasonUnknownKey},
		{kid: "ec", alg: "RS256", want: ReasonUnknownKey},
		{kid: "rs512-only", alg: "RS256", want: ReasonUnknownKey},
		{kid: "rs512-only", alg: "RS512"},
		{kid: "hmac", alg: "HS256", want: ReasonUnknownKey},
		{kid: "twice", alg: "RS256"},
		{kid: "clash", alg: "RS256", want: ReasonUnknownKey, detailHas: "2 different RS256 keys"},
		{kid: "mixed", alg: "RS256"},
		{kid: "mixed", alg: "ES256"},
		{kid: "leaked-private", alg: "RS256", wantPublic: true},
		{kid: "verify-ops-missing", alg: "RS256", want: ReasonUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.kid+"/"+tc.alg, func(t *testing.T) {
			t.Parallel()
			k, err := ks.KeyFor(context.Background(), tc.kid, tc.alg)
			if tc.want != "" {
				wantReason(t, err, tc.want)
				if tc.detailHas != "" && !strings.Contains(err.Error(), tc.detailHas) {
					t.Fatalf("error %q should mention %q", err, tc.detailHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.IsPublic() {
				t.Fatal("the key set handed out private key material")
			}
		})
	}
}

func TestNewStaticKeySetErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, want string }{
		{"not JSON", `nope`, "not a JWK Set"},
		{"no keys array", `{"kty":"RSA"}`, `no "keys" array`},
		{"only an encryption key", string(jwksOf(t, jose.JSONWebKey{Key: &rsaPool()[0].PublicKey, KeyID: "e", Use: "enc"})), `use "enc" is not sig`},
		{"empty", `{"keys":[]}`, "no usable signing keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewStaticKeySet([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// rfc7638 computes the thumbprint independently of go-jose: SHA-256 over the required members
// in lexicographic order with no whitespace.
func rfc7638(pub *rsa.PublicKey) string {
	enc := base64.RawURLEncoding.EncodeToString
	canon := fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, enc(big.NewInt(int64(pub.E)).Bytes()), enc(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(canon))
	return enc(sum[:])
}

func TestKeyFingerprints(t *testing.T) {
	t.Parallel()
	a, b := rsaPool()[0], rsaPool()[1]
	doc := jwksOf(t,
		jose.JSONWebKey{Key: &b.PublicKey, KeyID: "z-next", Use: "sig", Algorithm: "RS256"},
		jose.JSONWebKey{Key: &a.PublicKey, KeyID: "a-current", Use: "sig"},
		jose.JSONWebKey{Key: &a.PublicKey, KeyID: "enc", Use: "enc"},
		jose.JSONWebKey{Key: &b.PublicKey, KeyID: "a-current", Use: "sig"},
	)
	got, err := KeyFingerprints(doc)
	if err != nil {
		t.Fatal(err)
	}
	wantA := []KeyFingerprint{
		{KID: "a-current", KeyType: "RSA", Use: "sig", Thumbprint: rfc7638(&a.PublicKey)},
		{KID: "a-current", KeyType: "RSA", Use: "sig", Thumbprint: rfc7638(&b.PublicKey)},
	}
	if wantA[1].Thumbprint < wantA[0].Thumbprint {
		wantA[0], wantA[1] = wantA[1], wantA[0]
	}
	want := append(wantA, KeyFingerprint{KID: "z-next", KeyType: "RSA", Algorithm: "RS256", Use: "sig", Thumbprint: rfc7638(&b.PublicKey)})
	if len(got) != len(want) {
		t.Fatalf("fingerprints = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fingerprint[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(mustJSON(t, jose.JSONWebKey{Key: &a.PublicKey})); err != nil {
		t.Fatal(err)
	}
	if tp, _ := jk.Thumbprint(crypto.SHA256); base64.RawURLEncoding.EncodeToString(tp) != rfc7638(&a.PublicKey) {
		t.Fatal("independent RFC 7638 computation disagrees with go-jose")
	}
}

func TestFetchJWKS(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwksOf(t, rsaTestKey(0, "k1").public()))
	bad := newJWKSServer(t, []byte(`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`))
	down := newJWKSServer(t, nil)
	down.setDown(404, 0)
	client := loopbackClient(t)
	cases := []struct{ name, url, wantErr string }{
		{name: "PingFederate path", url: srv.URL + "/pf/JWKS"},
		{name: "404", url: down.URL + "/pf/JWKS", wantErr: down.URL + "/pf/JWKS: HTTP 404"},
		{name: "no signing keys", url: bad.URL + "/jwks", wantErr: "no usable signing keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, err := FetchJWKS(context.Background(), client, tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fps, err := KeyFingerprints(body); err != nil || len(fps) != 1 || fps[0].KID != "k1" {
				t.Fatalf("fingerprints = %+v, %v", fps, err)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

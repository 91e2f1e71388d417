package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testIssuer = "https://auth.pingone.com/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/as"

// testEpoch is the fixed "now" of every test that does not advance a clock.
var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// RSA key generation costs tens of milliseconds; a small shared pool keeps the suite quick.
var rsaPool = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 4)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

var ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any
}

func rsaTestKey(i int, kid string) testKey {
	return testKey{kid: kid, alg: jose.RS256, priv: rsaPool()[i]}
}

func (k testKey) public() jose.JSONWebKey {
	var pub any
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		pub = &p.PublicKey
	case *ecdsa.PrivateKey:
		pub = &p.PublicKey
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.kid, Use: "sig"}
}

func jwksOf(t testing.TB, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRaw signs payload bytes as a compact JWS with the key's kid and any extra headers.
func signRaw(t testing.TB, k testKey, payload []byte, headers map[jose.HeaderKey]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if k.kid != "" {
		opts.WithHeader(jose.HeaderKey("kid"), k.kid)
	}
	for h, v := range headers {
		opts.WithHeader(h, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signClaims(t testing.TB, k testKey, claims map[string]any, headers map[jose.HeaderKey]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return signRaw(t, k, b, headers)
}

// pingClaims is a PingOne-shaped access token with a groups mapping, issued at now.
func pingClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":                testIssuer,
		"aud":                []string{"https://nats.example.com"},
		"sub":                "5a8b1c3e-0000-4000-8000-000000000001",
		"client_id":          "cccccccc-2222-4222-8222-cccccccccccc",
		"scope":              "openid nats:connect",
		"sid":                "dddddddd-3333-4333-8333-dddddddddddd",
		"env":                "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa",
		"iat":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"groups":             []string{"nats-readers", "nats-orders"},
		"preferred_username": "ada@example.com",
	}
}

func testPolicy() Policy {
	return Policy{
		Issuer:           testIssuer,
		Audiences:        []string{"https://nats.example.com", "nats-secondary"},
		Algorithms:       []string{"RS256", "ES256"},
		MaxTokenLifetime: 2 * time.Hour,
		ClockSkew:        30 * time.Second,
		RequiredScopes:   []string{"nats:connect"},
		ForbiddenScopes:  []string{"nats:admin"},
		GroupsClaim:      "groups",
		NameClaims:       []string{"preferred_username", "email"},
	}
}

// fakeClock is a settable clock shared between a test and the code under test. Its After
// fires only when Advance reaches the deadline, so a test decides exactly when RemoteKeySet.Run
// wakes up, and armed tells it when Run has gone back to waiting.
type fakeClock struct {
	ns     atomic.Int64
	mu     sync.Mutex
	timers []fakeTimer
	armed  chan time.Time // the deadline of every After call, never blocking the caller
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{armed: make(chan time.Time, 64)}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ns.Add(int64(d))
	now := c.Now()
	pending := c.timers[:0]
	for _, t := range c.timers {
		if now.Before(t.at) {
			pending = append(pending, t)
			continue
		}
		t.ch <- now
	}
	c.timers = pending
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	at := c.Now().Add(d)
	if d <= 0 {
		ch <- c.Now()
	} else {
		c.timers = append(c.timers, fakeTimer{at: at, ch: ch})
	}
	c.mu.Unlock()
	select {
	case c.armed <- at:
	default:
	}
	return ch
}

// nextWake waits until someone (Run) calls After and returns how far ahead of now it set its
// deadline.
func (c *fakeClock) nextWake(t testing.TB) time.Duration {
	t.Helper()
	select {
	case at := <-c.armed:
		return at.Sub(c.Now())
	case <-time.After(10 * time.Second):
		t.Fatal("Run never went back to waiting")
		return 0
	}
}

// jwksServer serves a swappable JWKS and counts requests. When down, it answers with the
// configured status (and Retry-After, if set).
type jwksServer struct {
	*httptest.Server
	mu         sync.Mutex
	body       []byte
	down       int
	retryAfter int
	hits       atomic.Int64
	block      chan struct{} // when non-nil, requests wait until it is closed
	notify     chan struct{} // when non-nil, receives one value per request (never blocks)
	header     http.Header   // added to successful answers (Cache-Control, Age)
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	s := &jwksServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, down, retry, block, notify, header := s.body, s.down, s.retryAfter, s.block, s.notify, s.header.Clone()
		s.mu.Unlock()
		if notify != nil {
			select {
			case notify <- struct{}{}:
			default:
			}
		}
		if block != nil {
			<-block
		}
		if down != 0 {
			if retry > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(retry))
			}
			http.Error(w, `{"code":"REQUEST_LIMITED"}`, down)
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

func (s *jwksServer) setDown(status, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down, s.retryAfter = status, retryAfter
}

// setHeader sets a header of the successful answers; an empty value removes it.
func (s *jwksServer) setHeader(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.header == nil {
		s.header = http.Header{}
	}
	if value == "" {
		s.header.Del(key)
		return
	}
	s.header.Set(key, value)
}

func (s *jwksServer) setNotify(ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify = ch
}

func (s *jwksServer) setBlock(ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.block = ch
}

func loopbackClient(t testing.TB) *http.Client {
	t.Helper()
	c, err := NewHTTPClient("", true, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustVerifier(t testing.TB, p Policy, ks KeySet, opts VerifierOptions) *Verifier {
	t.Helper()
	v, err := NewVerifier(p, ks, opts)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func mustStatic(t testing.TB, jwks []byte) *StaticKeySet {
	t.Helper()
	ks, err := NewStaticKeySet(jwks)
	if err != nil {
		t.Fatalf("NewStaticKeySet: %v", err)
	}
	return ks
}

func wantReason(t testing.TB, err error, want Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected refusal %q, got success", want)
	}
	if got := ReasonOf(err); got != want {
		t.Fatalf("reason = %q, want %q (error: %v)", got, want, err)
	}
}

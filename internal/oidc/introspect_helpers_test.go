package oidc

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	introClientID = "natsping-callout"
	// introSecret has the characters RFC 6749 §2.3.1's form-encoding exists for.
	introSecret = "s3cr:t%2F+with spaces"
)

// opaqueRef is a reference token in PingFederate's style (alphanumeric, no dots).
func opaqueRef(name string) string {
	return "ref" + strings.Repeat("0", max(0, 29-len(name))) + name
}

// introRequest is what the endpoint received.
type introRequest struct {
	form          url.Values
	authorization string
	contentType   string
	accept        string
}

// introServer is an RFC 7662 endpoint whose answers a test sets per token. Unknown tokens
// are inactive, as RFC 7662 §2.2 requires.
type introServer struct {
	*httptest.Server
	mu         sync.Mutex
	answers    map[string]map[string]any
	status     int    // non-zero: every request gets this status and errorBody
	errorBody  string // sent with status
	retryAfter string
	ctype      string // overrides application/json
	raw        []byte // non-nil: 200 with exactly these bytes
	block      chan struct{}
	last       introRequest
	hits       atomic.Int64
}

func newIntroServer(t testing.TB) *introServer {
	s := &introServer{answers: map[string]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		s.last = introRequest{form: form, authorization: r.Header.Get("Authorization"),
			contentType: r.Header.Get("Content-Type"), accept: r.Header.Get("Accept")}
		status, errBody, retry, ctype, raw, block := s.status, s.errorBody, s.retryAfter, s.ctype, s.raw, s.block
		ans, known := s.answers[form.Get("token")]
		s.mu.Unlock()
		if block != nil {
			<-block
		}
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		if ctype == "" {
			ctype = "application/json;charset=UTF-8"
		}
		w.Header().Set("Content-Type", ctype)
		switch {
		case status != 0:
			w.WriteHeader(status)
			_, _ = io.WriteString(w, errBody)
		case raw != nil:
			_, _ = w.Write(raw)
		case !known:
			_, _ = io.WriteString(w, `{"active":false}`)
		default:
			_ = json.NewEncoder(w).Encode(ans)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// set answers token with exactly these members.
func (s *introServer) set(token string, members map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[token] = members
}

func (s *introServer) revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.answers, token)
}

func (s *introServer) fail(status int, body, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.errorBody, s.retryAfter = status, body, retryAfter
}

func (s *introServer) setRaw(contentType string, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctype, s.raw = contentType, raw
}

func (s *introServer) setBlock(ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.block = ch
}

func (s *introServer) lastRequest() introRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// introAnswer is the answer for a PingOne-shaped token issued at now: the JWT claims of
// pingClaims, as an RFC 7662 response carries them.
func introAnswer(now time.Time) map[string]any {
	c := pingClaims(now)
	c["active"] = true
	c["token_type"] = "Bearer"
	return c
}

// newIntroVerifier is a verifier for testPolicy whose introspector asks srv. mod adjusts the
// introspector's options.
func newIntroVerifier(t testing.TB, srv *introServer, clock *fakeClock, mod func(*IntrospectorOptions)) (*Verifier, *Introspector) {
	t.Helper()
	opts := IntrospectorOptions{
		Endpoint: srv.URL + "/as/introspect.oauth2", Issuer: testIssuer,
		ClientID: introClientID, ClientSecret: introSecret,
		Client: loopbackClient(t), Now: clock.Now,
	}
	if mod != nil {
		mod(&opts)
	}
	in, err := NewIntrospector(opts)
	if err != nil {
		t.Fatalf("NewIntrospector: %v", err)
	}
	k1 := rsaTestKey(0, "k1")
	v := mustVerifier(t, testPolicy(), mustStatic(t, jwksOf(t, k1.public())), VerifierOptions{Now: clock.Now, CacheSize: 16, Introspector: in})
	return v, in
}

// noSecrets fails when err's text carries the token or the client secret.
func noSecrets(t testing.TB, err error, token string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range []string{token, introSecret, url.QueryEscape(introSecret)} {
		if s != "" && strings.Contains(msg, s) {
			t.Fatalf("the error quotes a secret (%q): %s", s, msg)
		}
	}
}

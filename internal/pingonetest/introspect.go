package pingonetest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The client a resource server (the callout) authenticates to the introspection endpoint
// with. Like PingFederate, the endpoint accepts it by client_secret_basic or
// client_secret_post.
const (
	DefaultIntrospectionClientID     = "cccccccc-7777-4777-8777-cccccccccccc"
	DefaultIntrospectionClientSecret = "fake-introspection-secret-0123456789abcdefghij"
	// PingFederateIntrospectionPath is PingFederate's introspection path at the server root.
	PingFederateIntrospectionPath = "/as/introspect.oauth2"
)

// opaqueToken is a reference token the fixture issued: a random handle for a claim set.
type opaqueToken struct {
	claims  map[string]any
	revoked bool
}

// IntrospectionURL is the endpoint discovery advertises: <issuer>/introspect, as PingOne does.
func (s *Server) IntrospectionURL() string { return s.Issuer() + "/introspect" }

// PingFederateIntrospectionURL is the same endpoint at PingFederate's path,
// <base>/as/introspect.oauth2, for trusts configured as for a PingFederate.
func (s *Server) PingFederateIntrospectionURL() string {
	return s.srv.URL + PingFederateIntrospectionPath
}

// IntrospectionCredentials returns the client id and secret the introspection endpoint accepts.
func (s *Server) IntrospectionCredentials() (clientID, clientSecret string) {
	return s.introspector[0], s.introspector[1]
}

// IntrospectionRequests counts introspection requests, including refused and 503 ones.
func (s *Server) IntrospectionRequests() int64 { return s.introspections.Load() }

// SetIntrospectionAvailable switches the introspection endpoint between normal service and a
// 503 outage, to test that cached answers keep working and everything else fails closed.
func (s *Server) SetIntrospectionAvailable(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.introspectionDown = !up
}

// SetIntrospectionAdvertised switches whether discovery names the introspection endpoint, to
// test an issuer that introspects without advertising where (RFC 8414 makes the field
// optional). The endpoint itself keeps answering.
func (s *Server) SetIntrospectionAdvertised(advertised bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.introspectionHidden = !advertised
}

// IssueOpaqueToken mints a reference token for the claim set opts describes ([Server.Claims]):
// 32 random bytes in base64url, which the introspection endpoint maps back to the claims
// while they are valid and not revoked. opts.Omit can drop iss, iat or aud to model an
// introspection answer of PingFederate, whose default answers carry none of them.
func (s *Server) IssueOpaqueToken(opts TokenOptions) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("pingonetest: crypto/rand failed: " + err.Error())
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	claims := s.Claims(opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opaque == nil {
		s.opaque = map[string]*opaqueToken{}
	}
	s.opaque[token] = &opaqueToken{claims: claims}
	return token
}

// RevokeToken revokes an opaque token, as an administrator or the RFC 7009 revocation
// endpoint would; introspection answers active: false from then on. It reports whether the
// token was one the fixture issued.
func (s *Server) RevokeToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.opaque[token]
	if ok {
		t.revoked = true
	}
	return ok
}

// handleIntrospect is RFC 7662 §2 as PingFederate serves it: POST with a form body, client
// authentication by exactly one of Basic or form parameters (RFC 6749 §2.3), and for a token
// that is unknown, revoked, expired or not yet valid only {"active": false}.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	s.introspections.Add(1)
	if r.PathValue("env") != "" && r.PathValue("env") != s.env {
		writeAPIError(w, http.StatusNotFound, notFoundError())
		return
	}
	s.mu.Lock()
	down := s.introspectionDown
	s.mu.Unlock()
	if down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	// PingFederate: an Accept header, when sent, must allow application/json.
	if accept := r.Header.Get("Accept"); accept != "" && !strings.Contains(accept, "application/json") && !strings.Contains(accept, "*/*") {
		writeOAuthError(w, http.StatusNotAcceptable, "invalid_request", "The Accept header must allow application/json.")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	if status, code, desc := s.authenticateIntrospector(r); status != 0 {
		writeOAuthError(w, status, code, desc)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The token parameter is required.")
		return
	}
	w.Header().Set("Cache-Control", "no-cache, no-store")
	writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", s.introspect(token))
}

// authenticateIntrospector returns a non-zero status when the client is not authenticated.
func (s *Server) authenticateIntrospector(r *http.Request) (status int, code, description string) {
	basicID, basicSecret, basic := r.BasicAuth()
	_, postID := r.PostForm["client_id"]
	_, postSecret := r.PostForm["client_secret"]
	var id, secret string
	switch {
	case basic && (postID || postSecret):
		return http.StatusBadRequest, "invalid_request", "Only one client authentication method may be used."
	case basic:
		// RFC 6749 §2.3.1: both parts are form-encoded before they go into the Basic header.
		var errID, errSecret error
		id, errID = url.QueryUnescape(basicID)
		secret, errSecret = url.QueryUnescape(basicSecret)
		if errID != nil || errSecret != nil {
			return http.StatusUnauthorized, "invalid_client", "Invalid client or client credentials."
		}
	case postID:
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	default:
		return http.StatusUnauthorized, "invalid_client", "Invalid client or client credentials."
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.introspector[0])) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.introspector[1])) != 1 {
		return http.StatusUnauthorized, "invalid_client", "Invalid client or client credentials."
	}
	return 0, "", ""
}

// introspect is the answer for token: its claims with active and token_type, or inactive.
func (s *Server) introspect(token string) map[string]any {
	inactive := map[string]any{"active": false}
	s.mu.Lock()
	t, ok := s.opaque[token]
	var claims map[string]any
	if ok && !t.revoked {
		claims = t.claims
	}
	s.mu.Unlock()
	if claims == nil {
		return inactive
	}
	now := s.now()
	if exp, ok := unixClaim(claims, "exp"); ok && !now.Before(exp) {
		return inactive
	}
	if nbf, ok := unixClaim(claims, "nbf"); ok && now.Before(nbf) {
		return inactive
	}
	out := make(map[string]any, len(claims)+2)
	for k, v := range claims {
		out[k] = v
	}
	out["active"] = true
	out["token_type"] = "Bearer"
	return out
}

// unixClaim reads a NumericDate the fixture stored itself (an int64) or a test put in Extra.
func unixClaim(c map[string]any, name string) (time.Time, bool) {
	switch v := c[name].(type) {
	case int64:
		return time.Unix(v, 0), true
	case int:
		return time.Unix(int64(v), 0), true
	case float64:
		return time.Unix(int64(v), 0), true
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return time.Unix(n, 0), true
		}
	}
	return time.Time{}, false
}

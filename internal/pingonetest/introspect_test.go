package pingonetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// introspectCall posts an RFC 7662 request; auth is "basic", "post", "both" or "none".
func introspectCall(t *testing.T, srv *Server, endpoint, token, auth, id, secret string) (int, map[string]any, http.Header) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if auth == "post" || auth == "both" {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if auth == "basic" || auth == "both" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode != http.StatusServiceUnavailable {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("HTTP %d body is not JSON: %s", resp.StatusCode, body)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// TestIntrospectionEndpoint pins the RFC 7662 behaviour tests of the callout rely on: both
// client authentication methods at both paths, 401 on bad credentials, one method only, the
// token's claims with active and token_type while it is valid, and only active: false for
// unknown, revoked and expired tokens.
func TestIntrospectionEndpoint(t *testing.T) {
	t.Parallel()
	var skip atomic.Int64 // how far the fixture's clock is ahead
	srv := New(Options{Now: func() time.Time { return time.Now().Add(time.Duration(skip.Load())) }})
	t.Cleanup(srv.Close)
	id, secret := srv.IntrospectionCredentials()
	if id != DefaultIntrospectionClientID || secret != DefaultIntrospectionClientSecret {
		t.Fatalf("credentials %q/%q, want the defaults", id, secret)
	}
	tok := srv.IssueOpaqueToken(TokenOptions{Subject: "alice", Groups: []string{"readers"}, Omit: []string{"iat"}})
	if len(tok) != 43 || strings.Contains(tok, ".") {
		t.Fatalf("opaque token %q is not 32 random bytes in base64url", tok)
	}

	for _, endpoint := range []string{srv.IntrospectionURL(), srv.PingFederateIntrospectionURL()} {
		for _, auth := range []string{"basic", "post"} {
			status, body, hdr := introspectCall(t, srv, endpoint, tok, auth, id, secret)
			if status != http.StatusOK || body["active"] != true || body["sub"] != "alice" || body["token_type"] != "Bearer" ||
				body["iss"] != srv.Issuer() || body["client_id"] != DefaultAppClientID {
				t.Fatalf("%s %s: HTTP %d %v", endpoint, auth, status, body)
			}
			if _, ok := body["iat"]; ok {
				t.Fatalf("%s: iat was omitted from the claims but answered: %v", endpoint, body)
			}
			if g, _ := body["groups"].([]any); len(g) != 1 || g[0] != "readers" {
				t.Fatalf("%s: groups %v", endpoint, body["groups"])
			}
			if !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
				t.Fatalf("%s: answer may be cached by intermediaries: %q", endpoint, hdr.Get("Cache-Control"))
			}
		}
	}

	refusals := []struct {
		name, auth, id, secret string
		status                 int
		code                   string
	}{
		{"wrong secret basic", "basic", id, "nope", http.StatusUnauthorized, "invalid_client"},
		{"wrong secret post", "post", id, "nope", http.StatusUnauthorized, "invalid_client"},
		{"another client", "basic", DefaultWorkerClientID, DefaultWorkerClientSecret, http.StatusUnauthorized, "invalid_client"},
		{"no client authentication", "none", "", "", http.StatusUnauthorized, "invalid_client"},
		{"two methods at once", "both", id, secret, http.StatusBadRequest, "invalid_request"},
	}
	for _, tc := range refusals {
		status, body, _ := introspectCall(t, srv, srv.IntrospectionURL(), tok, tc.auth, tc.id, tc.secret)
		if status != tc.status || body["error"] != tc.code || body["active"] != nil {
			t.Errorf("%s: HTTP %d %v, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}

	inactive := func(name, token string) {
		t.Helper()
		status, body, _ := introspectCall(t, srv, srv.IntrospectionURL(), token, "basic", id, secret)
		if status != http.StatusOK || len(body) != 1 || body["active"] != false {
			t.Fatalf("%s: HTTP %d %v, want exactly {\"active\": false}", name, status, body)
		}
	}
	inactive("unknown token", "bm90LWlzc3VlZC1ieS10aGUtZml4dHVyZQ")
	inactive("a JWT the fixture signed (never issued as a reference)", srv.IssueToken(TokenOptions{}))
	expiring := srv.IssueOpaqueToken(TokenOptions{Lifetime: time.Minute})
	skip.Add(int64(time.Minute))
	inactive("expired token", expiring)
	if !srv.RevokeToken(tok) || srv.RevokeToken("never-issued") {
		t.Fatal("RevokeToken must report exactly the tokens the fixture issued")
	}
	inactive("revoked token", tok)

	before := srv.IntrospectionRequests()
	srv.SetIntrospectionAvailable(false)
	if status, _, _ := introspectCall(t, srv, srv.IntrospectionURL(), tok, "basic", id, secret); status != http.StatusServiceUnavailable {
		t.Fatalf("down endpoint answered HTTP %d, want 503", status)
	}
	srv.SetIntrospectionAvailable(true)
	if got := srv.IntrospectionRequests() - before; got != 1 {
		t.Fatalf("IntrospectionRequests grew by %d for one request, want 1", got)
	}

	resp, err := srv.Client().Get(srv.IntrospectionURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET answered HTTP %d, want 405: the token must never travel in a URL", resp.StatusCode)
	}
}

func TestDiscoveryAdvertisesIntrospection(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	discover := func() map[string]any {
		t.Helper()
		resp, err := srv.Client().Get(srv.DiscoveryURL())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	if doc := discover(); doc["introspection_endpoint"] != srv.IntrospectionURL() {
		t.Fatalf("introspection_endpoint %v, want %s", doc["introspection_endpoint"], srv.IntrospectionURL())
	}

	srv.SetIntrospectionAdvertised(false)
	if doc := discover(); doc["introspection_endpoint"] != nil || doc["jwks_uri"] != srv.JWKSURL() {
		t.Fatalf("not advertised: introspection_endpoint %v, jwks_uri %v", doc["introspection_endpoint"], doc["jwks_uri"])
	}
	tok := srv.IssueOpaqueToken(TokenOptions{})
	id, secret := srv.IntrospectionCredentials()
	if status, body, _ := introspectCall(t, srv, srv.IntrospectionURL(), tok, "basic", id, secret); status != http.StatusOK || body["active"] != true {
		t.Fatalf("an endpoint discovery does not name must still answer: HTTP %d %v", status, body)
	}
	srv.SetIntrospectionAdvertised(true)
	if doc := discover(); doc["introspection_endpoint"] != srv.IntrospectionURL() {
		t.Fatalf("advertised again: introspection_endpoint %v", doc["introspection_endpoint"])
	}
}

package oidc

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIntrospectionIdentityIsTheJWTs proves an admitted opaque token yields the Identity a JWT
// with the same claims yields, except what only a signature has (the kid) and what only the
// answer has (active, which is not a claim).
func TestIntrospectionIdentityIsTheJWTs(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	clock := newFakeClock(testEpoch)
	v, _ := newIntroVerifier(t, srv, clock, nil)
	ref := opaqueRef("alice")
	srv.set(ref, introAnswer(testEpoch))

	got, err := v.Verify(context.Background(), ref)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	k1 := rsaTestKey(0, "k1")
	claims := introAnswer(testEpoch)
	delete(claims, "active")
	want, err := v.Verify(context.Background(), signClaims(t, k1, claims, nil))
	if err != nil {
		t.Fatalf("Verify JWT: %v", err)
	}
	if got.Subject != want.Subject || got.Name != want.Name || got.ClientID != want.ClientID ||
		!slices.Equal(got.Groups, want.Groups) || !slices.Equal(got.Scopes, want.Scopes) || !slices.Equal(got.Audience, want.Audience) ||
		!got.IssuedAt.Equal(want.IssuedAt) || !got.Expiry.Equal(want.Expiry) || !got.NotBefore.Equal(want.NotBefore) {
		t.Fatalf("opaque identity %+v differs from the JWT's %+v", got, want)
	}
	if got.KeyID != "" || got.TokenHash != TokenHash(ref) {
		t.Fatalf("kid %q, hash %q: an opaque token has no kid and is audited by its own hash", got.KeyID, got.TokenHash)
	}
	if _, ok := got.Claims["active"]; ok {
		t.Fatal("active is a property of the answer and must not appear among the claims")
	}
	if len(got.Claims) != len(want.Claims) || got.Claims["iss"] != testIssuer || got.Claims["token_type"] != "Bearer" {
		t.Fatalf("claims %v, want the JWT's %v", got.Claims, want.Claims)
	}
}

func TestIntrospectionRequestAndClientAuth(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"", "client_secret_basic", "client_secret_post"} {
		t.Run("method "+method, func(t *testing.T) {
			t.Parallel()
			srv := newIntroServer(t)
			v, _ := newIntroVerifier(t, srv, newFakeClock(testEpoch), func(o *IntrospectorOptions) { o.AuthMethod = method })
			ref := opaqueRef("auth")
			srv.set(ref, introAnswer(testEpoch))
			if _, err := v.Verify(context.Background(), ref); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			req := srv.lastRequest()
			if req.form.Get("token") != ref || req.form.Get("token_type_hint") != "access_token" ||
				req.contentType != "application/x-www-form-urlencoded" || req.accept != "application/json" {
				t.Fatalf("request %+v is not an RFC 7662 §2.1 request", req)
			}
			if method == "client_secret_post" {
				if req.authorization != "" || req.form.Get("client_id") != introClientID || req.form.Get("client_secret") != introSecret {
					t.Fatalf("client_secret_post sent Authorization %q, form %v", req.authorization, req.form)
				}
				return
			}
			if req.form.Has("client_id") || req.form.Has("client_secret") {
				t.Fatalf("client_secret_basic also put credentials in the body: %v", req.form)
			}
			// RFC 6749 §2.3.1: each part is form-encoded, then the pair is Basic-encoded.
			want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(introClientID)+":"+url.QueryEscape(introSecret)))
			if req.authorization != want {
				t.Fatalf("Authorization %q, want %q", req.authorization, want)
			}
		})
	}
}

// TestIntrospectionPolicy proves the answer passes the same policy as a JWT, and what the
// introspection-only rules are: a missing iss is the issuer's, a missing iat bounds the
// remaining lifetime, and only bearer tokens pass.
func TestIntrospectionPolicy(t *testing.T) {
	t.Parallel()
	now := testEpoch
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		want   Reason // "" accepts
		groups []string
	}{
		{name: "PingOne-shaped answer", groups: []string{"nats-readers", "nats-orders"}},
		{name: "active false", edit: func(m map[string]any) { m["active"] = false }, want: ReasonTokenInactive},
		{name: "active is the string true", edit: func(m map[string]any) { m["active"] = "true" }, want: ReasonIntrospectionUnavailable},
		{name: "active missing", edit: func(m map[string]any) { delete(m, "active") }, want: ReasonIntrospectionUnavailable},
		{name: "missing exp", edit: func(m map[string]any) { delete(m, "exp") }, want: ReasonMissingTimes},
		{name: "exp not a number", edit: func(m map[string]any) { m["exp"] = "soon" }, want: ReasonMalformed},
		{name: "expired though active", edit: func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() }, want: ReasonExpired},
		{name: "not yet valid", edit: func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() }, want: ReasonNotYetValid},
		{name: "wrong iss", edit: func(m map[string]any) { m["iss"] = "https://auth.pingone.eu/other/as" }, want: ReasonIssuer},
		{name: "iss null is not absent", edit: func(m map[string]any) { m["iss"] = nil }, want: ReasonIssuer},
		{name: "missing iss is the issuer's own (PingFederate)", edit: func(m map[string]any) { delete(m, "iss") }, groups: []string{"nats-readers", "nats-orders"}},
		{name: "wrong aud", edit: func(m map[string]any) { m["aud"] = "someone-else" }, want: ReasonAudience},
		{name: "missing aud", edit: func(m map[string]any) { delete(m, "aud") }, want: ReasonAudience},
		{name: "aud as a string", edit: func(m map[string]any) { m["aud"] = "nats-secondary" }, groups: []string{"nats-readers", "nats-orders"}},
		{name: "lifetime too long", edit: func(m map[string]any) { m["exp"] = now.Add(3 * time.Hour).Unix() }, want: ReasonLifetimeTooLong},
		{name: "issued in the future", edit: func(m map[string]any) { m["iat"] = now.Add(time.Minute).Unix() }, want: ReasonIssuedInFuture},
		{name: "no iat, remaining lifetime within the cap (PingFederate)", edit: func(m map[string]any) { delete(m, "iat") }, groups: []string{"nats-readers", "nats-orders"}},
		{name: "no iat, remaining lifetime above the cap", edit: func(m map[string]any) {
			delete(m, "iat")
			m["exp"] = now.Add(2*time.Hour + time.Minute).Unix()
		}, want: ReasonLifetimeTooLong},
		{name: "missing required scope", edit: func(m map[string]any) { m["scope"] = "openid" }, want: ReasonMissingScope},
		{name: "forbidden scope", edit: func(m map[string]any) { m["scope"] = "openid nats:connect nats:admin" }, want: ReasonForbiddenScope},
		{name: "no scope at all", edit: func(m map[string]any) { delete(m, "scope") }, want: ReasonMissingScope},
		{name: "groups as one string", edit: func(m map[string]any) { m["groups"] = "nats-readers" }, groups: []string{"nats-readers"}},
		{name: "groups absent", edit: func(m map[string]any) { delete(m, "groups") }},
		{name: "groups as an object", edit: func(m map[string]any) { m["groups"] = map[string]any{"a": 1} }, want: ReasonBadGroupsClaim},
		{name: "groups with a number", edit: func(m map[string]any) { m["groups"] = []any{"a", 1} }, want: ReasonBadGroupsClaim},
		{name: "sub not a string", edit: func(m map[string]any) { m["sub"] = 42 }, want: ReasonMalformed},
		{name: "token_type bearer in any case", edit: func(m map[string]any) { m["token_type"] = "bearer" }, groups: []string{"nats-readers", "nats-orders"}},
		{name: "token_type absent", edit: func(m map[string]any) { delete(m, "token_type") }, groups: []string{"nats-readers", "nats-orders"}},
		{name: "DPoP-bound token", edit: func(m map[string]any) { m["token_type"] = "DPoP" }, want: ReasonTokenTypeRejected},
		{name: "token_type not a string", edit: func(m map[string]any) { m["token_type"] = true }, want: ReasonTokenTypeRejected},
		// PingFederate answers only {"active": true} for a refresh token.
		{name: "refresh token answer", edit: func(m map[string]any) {
			for k := range m {
				delete(m, k)
			}
			m["active"] = true
		}, want: ReasonAudience},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newIntroServer(t)
			v, _ := newIntroVerifier(t, srv, newFakeClock(now), nil)
			ref := opaqueRef("policy")
			ans := introAnswer(now)
			if tc.edit != nil {
				tc.edit(ans)
			}
			srv.set(ref, ans)
			id, err := v.Verify(context.Background(), ref)
			noSecrets(t, err, ref)
			if tc.want != "" {
				wantReason(t, err, tc.want)
				if id != nil {
					t.Fatal("a refusal returned an identity")
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !slices.Equal(id.Groups, tc.groups) || id.Claims["iss"] != testIssuer {
				t.Fatalf("groups %q iss %v, want %q and the issuer", id.Groups, id.Claims["iss"], tc.groups)
			}
		})
	}
}

// TestIntrospectionEndpointFailures: whatever goes wrong at the endpoint, the token is
// refused with a reason that is not a verdict on it, and no error quotes the token, the
// client secret or what the endpoint wrote about them.
func TestIntrospectionEndpointFailures(t *testing.T) {
	t.Parallel()
	ref := opaqueRef("failures")
	tests := []struct {
		name  string
		setup func(s *introServer)
		want  Reason
		in    string // the detail must contain it
	}{
		{name: "401 bad client credentials", want: ReasonIntrospectionRejected, in: "error invalid_client",
			setup: func(s *introServer) {
				s.fail(http.StatusUnauthorized, `{"error":"invalid_client","error_description":"bad secret `+introSecret+` for token `+ref+`"}`, "")
			}},
		{name: "403", setup: func(s *introServer) { s.fail(http.StatusForbidden, "", "") }, want: ReasonIntrospectionRejected, in: "HTTP 403"},
		{name: "503", setup: func(s *introServer) { s.fail(http.StatusServiceUnavailable, "<html>down</html>", "") }, want: ReasonIntrospectionUnavailable, in: "HTTP 503"},
		{name: "429 with Retry-After", setup: func(s *introServer) { s.fail(http.StatusTooManyRequests, "", "7") }, want: ReasonIntrospectionUnavailable, in: "retry after 7s"},
		{name: "error code with odd characters is not repeated", want: ReasonIntrospectionUnavailable, in: "HTTP 400",
			setup: func(s *introServer) { s.fail(http.StatusBadRequest, `{"error":"`+ref+`"}`, "") }},
		{name: "body too large", want: ReasonIntrospectionUnavailable, in: "larger than",
			setup: func(s *introServer) {
				s.setRaw("", []byte(`{"active":true,"pad":"`+strings.Repeat("x", maxIntrospectionBytes)+`"}`))
			}},
		{name: "non-JSON", setup: func(s *introServer) { s.setRaw("", []byte("<html>ok</html>")) }, want: ReasonIntrospectionUnavailable, in: "not an RFC 7662"},
		{name: "JSON array", setup: func(s *introServer) { s.setRaw("", []byte(`[{"active":true}]`)) }, want: ReasonIntrospectionUnavailable, in: "not a JSON object"},
		{name: "two objects", setup: func(s *introServer) { s.setRaw("", []byte(`{"active":false}{"active":true}`)) }, want: ReasonIntrospectionUnavailable, in: "data after"},
		{name: "not application/json", setup: func(s *introServer) { s.setRaw("text/plain", []byte(`{"active":true}`)) }, want: ReasonIntrospectionUnavailable, in: "Content-Type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newIntroServer(t)
			srv.set(ref, introAnswer(testEpoch))
			tc.setup(srv)
			v, _ := newIntroVerifier(t, srv, newFakeClock(testEpoch), nil)
			_, err := v.Verify(context.Background(), ref)
			wantReason(t, err, tc.want)
			noSecrets(t, err, ref)
			if !strings.Contains(err.Error(), tc.in) {
				t.Fatalf("error %q does not say %q", err, tc.in)
			}
			if strings.Contains(err.Error(), "bad secret") {
				t.Fatalf("the endpoint's error_description was repeated: %v", err)
			}
		})
	}
}

func TestIntrospectionNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	elsewhere := newIntroServer(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	in, err := NewIntrospector(IntrospectorOptions{Endpoint: redirect.URL + "/as/introspect.oauth2", Issuer: testIssuer,
		ClientID: introClientID, ClientSecret: introSecret, Client: loopbackClient(t), Now: newFakeClock(testEpoch).Now})
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, testPolicy(), mustStatic(t, jwksOf(t, rsaTestKey(0, "k1").public())), VerifierOptions{Introspector: in, Now: newFakeClock(testEpoch).Now})
	_, err = v.Verify(context.Background(), opaqueRef("redirect"))
	wantReason(t, err, ReasonIntrospectionUnavailable)
	if elsewhere.hits.Load() != 0 {
		t.Fatal("a 307 carried the token and credentials to another server")
	}
}

func TestIntrospectionEndpointUnreachable(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	v, _ := newIntroVerifier(t, srv, newFakeClock(testEpoch), nil)
	srv.Close()
	ref := opaqueRef("unreachable")
	_, err := v.Verify(context.Background(), ref)
	wantReason(t, err, ReasonIntrospectionUnavailable)
	noSecrets(t, err, ref)
}

// TestOnlyOpaqueTokensAreIntrospected: anything serialized like a JOSE object is decided
// locally, so a malformed or forged JWT never reaches the issuer, and a string that cannot be
// a reference token is not sent either.
func TestOnlyOpaqueTokensAreIntrospected(t *testing.T) {
	t.Parallel()
	srv := newIntroServer(t)
	v, in := newIntroVerifier(t, srv, newFakeClock(testEpoch), nil)
	k1 := rsaTestKey(0, "k1")
	jwt := signClaims(t, k1, pingClaims(testEpoch), nil)
	if _, err := v.Verify(context.Background(), jwt); err != nil {
		t.Fatalf("a valid JWT with introspection configured: %v", err)
	}
	local := map[string]string{
		"two dots, not base64url JSON":  "not-a-jwt-at-all.but-it-has.two-dots-here",
		"JWT with a tampered signature": jwt[:len(jwt)-4] + "AAAA",
		"JWE (four dots)":               "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
		"JSON serialization":            `{"payload":"e30","signatures":[]}`,
		"too short for a reference":     "abc123",
		"whitespace":                    "an old API key lying around",
		"trailing newline":              opaqueRef("newline") + "\n",
		"non-ASCII":                     opaqueRef("é"),
		"only padding":                  strings.Repeat("=", 30),
		"too long":                      strings.Repeat("a", MaxOpaqueTokenBytes+1),
	}
	for name, tok := range local {
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if r := ReasonOf(err); r != ReasonMalformed && r != ReasonSignature {
			t.Fatalf("%s: reason %s (%v), want a local refusal", name, r, err)
		}
	}
	if n := srv.hits.Load(); n != 0 || in.Stats().Requests != 0 {
		t.Fatalf("%d requests reached the endpoint for tokens decided locally", n)
	}
	for _, tok := range []string{opaqueRef("plain"), "one.dot-is-opaque-and-long-enough", strings.Repeat("a", 40) + "==", "three.dots.are.opaque-and-long-enough"} {
		_, err := v.Verify(context.Background(), tok)
		wantReason(t, err, ReasonTokenInactive)
	}
	if n := srv.hits.Load(); n != 4 {
		t.Fatalf("%d requests for 4 opaque tokens", n)
	}

	plain := mustVerifier(t, testPolicy(), mustStatic(t, jwksOf(t, k1.public())), VerifierOptions{Now: newFakeClock(testEpoch).Now})
	_, err := plain.Verify(context.Background(), opaqueRef("plain"))
	wantReason(t, err, ReasonMalformed)
}

func TestNewIntrospectorRefusesUnsafeSettings(t *testing.T) {
	t.Parallel()
	base := IntrospectorOptions{Endpoint: "https://pf.example.com/as/introspect.oauth2", Issuer: testIssuer,
		ClientID: introClientID, ClientSecret: introSecret, Client: http.DefaultClient}
	tests := map[string]func(o *IntrospectorOptions){
		"relative endpoint":     func(o *IntrospectorOptions) { o.Endpoint = "/as/introspect.oauth2" },
		"credentials in URL":    func(o *IntrospectorOptions) { o.Endpoint = "https://u:p@pf.example.com/as/introspect.oauth2" },
		"fragment":              func(o *IntrospectorOptions) { o.Endpoint += "#x" },
		"no issuer":             func(o *IntrospectorOptions) { o.Issuer = "" },
		"no client id":          func(o *IntrospectorOptions) { o.ClientID = "" },
		"no secret":             func(o *IntrospectorOptions) { o.ClientSecret = "" },
		"unsupported method":    func(o *IntrospectorOptions) { o.AuthMethod = "private_key_jwt" },
		"no HTTP client at all": func(o *IntrospectorOptions) { o.Client = nil },
	}
	for name, mod := range tests {
		o := base
		mod(&o)
		if _, err := NewIntrospector(o); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), introSecret) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
	in, err := NewIntrospector(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, in); strings.Contains(s, introSecret) {
			t.Fatalf("%s of an introspector prints the secret: %s", f, s)
		}
	}
	p := testPolicy()
	p.Issuer = "https://auth.pingone.eu/other/as"
	if _, err := NewVerifier(p, mustStatic(t, jwksOf(t, rsaTestKey(0, "k1").public())), VerifierOptions{Introspector: in}); err == nil {
		t.Fatal("a verifier accepted an introspector speaking for another issuer")
	}
}

package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// pingOneDiscovery renders a discovery document in PingOne's shape for an issuer.
func pingOneDiscovery(issuer, jwksURI string) map[string]any {
	return map[string]any{
		"issuer":                                      issuer,
		"authorization_endpoint":                      issuer + "/authorize",
		"token_endpoint":                              issuer + "/token",
		"userinfo_endpoint":                           issuer + "/userinfo",
		"jwks_uri":                                    jwksURI,
		"end_session_endpoint":                        issuer + "/signoff",
		"introspection_endpoint":                      issuer + "/introspect",
		"scopes_supported":                            []string{"openid", "profile", "email", "address", "phone"},
		"response_types_supported":                    []string{"code", "id_token", "token id_token"},
		"subject_types_supported":                     []string{"public"},
		"id_token_signing_alg_values_supported":       []string{"RS256"},
		"request_object_signing_alg_values_supported": []string{"none", "HS256", "RS256"},
		"claims_supported":                            []string{"sub", "iss", "auth_time", "acr", "name", "email"},
	}
}

// discoveryServer answers every path under the issuer with whatever docFor returns.
func discoveryServer(t *testing.T, docFor func(base string) (int, any)) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, doc := docFor(srv.URL)
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			status = http.StatusNotFound
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	const envPath = "/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/as"
	cases := []struct {
		name     string
		issuer   func(base string) string
		doc      func(base string) (int, any)
		wantErr  []string
		wantJWKS func(base string) string
	}{
		{
			name:   "PingOne",
			issuer: func(b string) string { return b + envPath },
			doc: func(b string) (int, any) {
				return 200, pingOneDiscovery(b+envPath, b+envPath+"/jwks")
			},
			wantJWKS: func(b string) string { return b + envPath + "/jwks" },
		},
		{
			name:   "PingFederate keeps its /pf/JWKS",
			issuer: func(b string) string { return b },
			doc: func(b string) (int, any) {
				return 200, map[string]any{"issuer": b, "jwks_uri": b + "/pf/JWKS", "token_endpoint": b + "/as/token.oauth2"}
			},
			wantJWKS: func(b string) string { return b + "/pf/JWKS" },
		},
		{
			name:   "document names another issuer",
			issuer: func(b string) string { return b + envPath },
			doc: func(b string) (int, any) {
				return 200, pingOneDiscovery(b+"/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/as", b+"/jwks")
			},
			wantErr: []string{`names issuer "http://127.0.0.1`, "/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/as", "must match exactly"},
		},
		{
			name:   "configured issuer has a trailing slash the document lacks",
			issuer: func(b string) string { return b + envPath + "/" },
			doc: func(b string) (int, any) {
				return 200, pingOneDiscovery(b+envPath, b+envPath+"/jwks")
			},
			wantErr: []string{"must match exactly", "trailing slash"},
		},
		{
			name:   "no jwks_uri",
			issuer: func(b string) string { return b + envPath },
			doc: func(b string) (int, any) {
				return 200, map[string]any{"issuer": b + envPath}
			},
			wantErr: []string{"has no jwks_uri"},
		},
		{
			name:   "not found names URL and status",
			issuer: func(b string) string { return b + envPath },
			doc: func(string) (int, any) {
				return 404, map[string]any{"code": "NOT_FOUND", "message": "The requested resource was not found."}
			},
			wantErr: []string{envPath + "/.well-known/openid-configuration: HTTP 404 Not Found", "NOT_FOUND"},
		},
		{
			name:   "not JSON of the expected shape",
			issuer: func(b string) string { return b + envPath },
			doc: func(string) (int, any) {
				return 200, []string{"not", "an", "object"}
			},
			wantErr: []string{"not valid JSON of the expected shape"},
		},
	}
	client := loopbackClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := discoveryServer(t, tc.doc)
			issuer := tc.issuer(srv.URL)
			doc, err := Discover(context.Background(), client, issuer)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("expected an error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("error %q should mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != issuer || doc.JWKSURI != tc.wantJWKS(srv.URL) {
				t.Fatalf("doc = %+v", doc)
			}
			if !json.Valid(doc.Raw) || !strings.Contains(string(doc.Raw), `"jwks_uri"`) {
				t.Fatalf("raw = %s", doc.Raw)
			}
			if tc.name == "PingOne" {
				if doc.TokenEndpoint != issuer+"/token" || doc.AuthorizationEndpoint != issuer+"/authorize" ||
					doc.UserinfoEndpoint != issuer+"/userinfo" ||
					!slices.Equal(doc.IDTokenSigningAlgValuesSupported, []string{"RS256"}) ||
					!slices.Contains(doc.ScopesSupported, "openid") || !slices.Contains(doc.ClaimsSupported, "sub") {
					t.Fatalf("doc = %+v", doc)
				}
			}
		})
	}
}

func TestDiscoveryURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"https://auth.pingone.eu/env/as":  "https://auth.pingone.eu/env/as/.well-known/openid-configuration",
		"https://auth.pingone.eu/env/as/": "https://auth.pingone.eu/env/as/.well-known/openid-configuration",
		"https://pf.example.com":          "https://pf.example.com/.well-known/openid-configuration",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got := DiscoveryURL(in); got != want {
				t.Fatalf("DiscoveryURL(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

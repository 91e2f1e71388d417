package pingonetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestIssuerWorksWithGoOIDC proves the issuer is usable by a standard OIDC client end to end
// (discovery, JWKS, RS256 verification) and that every forgery helper yields a token such a
// client refuses.
func TestIssuerWorksWithGoOIDC(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, srv.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	verifier := provider.Verifier(&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{oidc.RS256}})
	good := srv.IssueToken(TokenOptions{})

	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{name: "valid", token: good},
		{name: "alg none", token: srv.ForgeNone(TokenOptions{}), wantErr: "malformed jwt"},
		{name: "HS256 with public key", token: srv.ForgeHS256WithPublicKey(TokenOptions{}), wantErr: "unexpected signature algorithm"},
		{name: "RS512 not allowed", token: srv.IssueToken(TokenOptions{Algorithm: "RS512"}), wantErr: "unexpected signature algorithm"},
		{name: "unknown kid", token: srv.IssueToken(TokenOptions{KeyID: "not-a-published-kid"}), wantErr: "failed to verify signature"},
		{name: "tampered payload", token: Tamper(good, map[string]any{"sub": "someone-else"}), wantErr: "failed to verify signature"},
		{name: "wrong issuer", token: srv.IssueToken(TokenOptions{Issuer: "https://auth.pingone.com/other/as"}), wantErr: "issued by a different provider"},
		{name: "expired", token: srv.IssueToken(TokenOptions{IssuedAt: time.Now().Add(-2 * time.Hour)}), wantErr: "token is expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			idt, err := verifier.Verify(ctx, tt.token)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if idt.Subject != DefaultUserID || idt.Issuer != srv.Issuer() {
					t.Fatalf("sub/iss = %q/%q", idt.Subject, idt.Issuer)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("verify error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDiscoveryAndJWKSShape(t *testing.T) {
	t.Parallel()
	srv := New(Options{EnvironmentID: "12345678-1111-4111-8111-123456789012"})
	t.Cleanup(srv.Close)

	var disc map[string]any
	getJSON(t, srv.Client(), srv.DiscoveryURL(), "", http.StatusOK, &disc)
	if disc["issuer"] != srv.URL()+"/12345678-1111-4111-8111-123456789012/as" || disc["jwks_uri"] != srv.JWKSURL() ||
		disc["token_endpoint"] != srv.TokenURL() {
		t.Fatalf("discovery endpoints wrong: %v", disc)
	}
	if algs := disc["id_token_signing_alg_values_supported"]; len(algs.([]any)) != 1 || algs.([]any)[0] != "RS256" {
		t.Fatalf("id_token_signing_alg_values_supported = %v, want [RS256]", algs)
	}

	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, srv.Client(), srv.JWKSURL(), "", http.StatusOK, &set)
	if len(set.Keys) != 1 {
		t.Fatalf("got %d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	for _, field := range []string{"kid", "kty", "use", "n", "e", "x5c", "x5t"} {
		if _, ok := k[field]; !ok {
			t.Errorf("JWKS key lacks %q: %v", field, k)
		}
	}
	if _, ok := k["alg"]; ok {
		t.Errorf("JWKS key has alg; PingOne publishes none: %v", k)
	}
	if k["kid"] != srv.ActiveKeyID() || k["use"] != "sig" || k["kty"] != "RSA" {
		t.Errorf("key = %v", k)
	}
	if srv.JWKSFetches() != 1 || srv.DiscoveryFetches() != 1 {
		t.Errorf("counters = %d JWKS, %d discovery; want 1 and 1", srv.JWKSFetches(), srv.DiscoveryFetches())
	}
	getJSON(t, srv.Client(), srv.URL()+"/"+DefaultEnvironmentID+"/as/jwks", "", http.StatusNotFound, nil)
}

func TestKeyRotationAndOutage(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	first := srv.ActiveKeyID()
	oldToken := srv.IssueToken(TokenOptions{})

	second := srv.RotateKey()
	if second == first || srv.ActiveKeyID() != second {
		t.Fatalf("RotateKey returned %q, active %q, first %q", second, srv.ActiveKeyID(), first)
	}
	if got := srv.PublishedKeyIDs(); !slices.Equal(got, []string{first, second}) {
		t.Fatalf("after rotation JWKS = %v, want both keys", got)
	}
	if kid := headerKID(t, srv.IssueToken(TokenOptions{})); kid != second {
		t.Fatalf("new token kid = %q, want %q", kid, second)
	}
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	ks := oidc.NewRemoteKeySet(ctx, srv.JWKSURL())
	if _, err := ks.VerifySignature(ctx, oldToken); err != nil {
		t.Fatalf("token signed before rotation must still verify while its key is published: %v", err)
	}

	srv.RetireOldKeys()
	if got := srv.PublishedKeyIDs(); !slices.Equal(got, []string{second}) {
		t.Fatalf("after retirement JWKS = %v", got)
	}
	fresh := oidc.NewRemoteKeySet(ctx, srv.JWKSURL())
	if _, err := fresh.VerifySignature(ctx, oldToken); err == nil {
		t.Fatal("token signed with a retired key verified")
	}

	srv.SetJWKSAvailable(false)
	getJSON(t, srv.Client(), srv.JWKSURL(), "", http.StatusServiceUnavailable, nil)
	srv.SetJWKSAvailable(true)
	getJSON(t, srv.Client(), srv.JWKSURL(), "", http.StatusOK, nil)
}

func TestClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1719859270, 0)
	srv := New(Options{Now: func() time.Time { return now }, PlainHTTP: true})
	t.Cleanup(srv.Close)
	tests := []struct {
		name    string
		opts    TokenOptions
		want    map[string]any // claim -> value after a JSON round trip
		without []string
	}{
		{name: "user token for the PingOne API", opts: TokenOptions{},
			want: map[string]any{"iss": srv.Issuer(), "sub": DefaultUserID, "sid": DefaultSessionID, "client_id": DefaultAppClientID,
				"scope": "openid profile email", "aud": []any{APIAudience}, "iat": 1719859270.0, "exp": 1719862870.0,
				"env": DefaultEnvironmentID, "org": DefaultOrganizationID},
			without: []string{"nbf", "groups", "jti"}},
		{name: "worker token", opts: TokenOptions{ClientCredentials: true},
			want:    map[string]any{"client_id": DefaultWorkerClientID, "env": DefaultEnvironmentID},
			without: []string{"sub", "sid", "scope"}},
		{name: "custom resource has no env/org", opts: TokenOptions{Audience: []string{"https://orders.example.com"},
			Scope: "orders:read", Groups: []string{"Managers"}},
			want:    map[string]any{"aud": []any{"https://orders.example.com"}, "scope": "orders:read", "groups": []any{"Managers"}},
			without: []string{"env", "org"}},
		{name: "nested groups claim", opts: TokenOptions{Groups: []string{}, GroupsClaim: "realm_access.roles"},
			want: map[string]any{"realm_access": map[string]any{"roles": []any{}}}},
		{name: "overrides and omissions", opts: TokenOptions{NotBefore: now.Add(time.Minute), Lifetime: 10 * time.Minute,
			Extra: map[string]any{"aud": "single"}, Omit: []string{"iat"}},
			want:    map[string]any{"nbf": 1719859330.0, "exp": 1719859870.0, "aud": "single"},
			without: []string{"iat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, _ := json.Marshal(srv.Claims(tt.opts))
			var got map[string]any
			_ = json.Unmarshal(raw, &got)
			for k, v := range tt.want {
				gj, _ := json.Marshal(got[k])
				wj, _ := json.Marshal(v)
				if string(gj) != string(wj) {
					t.Errorf("%s = %s, want %s", k, gj, wj)
				}
			}
			for _, k := range tt.without {
				if _, ok := got[k]; ok {
					t.Errorf("claim %s present: %v", k, got[k])
				}
			}
		})
	}
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	srv := New(Options{WorkerClientSecret: "s3cr:et/+"})
	t.Cleanup(srv.Close)
	id, secret := srv.WorkerCredentials()
	tests := []struct {
		name       string
		form       url.Values
		basic      []string
		wantStatus int
		wantError  string
	}{
		{name: "basic auth", form: url.Values{"grant_type": {"client_credentials"}},
			basic: []string{url.QueryEscape(id), url.QueryEscape(secret)}, wantStatus: http.StatusOK},
		{name: "wrong secret", form: url.Values{"grant_type": {"client_credentials"}},
			basic: []string{url.QueryEscape(id), "nope"}, wantStatus: http.StatusUnauthorized, wantError: "invalid_client"},
		{name: "credentials in body", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_secret": {secret}}, wantStatus: http.StatusUnauthorized, wantError: "invalid_client"},
		{name: "other grant", form: url.Values{"grant_type": {"password"}},
			basic: []string{url.QueryEscape(id), url.QueryEscape(secret)}, wantStatus: http.StatusBadRequest,
			wantError: "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic != nil {
				req.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			var body map[string]any
			do(t, srv.Client(), req, tt.wantStatus, &body)
			if tt.wantError != "" {
				if body["error"] != tt.wantError {
					t.Fatalf("error = %v, want %s", body["error"], tt.wantError)
				}
				return
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != 3600.0 {
				t.Fatalf("token response = %v", body)
			}
			if _, ok := body["scope"]; ok {
				t.Fatalf("worker token response has a scope: %v", body)
			}
			getJSON(t, srv.Client(), srv.APIBaseURL()+"/groups", body["access_token"].(string), http.StatusOK, nil)
		})
	}
}

func TestGroupsAPI(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	srv := New(Options{Groups: DefaultGroups(), Now: clock})
	t.Cleanup(srv.Close)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	base := srv.APIBaseURL()

	t.Run("paging", func(t *testing.T) {
		t.Parallel()
		var names []string
		next := base + "/groups?limit=2"
		for pages := 0; next != ""; pages++ {
			if pages > 2 {
				t.Fatal("paging does not terminate")
			}
			var page listPage
			getJSON(t, srv.Client(), next, bearer, http.StatusOK, &page)
			if page.Count != 3 || page.Size != len(page.Embedded.Groups) {
				t.Fatalf("count/size = %d/%d with %d groups", page.Count, page.Size, len(page.Embedded.Groups))
			}
			for _, g := range page.Embedded.Groups {
				names = append(names, g.Name)
			}
			next = page.Links.Next.Href
		}
		if !slices.Equal(names, []string{"Managers", "Engineering", "Engineering Read-Only"}) {
			t.Fatalf("names = %q", names)
		}
	})
	t.Run("filter", func(t *testing.T) {
		t.Parallel()
		var page listPage
		getJSON(t, srv.Client(), base+"/groups?filter="+url.QueryEscape(`name sw "Eng"`)+"&limit=1", bearer, http.StatusOK, &page)
		if page.Count != 2 || page.Size != 1 || !strings.Contains(page.Links.Next.Href, "filter=") {
			t.Fatalf("page = %+v: the next link must keep the filter", page)
		}
	})
	errorCases := []struct {
		name, url, bearer string
		status            int
		code, detail      string
	}{
		{name: "bad filter", url: base + "/groups?filter=" + url.QueryEscape(`title eq "x"`), bearer: bearer,
			status: http.StatusBadRequest, code: "INVALID_DATA", detail: "INVALID_FILTER"},
		{name: "bad limit", url: base + "/groups?limit=1001", bearer: bearer, status: http.StatusBadRequest,
			code: "INVALID_DATA", detail: "INVALID_VALUE"},
		{name: "bad cursor", url: base + "/groups?cursor=xyz", bearer: bearer, status: http.StatusBadRequest,
			code: "INVALID_DATA", detail: "INVALID_VALUE"},
		{name: "missing bearer", url: base + "/groups", status: http.StatusUnauthorized, code: "ACCESS_FAILED", detail: "INVALID_TOKEN"},
		{name: "expired bearer", url: base + "/groups", bearer: srv.IssueToken(TokenOptions{ClientCredentials: true,
			IssuedAt: now.Add(-2 * time.Hour)}), status: http.StatusUnauthorized, code: "ACCESS_FAILED", detail: "INVALID_TOKEN"},
		{name: "bearer for another audience", url: base + "/groups", bearer: srv.IssueToken(TokenOptions{
			Audience: []string{"https://orders.example.com"}}), status: http.StatusUnauthorized, code: "ACCESS_FAILED"},
		{name: "forged bearer", url: base + "/groups", bearer: srv.ForgeHS256WithPublicKey(TokenOptions{ClientCredentials: true}),
			status: http.StatusUnauthorized, code: "ACCESS_FAILED"},
		{name: "unknown group", url: base + "/groups/99999999-9999-4999-8999-999999999999", bearer: bearer,
			status: http.StatusNotFound, code: "NOT_FOUND"},
		{name: "other environment", url: srv.URL() + "/v1/environments/" + newUUID() + "/groups", bearer: bearer,
			status: http.StatusNotFound, code: "NOT_FOUND"},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e apiError
			getJSON(t, srv.Client(), tt.url, tt.bearer, tt.status, &e)
			if e.ID == "" || e.Code != tt.code || e.Message == "" {
				t.Fatalf("error body = %+v, want code %s with id and message", e, tt.code)
			}
			if tt.detail != "" && (len(e.Details) != 1 || e.Details[0].Code != tt.detail) {
				t.Fatalf("details = %+v, want %s", e.Details, tt.detail)
			}
		})
	}
	t.Run("single group with totals", func(t *testing.T) {
		t.Parallel()
		var g map[string]any
		getJSON(t, srv.Client(), base+"/groups/99999999-0001-4000-8000-000000000001?include=totalMemberCounts", bearer,
			http.StatusOK, &g)
		if g["name"] != "Managers" || g["totalMemberCounts"] == nil || g["environment"].(map[string]any)["id"] != DefaultEnvironmentID {
			t.Fatalf("group = %v", g)
		}
	})
}

func TestRateLimitAndMutations(t *testing.T) {
	t.Parallel()
	srv := New(Options{Groups: DefaultGroups()})
	t.Cleanup(srv.Close)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	groupURL := srv.APIBaseURL() + "/groups/99999999-0001-4000-8000-000000000001"

	srv.RateLimitNext(2, "7")
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, groupURL, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		var e apiError
		header := do(t, srv.Client(), req, http.StatusTooManyRequests, &e)
		if header.Get("Retry-After") != "7" || e.Code != "REQUEST_LIMITED" || e.Details[0].Code != "LIMIT_EXCEEDED" {
			t.Fatalf("429 = %v %+v", header, e)
		}
	}
	getJSON(t, srv.Client(), groupURL, bearer, http.StatusOK, nil)
	if srv.APIRequests() != 3 {
		t.Fatalf("APIRequests = %d, want 3", srv.APIRequests())
	}

	if err := srv.RenameGroup("99999999-0001-4000-8000-000000000001", "Leads"); err != nil {
		t.Fatal(err)
	}
	var g groupJSON
	getJSON(t, srv.Client(), groupURL, bearer, http.StatusOK, &g)
	if g.Name != "Leads" {
		t.Fatalf("renamed group name = %q", g.Name)
	}
	added := srv.AddGroup(Group{Name: "New"})
	if added.ID == "" || len(srv.Groups()) != 4 {
		t.Fatalf("AddGroup = %+v, %d groups", added, len(srv.Groups()))
	}
	if err := srv.DeleteGroup("99999999-0001-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	getJSON(t, srv.Client(), groupURL, bearer, http.StatusNotFound, nil)
	if err := srv.DeleteGroup("99999999-0001-4000-8000-000000000001"); err == nil {
		t.Fatal("deleting a missing group succeeded")
	}
}

type listPage struct {
	Links struct {
		Next struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
	Embedded struct {
		Groups []groupJSON `json:"groups"`
	} `json:"_embedded"`
	Count int `json:"count"`
	Size  int `json:"size"`
}

func getJSON(t *testing.T, c *http.Client, u, bearer string, wantStatus int, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	do(t, c, req, wantStatus, out)
}

func do(t *testing.T, c *http.Client, req *http.Request, wantStatus int, out any) http.Header {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body %s", req.Method, req.URL, resp.StatusCode, wantStatus, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
	}
	return resp.Header
}

func headerKID(t *testing.T, token string) string {
	t.Helper()
	var h struct {
		KID string `json:"kid"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil || json.Unmarshal(raw, &h) != nil {
		t.Fatalf("bad token header in %q", token)
	}
	return h.KID
}

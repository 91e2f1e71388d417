package pingone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// Applications a typical environment adds to the fixture's three (admin console, web app,
// worker): a service, a disabled service, a single-page app and a SAML application.
const (
	ordersID   = "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f"
	billingID  = "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e80"
	samlAppID  = "5a5a5a5a-0000-4000-8000-5a5a5a5a5a5a"
	disabledID = "d15ab1ed-0000-4000-8000-d15ab1ed0000"
)

func appsServer(t *testing.T) *pingonetest.Server {
	t.Helper()
	srv := pingonetest.New(pingonetest.Options{})
	t.Cleanup(srv.Close)
	srv.AddApplication(pingonetest.Application{ID: ordersID, Name: "Orders Service", Type: "WORKER"})
	srv.AddApplication(pingonetest.Application{ID: billingID, Name: "Billing Service", Type: "SERVICE",
		GrantTypes: []string{GrantClientCredentials}, TokenEndpointAuthMethod: "CLIENT_SECRET_POST"})
	srv.AddApplication(pingonetest.Application{ID: disabledID, Name: "Legacy Batch", Type: "WORKER", Disabled: true})
	srv.AddApplication(pingonetest.Application{Name: "Dashboard", Type: "SINGLE_PAGE_APP"})
	srv.AddApplication(pingonetest.Application{ID: samlAppID, Name: "Wiki", Type: "WEB_APP", Protocol: "SAML"})
	return srv
}

// recorder keeps the request URIs the client sends, to prove what it asks PingOne for.
type recorder struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	uris []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.uris = append(r.uris, req.URL.RequestURI())
	r.mu.Unlock()
	return r.rt.RoundTrip(req)
}

func (r *recorder) apiURIs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.uris {
		if strings.HasPrefix(u, "/v1/") {
			out = append(out, u)
		}
	}
	return out
}

func recordingClient(t *testing.T, srv *pingonetest.Server) (*Client, *recorder, *waits) {
	t.Helper()
	rec := &recorder{rt: srv.Client().Transport}
	c, w := newTestClient(t, srv, func(c *Config) { c.HTTPClient = &http.Client{Transport: rec} })
	return c, rec, w
}

func appNames(apps []Application) []string {
	names := []string{}
	for _, a := range apps {
		names = append(names, a.Name)
	}
	return names
}

var allAppNames = []string{"PingOne Admin Console", "Demo Web App", "natsping Worker", "Orders Service",
	"Billing Service", "Legacy Batch", "Dashboard", "Wiki"}

func TestListApplicationsPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pageSize int
		requests int
	}{
		{name: "one page at PingOne's size", requests: 1},
		{name: "three pages of three", pageSize: 3, requests: 3},
		{name: "eight pages of one", pageSize: 1, requests: 8},
		{name: "exactly one full page", pageSize: 8, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := appsServer(t)
			srv.SetApplicationPageSize(tt.pageSize)
			c, rec, _ := recordingClient(t, srv)
			apps, err := c.ListApplications(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := appNames(apps); !slices.Equal(got, allAppNames) {
				t.Fatalf("names = %q, want %q", got, allAppNames)
			}
			uris := rec.apiURIs()
			if len(uris) != tt.requests {
				t.Fatalf("API requests = %q, want %d", uris, tt.requests)
			}
			// PingOne documents no filter or limit on this collection; the first page is asked
			// for bare and every later one by the cursor PingOne handed out.
			if uris[0] != "/v1/environments/"+envID+"/applications" {
				t.Errorf("first request = %s, want the bare collection", uris[0])
			}
			for _, u := range uris[1:] {
				parsed, _ := url.Parse(u)
				if q := parsed.Query(); q.Get("cursor") == "" || q.Has("filter") || q.Has("limit") {
					t.Errorf("page request %s: want only a cursor", u)
				}
			}
		})
	}
}

func TestApplicationFields(t *testing.T) {
	t.Parallel()
	srv := appsServer(t)
	c, _ := newTestClient(t, srv, nil)
	ctx := context.Background()

	worker, err := c.GetApplication(ctx, pingonetest.DefaultWorkerClientID)
	if err != nil {
		t.Fatal(err)
	}
	if worker.Type != TypeWorker || worker.Protocol != ProtocolOpenIDConnect || !worker.Enabled ||
		!slices.Equal(worker.GrantTypes, []string{GrantClientCredentials}) || worker.TokenEndpointAuthMethod != "CLIENT_SECRET_BASIC" ||
		worker.EnvironmentID != envID || worker.CreatedAt.IsZero() || worker.Name != "natsping Worker" {
		t.Fatalf("worker = %+v", worker)
	}

	byID := map[string]Application{}
	apps, err := c.ListApplications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		byID[a.ID] = a
	}
	tests := []struct {
		id                             string
		oidc, service, user, pingOwned bool
	}{
		{id: pingonetest.DefaultWorkerClientID, oidc: true, service: true},
		{id: ordersID, oidc: true, service: true},
		{id: billingID, oidc: true, service: true},
		{id: pingonetest.DefaultAppClientID, oidc: true, user: true},
		{id: pingonetest.DefaultAdminConsoleID, oidc: true, pingOwned: true},
		{id: samlAppID},
	}
	for _, tt := range tests {
		a, ok := byID[tt.id]
		if !ok {
			t.Errorf("%s not listed", tt.id)
			continue
		}
		if a.IsOIDC() != tt.oidc || a.IssuesServiceTokens() != tt.service || a.IssuesUserTokens() != tt.user ||
			a.IsPingOneApp() != tt.pingOwned {
			t.Errorf("%s (%s): oidc %v service %v user %v ping-owned %v, want %v %v %v %v", a.Name, a.Type,
				a.IsOIDC(), a.IssuesServiceTokens(), a.IssuesUserTokens(), a.IsPingOneApp(),
				tt.oidc, tt.service, tt.user, tt.pingOwned)
		}
	}
	if saml := byID[samlAppID]; saml.GrantTypes != nil || saml.TokenEndpointAuthMethod != "" {
		t.Errorf("SAML application carries OIDC fields: %+v", saml)
	}
	if billing := byID[billingID]; billing.Type != "SERVICE" || billing.TokenEndpointAuthMethod != "CLIENT_SECRET_POST" {
		t.Errorf("billing = %+v", billing)
	}
}

func TestDisabledApplicationIsReported(t *testing.T) {
	t.Parallel()
	srv := appsServer(t)
	c, _ := newTestClient(t, srv, nil)
	ctx := context.Background()

	legacy, err := c.ResolveClientID(ctx, disabledID)
	if err != nil {
		t.Fatal(err)
	}
	if legacy.Enabled || legacy.Name != "Legacy Batch" {
		t.Fatalf("Legacy Batch = %+v, want it found and disabled", legacy)
	}
	// Switched off after the first look, as between two plans.
	if err := srv.SetApplicationEnabled(ordersID, false); err != nil {
		t.Fatal(err)
	}
	orders, err := c.GetApplication(ctx, ordersID)
	if err != nil || orders.Enabled {
		t.Fatalf("Orders Service = %+v, %v; want disabled", orders, err)
	}
	listed, err := c.ListApplications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var disabled []string
	for _, a := range listed {
		if !a.Enabled {
			disabled = append(disabled, a.Name)
		}
	}
	if !slices.Equal(disabled, []string{"Orders Service", "Legacy Batch"}) {
		t.Fatalf("disabled = %q", disabled)
	}
	if err := srv.SetApplicationEnabled(ordersID, true); err != nil {
		t.Fatal(err)
	}
	if orders, err := c.GetApplication(ctx, ordersID); err != nil || !orders.Enabled {
		t.Fatalf("re-enabled Orders Service = %+v, %v", orders, err)
	}
}

// TestDeletedApplicationIsNotFound is the drift case: an application read while planning
// before is gone now, and the answer says so in a way callers can tell from an outage.
func TestDeletedApplicationIsNotFound(t *testing.T) {
	t.Parallel()
	srv := appsServer(t)
	c, _ := newTestClient(t, srv, nil)
	ctx := context.Background()
	if _, err := c.GetApplication(ctx, ordersID); err != nil {
		t.Fatal(err)
	}
	if err := srv.DeleteApplication(ordersID); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetApplication(ctx, ordersID)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want a *NotFoundError", err)
	}
	if want := "no PingOne application with id " + ordersID + " in environment " + envID; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "NOT_FOUND" ||
		!strings.Contains(apiErr.Message, "Unable to find Application with ID: '"+ordersID+"'") || apiErr.ID == "" {
		t.Errorf("cause = %+v, want PingOne's 404 envelope", apiErr)
	}
}

func TestApplicationRateLimiting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		limited    int
		retryAfter string
		call       func(*Client) error
		wantWaits  []time.Duration
		wantErr    []string
	}{
		{name: "one application, Retry-After seconds", limited: 2, retryAfter: "3",
			call:      func(c *Client) error { _, err := c.GetApplication(context.Background(), ordersID); return err },
			wantWaits: []time.Duration{3 * time.Second, 3 * time.Second}},
		{name: "listing, Retry-After as an HTTP date in the past", limited: 1, retryAfter: "Fri, 08 Mar 2024 21:34:44 GMT",
			call:      func(c *Client) error { _, err := c.ListApplications(context.Background()); return err },
			wantWaits: []time.Duration{0}},
		{name: "by name, retries exhausted", limited: 10, retryAfter: "1",
			call: func(c *Client) error {
				_, err := c.FindApplicationByName(context.Background(), "Orders Service")
				return err
			},
			wantWaits: []time.Duration{time.Second, time.Second, time.Second, time.Second},
			wantErr: []string{"PingOne API GET /v1/environments/" + envID + "/applications: HTTP 429 REQUEST_LIMITED",
				"[LIMIT_EXCEEDED: Rate limit exceeded.]", "still failing after 4 retries", "PingOne error id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := appsServer(t)
			srv.SetApplicationPageSize(3)
			c, w := newTestClient(t, srv, nil)
			srv.RateLimitNext(tt.limited, tt.retryAfter)
			err := tt.call(c)
			if got := w.got(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestResolveClientID(t *testing.T) {
	t.Parallel()
	srv := appsServer(t)
	tests := []struct {
		name     string
		value    string
		wantID   string
		wantErr  []string
		notFound bool
		requests int // API requests, so a cheap path stays cheap
	}{
		{name: "id", value: ordersID, wantID: ordersID, requests: 1},
		{name: "name", value: "Billing Service", wantID: billingID, requests: 1},
		{name: "name of the web app", value: "Demo Web App", wantID: pingonetest.DefaultAppClientID, requests: 1},
		{name: "name differs in case", value: "orders service", notFound: true, requests: 1,
			wantErr: []string{`no PingOne application with name "orders service" in environment ` + envID,
				`did you mean "Orders Service"? Application names and client ids must match exactly, including case`}},
		{name: "id one character off", value: "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e70", notFound: true, requests: 2,
			wantErr: []string{"no PingOne application with id 0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e70",
				`did you mean "` + ordersID + `" or "` + billingID + `"?`}},
		{name: "id far from every application", value: "12345678-1234-4234-8234-123456789012", notFound: true, requests: 2,
			wantErr: []string{"no PingOne application with id 12345678-1234-4234-8234-123456789012 in environment " + envID}},
		{name: "the environment id", value: envID, notFound: true, requests: 1,
			wantErr: []string{"That is the PingOne environment id", "Client ID on the application's Overview tab"}},
		{name: "upper-case id", value: strings.ToUpper(ordersID), requests: 0,
			wantErr: []string{"has upper-case letters", `write "` + ordersID + `"`}},
		{name: "unknown name", value: "Nobody", notFound: true, requests: 1,
			wantErr: []string{`no PingOne application with name "Nobody"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, rec, _ := recordingClient(t, srv)
			app, err := c.ResolveClientID(context.Background(), tt.value)
			if n := len(rec.apiURIs()); n != tt.requests {
				t.Errorf("API requests = %d (%q), want %d", n, rec.apiURIs(), tt.requests)
			}
			if tt.wantErr == nil {
				if err != nil || app.ID != tt.wantID {
					t.Fatalf("ResolveClientID(%q) = %+v, %v; want %s", tt.value, app, err, tt.wantID)
				}
				return
			}
			if err == nil {
				t.Fatalf("ResolveClientID(%q) = %+v, want an error", tt.value, app)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(ErrNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
		})
	}
}

func TestResolveClientIDSuggestionsAreBestEffort(t *testing.T) {
	t.Parallel()
	srv := appsServer(t)
	c, _ := newTestClient(t, srv, func(c *Config) { c.MaxRetries = -1 })
	// The read of the id answers 404; the listing for suggestions is then refused.
	c.hc = &http.Client{Transport: &limitAfter{rt: srv.Client().Transport, srv: srv, after: 1}}
	_, err := c.ResolveClientID(context.Background(), "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e70")
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Similar) != 0 {
		t.Fatalf("error = %v, want the plain not-found answer", err)
	}
}

// limitAfter rate-limits every Management API request after the first `after` ones.
type limitAfter struct {
	rt    http.RoundTripper
	srv   *pingonetest.Server
	after int64
}

func (l *limitAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/v1/") && l.srv.APIRequests() >= l.after {
		l.srv.RateLimitNext(1, "1")
	}
	return l.rt.RoundTrip(r)
}

func TestMatchApplicationName(t *testing.T) {
	t.Parallel()
	apps := []Application{
		{ID: "a1", Name: "Orders"}, {ID: "a2", Name: "orders"}, {ID: "a3", Name: "Twin"}, {ID: "a4", Name: "Twin"},
	}
	tests := []struct {
		name, want, wantErr string
	}{
		{name: "Orders", want: "a1"},
		{name: "orders", want: "a2"},
		{name: "ORDERS", wantErr: `no PingOne application with name "ORDERS" in environment env; did you mean "Orders" or "orders"?`},
		{name: "Twin", wantErr: `2 PingOne applications in environment env are named "Twin" (ids a3, a4); use the id`},
		{name: "", wantErr: `no PingOne application with name ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := MatchApplicationName(apps, tt.name, "env")
			if tt.wantErr == "" {
				if err != nil || a.ID != tt.want {
					t.Fatalf("= %+v, %v; want %s", a, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSimilarClientIDs(t *testing.T) {
	t.Parallel()
	oidc := func(id string) Application { return Application{ID: id, Protocol: ProtocolOpenIDConnect} }
	apps := []Application{
		oidc("0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f"),
		oidc("0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8a7b"),
		{ID: "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7e", Protocol: "SAML"}, // no token names it
		oidc("99999999-8f6a-4b7e-9d3c-2a1b0c9d8e7f"),
	}
	tests := []struct {
		value string
		want  []string
	}{
		{value: "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7a", want: []string{apps[0].ID, apps[1].ID}},
		{value: "0f6c1c7e8f6a-4b7e-9d3c-2a1b0c9d8e7f", want: []string{apps[0].ID}},   // a character lost while pasting
		{value: "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7ff", want: []string{apps[0].ID}}, // one too many
		{value: "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f", want: []string{apps[1].ID}},  // never itself, only its neighbour
		{value: "12345678-1234-4234-8234-123456789012", want: nil},
	}
	for _, tt := range tests {
		if got := SimilarClientIDs(apps, tt.value); !slices.Equal(got, tt.want) {
			t.Errorf("SimilarClientIDs(%s) = %q, want %q", tt.value, got, tt.want)
		}
	}
	var many []Application
	for i := range 5 {
		many = append(many, oidc(fmt.Sprintf("0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e%02d", i)))
	}
	if got := SimilarClientIDs(many, "0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e0x"); len(got) != 3 || got[0] != many[0].ID {
		t.Errorf("suggestions = %q, want the three nearest, nearest first", got)
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"abcd", "abdc", 2}, {"same", "same", 0},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestApplicationListingNextLinkIsChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rewrite func(self, next string) string
		wantErr string
	}{
		{name: "foreign host", wantErr: "refusing to follow PingOne next-page link to https://evil.example:443",
			rewrite: func(_, next string) string {
				u, _ := url.Parse(next)
				u.Host = "evil.example:443"
				return u.String()
			}},
		{name: "other collection", wantErr: "it leaves the collection",
			rewrite: func(_, next string) string { return strings.Replace(next, "/applications?", "/groups?", 1) }},
		{name: "loop", wantErr: "PingOne application listing loops",
			rewrite: func(self, _ string) string { return self }},
		{name: "cursor PingOne does not know", wantErr: "HTTP 400 INVALID_DATA",
			rewrite: func(_, next string) string { return strings.Replace(next, "cursor=", "cursor=x", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := appsServer(t)
			srv.SetApplicationPageSize(3)
			srv.SetNextLinkRewrite(tt.rewrite)
			c, _ := newTestClient(t, srv, nil)
			_, err := c.ListApplications(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestApplicationErrorsNameTheCause(t *testing.T) {
	t.Parallel()
	forbidden := &APIError{Method: http.MethodGet, Path: "/v1/environments/" + envID + "/applications",
		StatusCode: http.StatusForbidden, Code: "ACCESS_FAILED",
		Message: "The request could not be completed. You do not have access to this resource.",
		Details: []ErrorDetail{{Code: "INSUFFICIENT_PERMISSIONS", Message: "Actor does not have permissions"}}}
	for _, want := range []string{"HTTP 403 ACCESS_FAILED", "[INSUFFICIENT_PERMISSIONS: Actor does not have permissions]",
		"permission applications:read:application"} {
		if !strings.Contains(forbidden.Error(), want) {
			t.Errorf("error %q lacks %q", forbidden, want)
		}
	}
	groups := *forbidden
	groups.Path = "/v1/environments/" + envID + "/groups"
	if !strings.Contains(groups.Error(), "Identity Data Read Only") || strings.Contains(groups.Error(), "applications:read") {
		t.Errorf("groups 403 = %q, want the groups hint", groups.Error())
	}

	srv := appsServer(t)
	const wrongSecret = "wrong-secret-do-not-print"
	c, _ := newTestClient(t, srv, func(c *Config) { c.ClientSecret = wrongSecret })
	_, err := c.ResolveClientID(context.Background(), ordersID)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401 invalid_client") || strings.Contains(err.Error(), wrongSecret) ||
		errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want the token refusal without the secret, never not-found", err)
	}
	if _, err := c.GetApplication(context.Background(), "Orders Service"); err == nil ||
		!strings.Contains(err.Error(), `application id "Orders Service" is not a UUID`) {
		t.Fatalf("error = %v", err)
	}
}

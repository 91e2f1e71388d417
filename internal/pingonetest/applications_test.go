package pingonetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// appsGet fetches u with bearer, requires wantStatus and decodes the body into out. It is
// separate from the groups tests' helpers so the two can change apart.
func appsGet(t *testing.T, srv *Server, u, bearer string, wantStatus int, out any) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d; body %s", u, resp.StatusCode, wantStatus, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
	}
	return resp.Header
}

type appsPage struct {
	Links struct {
		Self struct {
			Href string `json:"href"`
		} `json:"self"`
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
	Embedded struct {
		Applications []map[string]any `json:"applications"`
	} `json:"_embedded"`
	Count int `json:"count"`
	Size  int `json:"size"`
}

func TestApplicationsSeededAndShaped(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 3, 8, 21, 34, 43, 81_000_000, time.UTC)
	const worker = "cccccccc-7777-4777-8777-cccccccccccc"
	srv := New(Options{Now: func() time.Time { return now }, WorkerClientID: worker})
	t.Cleanup(srv.Close)
	srv.AddApplication(Application{Name: "Wiki", Protocol: "SAML"})
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	base := srv.APIBaseURL()

	var page appsPage
	header := appsGet(t, srv, base+"/applications", bearer, http.StatusOK, &page)
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/hal+json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if page.Count != 4 || page.Size != 4 || page.Links.Next != nil || page.Links.Self.Href != base+"/applications" {
		t.Fatalf("page = %+v", page)
	}
	var names []string
	byName := map[string]map[string]any{}
	for _, a := range page.Embedded.Applications {
		name, _ := a["name"].(string)
		names = append(names, name)
		byName[name] = a
	}
	if want := []string{"PingOne Admin Console", "Demo Web App", "natsping Worker", "Wiki"}; !slices.Equal(names, want) {
		t.Fatalf("names = %q, want %q", names, want)
	}

	// The worker that calls the API is an application of the environment, under its client id.
	w := byName["natsping Worker"]
	if w["id"] != worker || w["type"] != "WORKER" || w["protocol"] != "OPENID_CONNECT" || w["enabled"] != true ||
		w["tokenEndpointAuthMethod"] != "CLIENT_SECRET_BASIC" || !equalJSONStrings(w["grantTypes"], "CLIENT_CREDENTIALS") ||
		!equalJSONStrings(w["responseTypes"], "TOKEN") || w["createdAt"] != "2024-03-08T21:34:43.081Z" ||
		w["environment"].(map[string]any)["id"] != DefaultEnvironmentID {
		t.Errorf("worker = %v", w)
	}
	links := w["_links"].(map[string]any)
	if href(links, "self") != base+"/applications/"+worker || href(links, "environment") != base ||
		href(links, "grants") != base+"/applications/"+worker+"/grants" {
		t.Errorf("worker links = %v", links)
	}

	web := byName["Demo Web App"]
	if web["id"] != DefaultAppClientID || web["type"] != "WEB_APP" || !equalJSONStrings(web["grantTypes"], "AUTHORIZATION_CODE") {
		t.Errorf("web app = %v", web)
	}
	console := byName["PingOne Admin Console"]
	if console["id"] != DefaultAdminConsoleID || console["type"] != "PING_ONE_ADMIN_CONSOLE" || console["grantTypes"] != nil ||
		console["accessControl"] == nil || href(console["_links"].(map[string]any), "grants") != "" {
		t.Errorf("admin console = %v", console)
	}
	wiki := byName["Wiki"]
	for _, oidcOnly := range []string{"grantTypes", "responseTypes", "tokenEndpointAuthMethod", "pkceEnforcement"} {
		if _, ok := wiki[oidcOnly]; ok {
			t.Errorf("SAML application has %s: %v", oidcOnly, wiki)
		}
	}
	for name, a := range byName {
		for _, secretish := range []string{"secret", "clientSecret"} {
			if _, ok := a[secretish]; ok {
				t.Errorf("%s lists %s; PingOne serves secrets only from …/secret", name, secretish)
			}
		}
	}

	var one map[string]any
	appsGet(t, srv, base+"/applications/"+DefaultAppClientID, bearer, http.StatusOK, &one)
	if one["name"] != "Demo Web App" || one["id"] != DefaultAppClientID {
		t.Fatalf("one = %v", one)
	}
}

func equalJSONStrings(v any, want ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i := range list {
		if list[i] != want[i] {
			return false
		}
	}
	return true
}

func href(links map[string]any, rel string) string {
	l, _ := links[rel].(map[string]any)
	s, _ := l["href"].(string)
	return s
}

func TestApplicationsPaging(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	for _, n := range []string{"A", "B", "C", "D"} {
		srv.AddApplication(Application{Name: "Service " + n, Type: "WORKER"})
	}
	srv.SetApplicationPageSize(3)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})

	var names []string
	var sizes []int
	// limit is not documented for applications; the fixture's page size wins over it.
	next := srv.APIBaseURL() + "/applications?limit=1"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not terminate")
		}
		var page appsPage
		appsGet(t, srv, next, bearer, http.StatusOK, &page)
		if page.Count != 7 || page.Size != len(page.Embedded.Applications) {
			t.Fatalf("count/size = %d/%d with %d applications", page.Count, page.Size, len(page.Embedded.Applications))
		}
		sizes = append(sizes, page.Size)
		for _, a := range page.Embedded.Applications {
			names = append(names, a["name"].(string))
		}
		next = ""
		if page.Links.Next != nil {
			next = page.Links.Next.Href
			u, err := url.Parse(next)
			if err != nil || u.Query().Get("cursor") == "" || !strings.HasPrefix(next, srv.APIBaseURL()+"/applications?") {
				t.Fatalf("next = %q", next)
			}
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("page sizes = %v, want [3 3 1]", sizes)
	}
	want := []string{"PingOne Admin Console", "Demo Web App", "natsping Worker", "Service A", "Service B", "Service C", "Service D"}
	if !slices.Equal(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}

	srv.SetApplicationPageSize(0)
	var page appsPage
	appsGet(t, srv, srv.APIBaseURL()+"/applications", bearer, http.StatusOK, &page)
	if page.Size != 7 || page.Links.Next != nil {
		t.Errorf("default page = %d applications, next %v; want all on one page", page.Size, page.Links.Next)
	}
}

func TestApplicationsErrors(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	base := srv.APIBaseURL()
	const missing = "12345678-1234-4234-8234-123456789012"
	tests := []struct {
		name, url, bearer string
		status            int
		code, detail      string
		message           string
	}{
		{name: "filter is not offered", url: base + "/applications?filter=" + url.QueryEscape(`name eq "Demo Web App"`),
			bearer: bearer, status: http.StatusBadRequest, code: "INVALID_DATA", detail: "INVALID_FILTER"},
		{name: "bad cursor", url: base + "/applications?cursor=xyz", bearer: bearer, status: http.StatusBadRequest,
			code: "INVALID_DATA", detail: "INVALID_VALUE"},
		{name: "unknown application", url: base + "/applications/" + missing, bearer: bearer, status: http.StatusNotFound,
			code: "NOT_FOUND", message: "Unable to find Application with ID: '" + missing + "' in Environment '" + DefaultEnvironmentID + "'"},
		{name: "missing bearer", url: base + "/applications", status: http.StatusUnauthorized, code: "ACCESS_FAILED",
			detail: "INVALID_TOKEN"},
		{name: "other environment", url: srv.URL() + "/v1/environments/" + missing + "/applications", bearer: bearer,
			status: http.StatusNotFound, code: "NOT_FOUND",
			message: "The request could not be completed. The requested resource was not found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e apiError
			appsGet(t, srv, tt.url, tt.bearer, tt.status, &e)
			if e.ID == "" || e.Code != tt.code || e.Message == "" {
				t.Fatalf("error body = %+v, want code %s with id and message", e, tt.code)
			}
			if tt.detail != "" && (len(e.Details) != 1 || e.Details[0].Code != tt.detail) {
				t.Fatalf("details = %+v, want %s", e.Details, tt.detail)
			}
			if tt.message != "" && e.Message != tt.message {
				t.Fatalf("message = %q, want %q", e.Message, tt.message)
			}
		})
	}
}

func TestApplicationsRateLimitedLikeEveryAPICall(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	one := srv.APIBaseURL() + "/applications/" + DefaultAppClientID
	srv.RateLimitNext(2, "7")
	for _, u := range []string{srv.APIBaseURL() + "/applications", one} {
		var e apiError
		header := appsGet(t, srv, u, bearer, http.StatusTooManyRequests, &e)
		if header.Get("Retry-After") != "7" || e.Code != "REQUEST_LIMITED" || len(e.Details) != 1 ||
			e.Details[0].Code != "LIMIT_EXCEEDED" {
			t.Fatalf("429 = %v %+v", header, e)
		}
	}
	appsGet(t, srv, one, bearer, http.StatusOK, nil)
	if srv.APIRequests() != 3 {
		t.Fatalf("APIRequests = %d, want 3", srv.APIRequests())
	}
}

func TestApplicationMutations(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := New(Options{Now: clock})
	t.Cleanup(srv.Close)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	get := func(id string) applicationJSON {
		var a applicationJSON
		appsGet(t, srv, srv.APIBaseURL()+"/applications/"+id, bearer, http.StatusOK, &a)
		return a
	}

	spa := srv.AddApplication(Application{Name: "Dashboard", Type: "SINGLE_PAGE_APP"})
	if !isIDShaped(spa.ID) || !slices.Equal(spa.GrantTypes, []string{"IMPLICIT"}) || spa.TokenEndpointAuthMethod != "NONE" ||
		!spa.CreatedAt.Equal(now) || !spa.UpdatedAt.Equal(now) {
		t.Fatalf("AddApplication = %+v", spa)
	}
	native := srv.AddApplication(Application{Name: "Mobile", Type: "NATIVE_APP", GrantTypes: []string{"DEVICE_CODE"}})
	if !slices.Equal(native.GrantTypes, []string{"DEVICE_CODE"}) || !slices.Equal(native.ResponseTypes, []string{"TOKEN", "ID_TOKEN", "CODE"}) {
		t.Fatalf("explicit grant types must win over the type's defaults: %+v", native)
	}
	// Callers' slices are copied in and out, so a test cannot change the directory by accident.
	native.GrantTypes[0] = "CHANGED"
	if got := get(native.ID).GrantTypes; !slices.Equal(got, []string{"DEVICE_CODE"}) {
		t.Fatalf("directory grant types = %q after the caller changed its copy", got)
	}

	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if err := srv.RenameApplication(spa.ID, "Ops Dashboard"); err != nil {
		t.Fatal(err)
	}
	if a := get(spa.ID); a.Name != "Ops Dashboard" || a.UpdatedAt != "2024-05-01T11:00:00.000Z" || a.CreatedAt != "2024-05-01T10:00:00.000Z" {
		t.Fatalf("renamed = %+v", a)
	}
	if err := srv.SetApplicationEnabled(spa.ID, false); err != nil {
		t.Fatal(err)
	}
	if get(spa.ID).Enabled {
		t.Fatal("disabled application is served enabled")
	}
	if err := srv.SetApplicationEnabled(spa.ID, true); err != nil || !get(spa.ID).Enabled {
		t.Fatalf("re-enable: %v", err)
	}
	if err := srv.DeleteApplication(spa.ID); err != nil {
		t.Fatal(err)
	}
	appsGet(t, srv, srv.APIBaseURL()+"/applications/"+spa.ID, bearer, http.StatusNotFound, nil)
	for name, err := range map[string]error{
		"delete":  srv.DeleteApplication(spa.ID),
		"rename":  srv.RenameApplication(spa.ID, "x"),
		"disable": srv.SetApplicationEnabled(spa.ID, false),
	} {
		if err == nil || !strings.Contains(err.Error(), "no application with id") {
			t.Errorf("%s of a deleted application: %v", name, err)
		}
	}
	var names []string
	for _, a := range srv.Applications() {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"PingOne Admin Console", "Demo Web App", "natsping Worker", "Mobile"}) {
		t.Fatalf("Applications() = %q", names)
	}

	for _, dup := range []Application{{Name: "demo web app"}, {ID: DefaultWorkerClientID, Name: "Other"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddApplication(%+v) did not panic on a duplicate", dup)
				}
			}()
			srv.AddApplication(dup)
		}()
	}
}

// isIDShaped mirrors pingone.IsID without importing the client into its own fixture.
func isIDShaped(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
}

// TestApplicationsConcurrentUse lets -race see reads, listings and every mutation at once.
func TestApplicationsConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := New(Options{})
	t.Cleanup(srv.Close)
	srv.SetApplicationPageSize(2)
	bearer := srv.IssueToken(TokenOptions{ClientCredentials: true})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			a := srv.AddApplication(Application{Name: "Concurrent " + string(rune('A'+i)), Type: "WORKER"})
			_ = srv.RenameApplication(a.ID, "Renamed "+string(rune('A'+i)))
			_ = srv.SetApplicationEnabled(a.ID, false)
			_ = srv.DeleteApplication(a.ID)
			_ = srv.Applications()
		}()
		go func() {
			defer wg.Done()
			// Not appsGet: t.Fatal must not be called off the test goroutine.
			for _, u := range []string{srv.APIBaseURL() + "/applications", srv.APIBaseURL() + "/applications/" + DefaultAppClientID} {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header.Set("Authorization", "Bearer "+bearer)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", u, resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Applications()); n != 3 {
		t.Fatalf("%d applications left, want the 3 seeded", n)
	}
}

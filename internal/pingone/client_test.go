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

const envID = pingonetest.DefaultEnvironmentID

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	good := Config{EnvironmentID: envID, ClientID: "id", ClientSecret: "secret"}
	tests := []struct {
		name         string
		mutate       func(*Config)
		wantErr      string
		wantTokenURL string
		wantAPIBase  string
	}{
		{name: "defaults to NA", mutate: func(*Config) {},
			wantTokenURL: "https://auth.pingone.com/" + envID + "/as/token",
			wantAPIBase:  "https://api.pingone.com/v1/environments/" + envID},
		{name: "region AU", mutate: func(c *Config) { c.Region = "AU" },
			wantTokenURL: "https://auth.pingone.com.au/" + envID + "/as/token",
			wantAPIBase:  "https://api.pingone.com.au/v1/environments/" + envID},
		{name: "region AP", mutate: func(c *Config) { c.Region = "AP" },
			wantAPIBase: "https://api.pingone.asia/v1/environments/" + envID},
		{name: "hostname overrides with port", mutate: func(c *Config) {
			c.AuthHostname, c.APIHostname = "127.0.0.1:8443", "api.internal.example:9443"
		}, wantTokenURL: "https://127.0.0.1:8443/" + envID + "/as/token",
			wantAPIBase: "https://api.internal.example:9443/v1/environments/" + envID},
		{name: "unknown region", mutate: func(c *Config) { c.Region = "US" }, wantErr: `unknown PingOne region "US": use one of AP, AU, CA, EU, NA, SG`},
		{name: "lowercase region", mutate: func(c *Config) { c.Region = "eu" }, wantErr: `unknown PingOne region "eu"`},
		{name: "environment id not a UUID", mutate: func(c *Config) { c.EnvironmentID = "my-env" }, wantErr: `environment id "my-env" is not a UUID`},
		{name: "missing secret", mutate: func(c *Config) { c.ClientSecret = "" }, wantErr: "client id and client secret are both required"},
		{name: "hostname with scheme", mutate: func(c *Config) { c.APIHostname = "https://api.pingone.eu" },
			wantErr: `PingOne API hostname "https://api.pingone.eu" must be a host name with an optional port and no scheme or path`},
		{name: "hostname with path", mutate: func(c *Config) { c.AuthHostname = "auth.example.com/as" }, wantErr: "authentication hostname"},
		{name: "hostname with empty port", mutate: func(c *Config) { c.AuthHostname = "auth.example.com:" }, wantErr: "authentication hostname"},
		{name: "page size too large", mutate: func(c *Config) { c.PageSize = 5000 }, wantErr: "page size 5000 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			c, err := New(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantTokenURL != "" && c.TokenURL() != tt.wantTokenURL {
				t.Errorf("TokenURL = %s, want %s", c.TokenURL(), tt.wantTokenURL)
			}
			if c.APIBaseURL() != tt.wantAPIBase {
				t.Errorf("APIBaseURL = %s, want %s", c.APIBaseURL(), tt.wantAPIBase)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 3, 8, 21, 34, 40, 0, time.UTC)
	c := &Client{now: func() time.Time { return now }}
	tests := []struct {
		header  string
		attempt int
		want    time.Duration
	}{
		{header: "7", want: 7 * time.Second},
		{header: " 0 ", want: 0},
		{header: "Fri, 08 Mar 2024 21:34:44 GMT", want: 4 * time.Second},
		{header: "Fri, 08 Mar 2024 21:34:00 GMT", want: 0}, // already past
		{header: "", attempt: 0, want: time.Second},
		{header: "", attempt: 3, want: 8 * time.Second},
		{header: "soon", attempt: 10, want: maxBackoff},
		{header: "-5", attempt: 1, want: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			t.Parallel()
			if got := c.retryDelay(tt.header, tt.attempt); got != tt.want {
				t.Fatalf("retryDelay(%q, %d) = %s, want %s", tt.header, tt.attempt, got, tt.want)
			}
		})
	}
}

// waits records the delays the client asks for instead of sleeping them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func (w *waits) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// newTestClient connects to srv the way the provider does: hostname overrides plus an HTTP
// client that trusts the fixture's CA.
func newTestClient(t *testing.T, srv *pingonetest.Server, mutate func(*Config)) (*Client, *waits) {
	t.Helper()
	id, secret := srv.WorkerCredentials()
	cfg := Config{EnvironmentID: srv.EnvironmentID(), ClientID: id, ClientSecret: secret,
		AuthHostname: srv.Host(), APIHostname: srv.Host(), HTTPClient: srv.Client()}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	c.wait = w.wait
	return c, w
}

func TestTokenIsReusedAndRenewedAfter401(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var mu sync.Mutex
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups(),
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv, nil)
	ctx := context.Background()
	for range 3 {
		if _, err := c.ListGroups(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	if srv.TokenRequests() != 1 {
		t.Fatalf("token requests = %d, want 1: the token must be cached", srv.TokenRequests())
	}
	// PingOne now considers the cached token expired although the client's clock does not.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := c.ListGroups(ctx, ""); err != nil {
		t.Fatalf("a 401 for a stale token must be healed with a fresh token: %v", err)
	}
	if srv.TokenRequests() != 2 {
		t.Fatalf("token requests = %d, want 2", srv.TokenRequests())
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	const wrongSecret = "wrong-secret-do-not-print"
	tests := []struct {
		name    string
		mutate  func(*Config)
		call    func(*Client) error
		want    []string
		notWant []string
		is      error
	}{
		{name: "bad secret", mutate: func(c *Config) { c.ClientSecret = wrongSecret },
			call:    func(c *Client) error { _, err := c.ListGroups(context.Background(), ""); return err },
			want:    []string{"HTTP 401 invalid_client", "Check the client id and client secret", "/as/token"},
			notWant: []string{wrongSecret, pingonetest.DefaultWorkerClientSecret}},
		{name: "bad filter",
			call: func(c *Client) error { _, err := c.ListGroups(context.Background(), `title eq "x"`); return err },
			want: []string{"HTTP 400 INVALID_DATA", "[INVALID_FILTER on filter", `unsupported attribute "title"`,
				"Supported attributes: [name externalId displayName id population.id sourceId]", "PingOne error id"}},
		{name: "not found by id",
			call: func(c *Client) error {
				_, err := c.GetGroup(context.Background(), "99999999-9999-4999-8999-999999999999")
				return err
			},
			want: []string{"no PingOne group with id 99999999-9999-4999-8999-999999999999 in environment " + envID},
			is:   ErrNotFound},
		{name: "group id not a UUID",
			call: func(c *Client) error { _, err := c.GetGroup(context.Background(), "Managers"); return err },
			want: []string{`group id "Managers" is not a UUID`}},
		{name: "not found by name, case differs",
			call: func(c *Client) error { _, err := c.FindGroupByName(context.Background(), "managers"); return err },
			want: []string{`no PingOne group with name "managers"`, `did you mean "Managers"?`}, is: ErrNotFound},
		{name: "unknown environment", mutate: func(c *Config) { c.EnvironmentID = "12345678-1234-4234-8234-123456789012" },
			call: func(c *Client) error { _, err := c.ListGroups(context.Background(), ""); return err },
			want: []string{"HTTP 404", "Check the environment id and region"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, srv, tt.mutate)
			err := tt.call(c)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(err.Error(), nw) {
					t.Errorf("error %q leaks %q", err, nw)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestRateLimiting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		limited    int
		retryAfter string
		mutate     func(*Config)
		wantWaits  []time.Duration
		wantErr    []string
	}{
		{name: "429 then success honours Retry-After seconds", limited: 2, retryAfter: "7",
			wantWaits: []time.Duration{7 * time.Second, 7 * time.Second}},
		{name: "without Retry-After backs off", limited: 3,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "retries exhausted", limited: 10, retryAfter: "1", mutate: func(c *Config) { c.MaxRetries = 3 },
			wantWaits: []time.Duration{time.Second, time.Second, time.Second},
			wantErr:   []string{"HTTP 429 REQUEST_LIMITED", "[LIMIT_EXCEEDED: Rate limit exceeded.]", "still failing after 3 retries"}},
		{name: "Retry-After beyond the wait budget", limited: 1, retryAfter: "120",
			wantErr: []string{"HTTP 429 REQUEST_LIMITED", "asked to wait 2m0s more, beyond the retry budget of 1m0s"}},
		{name: "total wait budget", limited: 5, retryAfter: "20", mutate: func(c *Config) { c.MaxRetries = 10 },
			wantWaits: []time.Duration{20 * time.Second, 20 * time.Second, 20 * time.Second},
			wantErr:   []string{"beyond the retry budget of 1m0s"}},
		{name: "retries disabled", limited: 1, retryAfter: "1", mutate: func(c *Config) { c.MaxRetries = -1 },
			wantErr: []string{"HTTP 429"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
			t.Cleanup(srv.Close)
			c, w := newTestClient(t, srv, tt.mutate)
			srv.RateLimitNext(tt.limited, tt.retryAfter)
			g, err := c.GetGroup(context.Background(), "99999999-0001-4000-8000-000000000001")
			if got := w.got(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			if tt.wantErr == nil {
				if err != nil || g.Name != "Managers" {
					t.Fatalf("GetGroup = %+v, %v", g, err)
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

func TestRateLimitWaitStopsWithContext(t *testing.T) {
	t.Parallel()
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv, nil)
	c.wait = sleepCtx
	if _, err := c.ListGroups(context.Background(), ""); err != nil { // fetch the token first
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv.RateLimitNext(1, "30")
	// The request itself succeeds (with a 429) and only then is the wait cancelled.
	c.hc = &http.Client{Transport: cancelAfter{rt: srv.Client().Transport, cancel: cancel}}
	_, err := c.ListGroups(ctx, "")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped waiting to retry") {
		t.Fatalf("error = %v, want the cancellation while waiting", err)
	}
}

type cancelAfter struct {
	rt     http.RoundTripper
	cancel context.CancelFunc
}

func (c cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	c.cancel()
	return resp, err
}

// TestIsID pins the one definition of a PingOne id that the client and the provider's group
// matching share.
func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{
		"0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f":  true,
		"0F6C1C7E-8F6A-4B7E-9D3C-2A1B0C9D8E7F":  true,
		"Engineering":                           false,
		"0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7":   false,
		" 0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f": false,
		"":                                      false,
	} {
		if got := IsID(s); got != want {
			t.Errorf("IsID(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestIsUnavailable: only "PingOne could not answer" counts as an outage, never a refusal.
func TestIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&url.Error{Op: "Get", URL: "https://api.pingone.eu", Err: errors.New("connection refused")}, true},
		{fmt.Errorf("listing groups: %w", &APIError{StatusCode: 503}), true},
		{&APIError{StatusCode: 429}, true},
		{&APIError{StatusCode: 401}, false},
		{&APIError{StatusCode: 403}, false},
		{&APIError{StatusCode: 404}, false},
		{&APIError{StatusCode: 400}, false},
		{&NotFoundError{Lookup: "name x"}, false},
		{context.DeadlineExceeded, true},
		{errors.New("some other failure"), false},
		{nil, false},
	} {
		if got := IsUnavailable(tc.err); got != tc.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

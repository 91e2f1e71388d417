package natspingclient

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/oauth2"
)

func fakeJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestRefreshDelay(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	o := Options{}.withDefaults()
	tests := []struct {
		name          string
		obtained, exp time.Time
		now           time.Time
		r             float64
		want          time.Duration
	}{
		{"no jitter: 80% of an hour", t0, t0.Add(time.Hour), t0, 0, 48 * time.Minute},
		{"most jitter: 70% of an hour", t0, t0.Add(time.Hour), t0, 1, 42 * time.Minute},
		{"counted from when the token arrived", t0, t0.Add(time.Hour), t0.Add(10 * time.Minute), 0, 38 * time.Minute},
		{"a two-second token", t0, t0.Add(2 * time.Second), t0, 0.5, 1500 * time.Millisecond},
		{"refresh point passed: now", t0, t0.Add(time.Hour), t0.Add(50 * time.Minute), 0, 0},
		{"unknown expiry", t0, time.Time{}, t0, 0, 5 * time.Minute},
		{"unknown expiry, jittered", t0, time.Time{}, t0, 1, 4*time.Minute + 30*time.Second},
	}
	for _, tt := range tests {
		if got := refreshDelay(tt.obtained, tt.exp, tt.now, o, tt.r); got != tt.want {
			t.Errorf("%s: refreshDelay = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{RefreshAt: 0.9, Jitter: 0.8, RetryMin: 2 * time.Minute}.withDefaults()
	// Jitter larger than half the refresh point would let a refresh fire right after the
	// token arrived.
	if o.Jitter != 0.45 {
		t.Errorf("Jitter = %v, want it capped at RefreshAt/2", o.Jitter)
	}
	if o.RetryMax != 2*time.Minute {
		t.Errorf("RetryMax = %s, want at least RetryMin", o.RetryMax)
	}
	if o := (Options{Jitter: -1}).withDefaults(); o.Jitter != 0 {
		t.Errorf("negative Jitter gave %v, want none", o.Jitter)
	}
	if o := (Options{RefreshAt: 1.5}).withDefaults(); o.RefreshAt != DefaultRefreshAt {
		t.Errorf("RefreshAt 1.5 gave %v, want the default (a refresh after expiry is useless)", o.RefreshAt)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := time.Second, 30*time.Second
	for _, tt := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{6, 15 * time.Second, 30 * time.Second},
		{100, 15 * time.Second, 30 * time.Second},
	} {
		if got := backoff(tt.n, lo, hi, 0); got != tt.min {
			t.Errorf("backoff(%d, r=0) = %s, want %s", tt.n, got, tt.min)
		}
		if got := backoff(tt.n, lo, hi, 0.999999); got >= tt.max || got < tt.max*99/100 {
			t.Errorf("backoff(%d, r→1) = %s, want just under %s", tt.n, got, tt.max)
		}
	}
}

func TestJWTExpiry(t *testing.T) {
	for _, tt := range []struct {
		name  string
		token string
		want  time.Time
		ok    bool
	}{
		{"integer exp", fakeJWT(`{"sub":"x","exp":1700000123}`), time.Unix(1700000123, 0), true},
		{"fractional exp", fakeJWT(`{"exp":1700000123.5}`), time.Unix(1700000123, 5e8), true},
		{"padded payload", strings.Replace(fakeJWT(`{"exp":1700000123}`), ".c2ln", "", 1) + "==.c2ln", time.Unix(1700000123, 0), true},
		{"no exp", fakeJWT(`{"sub":"x"}`), time.Time{}, false},
		{"exp not a number", fakeJWT(`{"exp":"soon"}`), time.Time{}, false},
		{"opaque token", "2YotnFZFEjr1zCsicMWpAA", time.Time{}, false},
		{"payload not base64", "a.%%%.b", time.Time{}, false},
		{"payload not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".b", time.Time{}, false},
	} {
		got, ok := jwtExpiry(tt.token)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: jwtExpiry = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// scripted is a token source that answers from a list, then repeats the last answer.
type scripted struct {
	mu      sync.Mutex
	answers []func() (*oauth2.Token, error)
	calls   int
}

func (s *scripted) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := min(s.calls, len(s.answers)-1)
	s.calls++
	return s.answers[i]()
}

func tok(access string, exp time.Time) func() (*oauth2.Token, error) {
	return func() (*oauth2.Token, error) { return &oauth2.Token{AccessToken: access, Expiry: exp}, nil }
}

func TestFetchExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	jwtExp := now.Add(50 * time.Minute)
	token := fakeJWT(`{"exp":` + strconv.FormatInt(jwtExp.Unix(), 10) + `}`)
	for _, tt := range []struct {
		name    string
		answer  func() (*oauth2.Token, error)
		want    time.Time
		wantErr string
	}{
		// The callout ends the session at exp, whatever expires_in said.
		{"exp before expires_in", tok(token, now.Add(time.Hour)), jwtExp, ""},
		{"expires_in before exp", tok(token, now.Add(10*time.Minute)), now.Add(10 * time.Minute), ""},
		{"exp alone", tok(token, time.Time{}), jwtExp, ""},
		{"opaque, no expiry", tok("opaque", time.Time{}), time.Time{}, ""},
		{"already expired", tok("opaque", now.Add(-time.Second)), time.Time{}, "returned a token that expired"},
		{"empty access token", tok("", now.Add(time.Hour)), time.Time{}, "no access token"},
		{"source error", func() (*oauth2.Token, error) { return nil, errors.New("boom") }, time.Time{}, "boom"},
	} {
		s := newSource(&scripted{answers: []func() (*oauth2.Token, error){tt.answer}}, Options{}, func() time.Time { return now }, func() float64 { return 0 })
		c, err := s.fetch()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: fetch error %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !c.expiry.Equal(tt.want) {
			t.Errorf("%s: fetch = %+v, %v; want expiry %v", tt.name, c, err, tt.want)
		}
	}
}

func TestNewNeedsAFirstToken(t *testing.T) {
	_, err := New(&scripted{answers: []func() (*oauth2.Token, error){
		func() (*oauth2.Token, error) { return nil, errors.New("invalid_client") },
	}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "first token") || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("New = %v, want the first token's error", err)
	}
}

// TestCachedAnswerIsNotAFailure: a source that keeps handing back the token it has (as
// oauth2.ReuseTokenSource does until shortly before expiry) is asked again until it gives a
// new one, without reporting an error.
func TestCachedAnswerIsNotAFailure(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	src := &scripted{answers: []func() (*oauth2.Token, error){
		tok("first", exp), tok("first", exp), tok("first", exp), tok("second", exp.Add(time.Hour)),
	}}
	refreshed := make(chan time.Time, 1)
	s := newSource(src, Options{
		RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond,
		OnRefresh: func(e time.Time) { refreshed <- e },
		OnError:   func(err error) { t.Errorf("OnError(%v) for a cached answer", err) },
	}, time.Now, func() float64 { return 0 })
	first, err := s.fetch()
	if err != nil {
		t.Fatal(err)
	}
	// Pretend the first token is at its refresh point already.
	first.obtained = time.Now().Add(-5 * time.Hour)
	s.cur.Store(first)
	go s.run()
	defer s.Close()
	select {
	case e := <-refreshed:
		if !e.Equal(exp.Add(time.Hour)) || s.Token() != "second" {
			t.Fatalf("refreshed to %q expiring %v", s.Token(), e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the new token was never picked up")
	}
	if s.Err() != nil {
		t.Fatalf("Err() = %v", s.Err())
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.calls != 4 {
		t.Fatalf("the source was asked %d times, want 4 (the first token, two cached answers, the new token)", src.calls)
	}
}

// TestNATSOptions checks what nats.go is given: the token on every (re)connect from the
// cache, as token or as password, unlimited reconnects after auth errors, jittered backoff.
func TestNATSOptions(t *testing.T) {
	for _, account := range []string{"", "ORDERS"} {
		s := newSource(nil, Options{Account: account}, time.Now, func() float64 { return 0 })
		s.cur.Store(&current{token: "tok-1"})
		o := nats.GetDefaultOptions()
		for _, opt := range s.NATSOptions() {
			if err := opt(&o); err != nil {
				t.Fatal(err)
			}
		}
		if o.MaxReconnect != -1 || !o.IgnoreAuthErrorAbort || o.CustomReconnectDelayCB == nil {
			t.Errorf("account %q: MaxReconnect %d, IgnoreAuthErrorAbort %v, custom delay set %v",
				account, o.MaxReconnect, o.IgnoreAuthErrorAbort, o.CustomReconnectDelayCB != nil)
		}
		s.cur.Store(&current{token: "tok-2"})
		if account == "" {
			if o.TokenHandler == nil || o.UserInfo != nil || o.TokenHandler() != "tok-2" {
				t.Errorf("without an account the token handler must hand out the current token")
			}
		} else {
			if o.UserInfo == nil || o.TokenHandler != nil {
				t.Fatalf("with an account the user info handler must be set, not the token handler")
			}
			if u, p := o.UserInfo(); u != account || p != "tok-2" {
				t.Errorf("UserInfo() = %q, %q; want the account and the current token", u, p)
			}
		}
		if d := o.CustomReconnectDelayCB(1); d != DefaultReconnectWait/2 {
			t.Errorf("first reconnect delay %s, want %s at r=0", d, DefaultReconnectWait/2)
		}
		if d := o.CustomReconnectDelayCB(50); d != DefaultMaxReconnectWait/2 {
			t.Errorf("reconnect delay after many attempts %s, want the cap's lower half %s", d, DefaultMaxReconnectWait/2)
		}
	}
}

package natspingclient

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Defaults for [Options]. The refresh point leaves a fifth to a third of the lifetime (12–18
// minutes of a PingOne one-hour token) for retries before the server starts refusing the token.
const (
	DefaultRefreshAt            = 0.8
	DefaultJitter               = 0.1
	DefaultUnknownExpiryRefresh = 5 * time.Minute
	DefaultRetryMin             = time.Second
	DefaultRetryMax             = time.Minute
	DefaultReconnectWait        = 500 * time.Millisecond
	DefaultMaxReconnectWait     = 30 * time.Second
)

// Options tunes a [Source]. The zero value is ready to use.
type Options struct {
	// Account selects the NATS account when several of the caller's mappings match: the token
	// then travels as the password, with Account (an account name or public key) as the user.
	Account string

	// RefreshAt is the fraction of a token's lifetime after which the next token is fetched.
	// Default DefaultRefreshAt.
	RefreshAt float64
	// Jitter is the largest fraction of the lifetime taken off RefreshAt at random, so clients
	// started together spread their refreshes (and, with client credentials, their expiries and
	// reconnects). Default DefaultJitter; negative means none.
	Jitter float64
	// UnknownExpiryRefresh is how often a token is replaced when neither the token source nor
	// the token itself (a JWT's exp) says when it expires. Default DefaultUnknownExpiryRefresh.
	UnknownExpiryRefresh time.Duration
	// RetryMin and RetryMax bound the backoff between failed refreshes. Defaults
	// DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration

	// ReconnectWait and MaxReconnectWait bound the reconnect backoff that NATSOptions installs.
	// Defaults DefaultReconnectWait and DefaultMaxReconnectWait.
	ReconnectWait, MaxReconnectWait time.Duration

	// OnRefresh is called after each refresh that produced a new token, with its expiry (zero
	// when unknown). OnError is called after each failed refresh with a *RefreshError. Both run
	// on the refresher goroutine: a slow callback delays the next refresh.
	OnRefresh func(expiry time.Time)
	OnError   func(err error)

	// ConnectAttempts bounds the nats.Connect calls of one [Source.Connect]; 1 disables the
	// retry. Default DefaultConnectAttempts. See retry.go for what is retried and what it costs.
	ConnectAttempts int
	// ConnectRetryWait and MaxConnectRetryWait bound the jittered, doubling wait between
	// attempts. Defaults DefaultConnectRetryWait and DefaultMaxConnectRetryWait.
	ConnectRetryWait, MaxConnectRetryWait time.Duration
	// LostRequestAfter: an Authorization Violation that took at least this long is taken for
	// a lost authorization request and retried; a quicker one is a decision and is not. Keep
	// it below the server's auth timeout. Default DefaultLostRequestAfter; negative retries
	// every refusal.
	LostRequestAfter time.Duration
	// OnConnectRetry is called before each retry with the attempt that failed (from 1) and
	// its error.
	OnConnectRetry func(attempt int, err error)
}

func (o Options) withDefaults() Options {
	if o.RefreshAt <= 0 || o.RefreshAt >= 1 {
		o.RefreshAt = DefaultRefreshAt
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	}
	o.Jitter = min(o.Jitter, o.RefreshAt/2)
	if o.UnknownExpiryRefresh <= 0 {
		o.UnknownExpiryRefresh = DefaultUnknownExpiryRefresh
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(DefaultRetryMax, o.RetryMin)
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	if o.MaxReconnectWait < o.ReconnectWait {
		o.MaxReconnectWait = max(DefaultMaxReconnectWait, o.ReconnectWait)
	}
	if o.ConnectAttempts <= 0 {
		o.ConnectAttempts = DefaultConnectAttempts
	}
	if o.ConnectRetryWait <= 0 {
		o.ConnectRetryWait = DefaultConnectRetryWait
	}
	if o.MaxConnectRetryWait < o.ConnectRetryWait {
		o.MaxConnectRetryWait = max(DefaultMaxConnectRetryWait, o.ConnectRetryWait)
	}
	if o.LostRequestAfter == 0 {
		o.LostRequestAfter = DefaultLostRequestAfter
	}
	return o
}

// RefreshError is what a failed refresh reports through Options.OnError and [Source.Err].
type RefreshError struct {
	// Err is the token source's error (for an OAuth endpoint, often an *oauth2.RetrieveError).
	Err error
	// Attempts counts the failures since the last successful refresh.
	Attempts int
	// Expiry is when the token still in use expires (zero when unknown), and At when the
	// refresh failed: after Expiry the server refuses every reconnect until a refresh works.
	Expiry, At time.Time
}

func (e *RefreshError) Error() string {
	var state string
	switch {
	case e.Expiry.IsZero():
		state = "the token in use has no known expiry"
	case e.At.Before(e.Expiry):
		state = fmt.Sprintf("the token in use expires in %s", e.Expiry.Sub(e.At).Round(time.Millisecond))
	default:
		state = fmt.Sprintf("the token in use expired %s ago, so the server refuses reconnects until a refresh succeeds",
			e.At.Sub(e.Expiry).Round(time.Millisecond))
	}
	return fmt.Sprintf("natspingclient: token refresh failed (%d in a row; %s): %v", e.Attempts, state, e.Err)
}

func (e *RefreshError) Unwrap() error { return e.Err }

// current is the token the handlers hand out, replaced whole so readers never lock.
type current struct {
	token    string
	obtained time.Time
	expiry   time.Time // zero when unknown
}

// Source keeps a fresh access token for NATS connections. Its methods are safe for
// concurrent use; one Source may serve many connections.
type Source struct {
	ts   oauth2.TokenSource
	opts Options
	now  func() time.Time
	rnd  func() float64

	cur atomic.Pointer[current]
	err atomic.Pointer[RefreshError]

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New fetches the first token from ts and starts refreshing it in the background until
// [Source.Close]. It fails when the first token cannot be had: there is nothing to connect with.
func New(ts oauth2.TokenSource, opts Options) (*Source, error) {
	s := newSource(ts, opts, time.Now, rand.Float64)
	first, err := s.fetch()
	if err != nil {
		return nil, fmt.Errorf("natspingclient: first token: %w", err)
	}
	s.cur.Store(first)
	go s.run()
	return s, nil
}

func newSource(ts oauth2.TokenSource, opts Options, now func() time.Time, rnd func() float64) *Source {
	return &Source{
		ts: ts, opts: opts.withDefaults(), now: now, rnd: rnd,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Token is the cached access token, never waiting for the issuer. While refreshes fail it
// keeps returning the last token even after it expired: the server then refuses the connect,
// nats.go keeps retrying (NATSOptions sets IgnoreAuthErrorAbort), and the first reconnect after
// a successful refresh gets in. An empty or made-up token would be refused just the same, and
// the stale one lets the callout's audit name the holder.
func (s *Source) Token() string { return s.cur.Load().token }

// Expiry is when the cached token expires; zero when unknown.
func (s *Source) Expiry() time.Time { return s.cur.Load().expiry }

// Err is the last refresh failure (a *RefreshError), or nil when the last refresh worked.
func (s *Source) Err() error {
	if e := s.err.Load(); e != nil {
		return e
	}
	return nil
}

// Close stops the background refresh, waiting for a fetch in flight (bound it with the HTTP
// client's timeout or the token source's context). Connections keep the token they have.
func (s *Source) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
}

func (s *Source) run() {
	defer close(s.done)
	failures, polls := 0, 0
	timer := time.NewTimer(s.refreshDelay(s.cur.Load()))
	defer timer.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-timer.C:
		}
		prev := s.cur.Load()
		next, err := s.fetch()
		switch {
		case err != nil:
			failures++
			rerr := &RefreshError{Err: err, Attempts: failures, Expiry: prev.expiry, At: s.now()}
			s.err.Store(rerr)
			if s.opts.OnError != nil {
				s.opts.OnError(rerr)
			}
			timer.Reset(backoff(failures, s.opts.RetryMin, s.opts.RetryMax, s.rnd()))
		case next.token == prev.token:
			// A caching source (oauth2.ReuseTokenSource) hands out the same token until shortly
			// before it expires; ask again soon rather than count it as a failure.
			polls++
			s.err.Store(nil)
			timer.Reset(backoff(polls, s.opts.RetryMin, s.opts.RetryMax, s.rnd()))
		default:
			failures, polls = 0, 0
			s.cur.Store(next)
			s.err.Store(nil)
			if s.opts.OnRefresh != nil {
				s.opts.OnRefresh(next.expiry)
			}
			timer.Reset(s.refreshDelay(next))
		}
	}
}

// fetch asks the token source once and works out the token's expiry.
func (s *Source) fetch() (*current, error) {
	tok, err := s.ts.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("the token source returned no access token")
	}
	now := s.now()
	c := &current{token: tok.AccessToken, obtained: now, expiry: tok.Expiry}
	// The callout ends the session at the JWT's exp, which can come before the expiry the
	// token endpoint's expires_in implies (clock offsets, time spent in transit).
	if exp, ok := jwtExpiry(tok.AccessToken); ok && (c.expiry.IsZero() || exp.Before(c.expiry)) {
		c.expiry = exp
	}
	if !c.expiry.IsZero() && !c.expiry.After(now) {
		return nil, fmt.Errorf("the token source returned a token that expired at %s", c.expiry.Format(time.RFC3339))
	}
	return c, nil
}

// refreshDelay is how long to wait before replacing c: RefreshAt of its lifetime, less up
// to Jitter of it at random.
func (s *Source) refreshDelay(c *current) time.Duration {
	return refreshDelay(c.obtained, c.expiry, s.now(), s.opts, s.rnd())
}

func refreshDelay(obtained, expiry, now time.Time, o Options, r float64) time.Duration {
	if expiry.IsZero() {
		return time.Duration(float64(o.UnknownExpiryRefresh) * (1 - o.Jitter*r))
	}
	lifetime := expiry.Sub(obtained)
	at := obtained.Add(time.Duration(float64(lifetime) * (o.RefreshAt - o.Jitter*r)))
	return max(at.Sub(now), 0)
}

// backoff is the wait before retry number n (from 1): doubling from lo up to hi, with the
// upper half jittered so that waits still grow but clients that failed together spread out.
func backoff(n int, lo, hi time.Duration, r float64) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + time.Duration(float64(d/2)*r)
}

package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// DefaultUnknownKIDInterval is the least time between two JWKS fetches caused by kids the
	// cache does not hold. Lookups arriving during a fetch wait for it and one fetch answers for
	// every kid, so the budget is spent per interval, not per kid: a flood of forged kids costs
	// the issuer about one request a second and can hold back a key nobody announced by about
	// that long, never by the 30 s a single forged kid could buy with a per-fetch gate.
	DefaultUnknownKIDInterval = time.Second
	// DefaultMinRefreshInterval is the floor of Run's schedule: an issuer whose Cache-Control
	// max-age is shorter (Auth0 sends 15 s, no-cache means 0) is still asked at most this often.
	DefaultMinRefreshInterval = 30 * time.Second
	// DefaultRefreshInterval is Run's period when the issuer sends no max-age, and its longest
	// one. Ping publishes a key before signing with it (PingOne's rotation keys, PingFederate's
	// pending key), so refreshing this often learns it before the first token carries it.
	DefaultRefreshInterval = 15 * time.Minute
	// minScheduledRefresh keeps a misconfigured floor from turning Run into a polling loop.
	minScheduledRefresh = time.Second
	// maxRetryAfter bounds how long an issuer's Retry-After can silence refreshes.
	maxRetryAfter = 10 * time.Minute
)

// RemoteKeySetOptions tunes a RemoteKeySet; the zero value gives the defaults.
type RemoteKeySetOptions struct {
	// UnknownKIDInterval is the least time between fetches started because a token named a kid
	// that is not cached (default DefaultUnknownKIDInterval). Scheduled refreshes do not count
	// against it, so a refresh that just ran never delays a rotation.
	UnknownKIDInterval time.Duration
	// MinRefreshInterval is the least time between Run's scheduled refreshes, the floor under
	// the issuer's Cache-Control max-age (default DefaultMinRefreshInterval, at least 1 s).
	MinRefreshInterval time.Duration
	// RefreshInterval is Run's period when the issuer sends no max-age, and the ceiling over it
	// (default DefaultRefreshInterval); it is never shorter than MinRefreshInterval.
	RefreshInterval time.Duration
	// Now is the clock for the refresh gates and the schedule (default time.Now).
	Now func() time.Time
	// After waits for Run's next refresh (default time.After); tests pass a fake clock's.
	After func(time.Duration) <-chan time.Time
}

// KeySetStats are counters for metrics and tests.
type KeySetStats struct {
	Fetches             uint64 // JWKS requests started
	FetchFailures       uint64 // of which failed (transport, status, or no usable key)
	SuppressedRefreshes uint64 // unknown-kid lookups refused without a fetch because of the gate
	Keys                int    // usable signing keys currently cached
	LastSuccess         time.Time
	LastError           string // empty after a successful fetch
}

// RemoteKeySet caches an issuer's JWKS. Run refreshes it on the issuer's Cache-Control
// schedule, clamped to [MinRefreshInterval, RefreshInterval]; an unknown kid triggers at most
// one fetch at a time and at most one per UnknownKIDInterval; known keys keep verifying while
// the endpoint is down. It is safe for concurrent use.
type RemoteKeySet struct {
	client       *http.Client
	url          string
	unknownEvery time.Duration
	minRefresh   time.Duration
	maxRefresh   time.Duration
	now          func() time.Time
	after        func(time.Duration) <-chan time.Time

	mu          sync.RWMutex
	index       *keyIndex
	lastErr     error
	lastSuccess time.Time
	lastAttempt time.Time     // when the last fetch finished, successful or not
	failedInRow int           // fetches that failed since the last success
	period      time.Duration // the schedule the last successful response asked for
	nextUnknown time.Time     // gate for fetches caused by unknown kids
	quietUntil  time.Time     // the issuer's Retry-After; binds every fetch
	inflight    *fetchCall

	fetches    atomic.Uint64
	failures   atomic.Uint64
	suppressed atomic.Uint64
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// NewRemoteKeySet returns a key set that fetches jwksURL on first use or when Run starts.
func NewRemoteKeySet(client *http.Client, jwksURL string, opts RemoteKeySetOptions) *RemoteKeySet {
	s := &RemoteKeySet{
		client:       client,
		url:          jwksURL,
		unknownEvery: opts.UnknownKIDInterval,
		minRefresh:   opts.MinRefreshInterval,
		maxRefresh:   opts.RefreshInterval,
		now:          opts.Now,
		after:        opts.After,
	}
	if s.unknownEvery <= 0 {
		s.unknownEvery = DefaultUnknownKIDInterval
	}
	if s.minRefresh <= 0 {
		s.minRefresh = DefaultMinRefreshInterval
	}
	s.minRefresh = max(s.minRefresh, minScheduledRefresh)
	if s.maxRefresh <= 0 {
		s.maxRefresh = DefaultRefreshInterval
	}
	s.maxRefresh = max(s.maxRefresh, s.minRefresh)
	if s.now == nil {
		s.now = time.Now
	}
	if s.after == nil {
		s.after = time.After
	}
	s.period = s.maxRefresh
	return s
}

// URL is the JWKS address this set fetches.
func (s *RemoteKeySet) URL() string { return s.url }

// KeyFor implements KeySet.
func (s *RemoteKeySet) KeyFor(ctx context.Context, kid, alg string) (*jose.JSONWebKey, error) {
	if key, found, err := s.peek(kid, alg); found {
		return key, err
	}
	call := s.startFetch(true)
	if call == nil {
		s.suppressed.Add(1)
		return nil, s.miss(kid, "")
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, &VerifyError{Reason: ReasonKeysUnavailable,
			Detail: fmt.Sprintf("gave up waiting for the JWKS at %s: %v", s.url, ctx.Err())}
	}
	if key, found, err := s.peek(kid, alg); found {
		return key, err
	}
	return nil, s.miss(kid, "")
}

// peek answers from the cached keys only; found=false means a fetch could still find kid.
func (s *RemoteKeySet) peek(kid, alg string) (key *jose.JSONWebKey, found bool, err error) {
	s.mu.RLock()
	ix := s.index
	s.mu.RUnlock()
	if ix == nil {
		return nil, false, nil
	}
	return ix.lookup(kid, alg)
}

// miss distinguishes "the issuer does not publish this kid" from "we cannot tell"; why, when
// set, says why no fetch was made for it.
func (s *RemoteKeySet) miss(kid, why string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ve *VerifyError
	if s.index == nil || s.lastErr != nil {
		detail := fmt.Sprintf("kid %q is not cached and the JWKS at %s is unavailable", kid, s.url)
		if s.lastErr != nil {
			detail += ": " + s.lastErr.Error()
		}
		ve = &VerifyError{Reason: ReasonKeysUnavailable, Detail: detail}
	} else {
		ve = &VerifyError{Reason: ReasonUnknownKey,
			Detail: fmt.Sprintf("kid %q is not published in the JWKS at %s (checked %s)", kid, s.url, s.lastSuccess.UTC().Format(time.RFC3339))}
	}
	if why != "" {
		ve.Detail += "; not refetched because " + why
	}
	return ve
}

// Refresh fetches the JWKS now, joining a fetch already in flight. It skips the unknown-kid
// gate (it is called on a schedule or by an operator) but still honours the issuer's
// Retry-After.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	call := s.startFetch(false)
	if call == nil {
		s.mu.RLock()
		until := s.quietUntil
		s.mu.RUnlock()
		return fmt.Errorf("JWKS at %s asked for no requests until %s", s.url, until.UTC().Format(time.RFC3339))
	}
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run fetches the keys immediately and then whenever the last response goes stale, until ctx
// is done, so a key the issuer publishes ahead of use is known before a token carries it.
// Failures keep the cached keys, are retried with backoff, and are visible in Stats.
func (s *RemoteKeySet) Run(ctx context.Context) {
	for {
		if wait := s.untilRefresh(); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.after(wait):
			}
			// Re-evaluate rather than fetch: a fetch for an unknown kid may have refreshed
			// the keys in the meantime and moved the schedule.
			continue
		}
		if ctx.Err() != nil {
			return // stopped before the first fetch: the issuer is not asked at all
		}
		_ = s.Refresh(ctx)
		if ctx.Err() != nil {
			return
		}
	}
}

// untilRefresh is how long Run waits before its next fetch.
func (s *RemoteKeySet) untilRefresh() time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	due := now
	switch {
	case s.lastAttempt.IsZero():
	case s.failedInRow > 0:
		due = s.lastAttempt.Add(s.backoff())
	default:
		due = s.lastSuccess.Add(s.period)
	}
	if due.Before(s.quietUntil) {
		due = s.quietUntil
	}
	return due.Sub(now)
}

// backoff doubles from MinRefreshInterval per failure in a row, up to RefreshInterval; while
// no key was ever loaded it stays at MinRefreshInterval, because until then every token fails.
func (s *RemoteKeySet) backoff() time.Duration {
	d := s.minRefresh
	if s.index == nil {
		return d
	}
	for i := 1; i < s.failedInRow && d < s.maxRefresh; i++ {
		d *= 2
	}
	return min(d, s.maxRefresh)
}

// Stats returns a snapshot of the counters.
func (s *RemoteKeySet) Stats() KeySetStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := KeySetStats{
		Fetches:             s.fetches.Load(),
		FetchFailures:       s.failures.Load(),
		SuppressedRefreshes: s.suppressed.Load(),
		LastSuccess:         s.lastSuccess,
	}
	if s.index != nil {
		st.Keys = s.index.count
	}
	if s.lastErr != nil {
		st.LastError = s.lastErr.Error()
	}
	return st
}

// startFetch returns the fetch in flight, starts one, or returns nil when a gate is closed.
func (s *RemoteKeySet) startFetch(unknownKID bool) *fetchCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	now := s.now()
	if now.Before(s.quietUntil) || (unknownKID && now.Before(s.nextUnknown)) {
		return nil
	}
	call := &fetchCall{done: make(chan struct{})}
	s.inflight = call
	if unknownKID {
		s.nextUnknown = now.Add(s.unknownEvery)
	}
	s.fetches.Add(1)
	// The fetch runs on its own goroutine and context so that the caller that happened to
	// start it can give up without failing every other caller waiting on the same fetch.
	go s.fetch(call)
	return call
}

func (s *RemoteKeySet) fetch(call *fetchCall) {
	timeout := DefaultHTTPTimeout
	if s.client != nil && s.client.Timeout > 0 {
		timeout = s.client.Timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	s.mu.RLock()
	previous := s.index
	s.mu.RUnlock()

	var ix *keyIndex
	body, header, err := fetchDocument(ctx, s.client, s.url)
	if err == nil {
		ix, err = parseJWKS(body, previous)
		if err != nil {
			err = fmt.Errorf("JWKS at %s: %w", s.url, err)
		}
	} else {
		err = fmt.Errorf("fetching JWKS: %w", err)
	}

	s.mu.Lock()
	now := s.now()
	s.lastAttempt = now
	if err != nil {
		s.failures.Add(1)
		s.failedInRow++
		s.lastErr = err
		var se *httpStatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			s.quietUntil = now.Add(min(se.RetryAfter, maxRetryAfter))
		}
	} else {
		s.index = ix
		s.lastErr = nil
		s.lastSuccess = now
		s.failedInRow = 0
		s.period = s.maxRefresh
		if fresh, ok := freshness(header); ok {
			s.period = min(max(fresh, s.minRefresh), s.maxRefresh)
		}
	}
	s.inflight = nil
	call.err = err
	s.mu.Unlock()
	close(call.done)
}

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
	// DefaultMinRefreshInterval is the fewest seconds between JWKS fetches caused by unknown
	// kids. Ping rotates keys every 90 days and publishes the next key ahead of use, so one
	// fetch per 30 s is ample for rotation and small enough that a flood of forged kids (the
	// Lixpi JWKS storm) cannot push the IdP's rate limit.
	DefaultMinRefreshInterval = 30 * time.Second
	// DefaultRefreshInterval is how often Run refreshes the keys in the background.
	DefaultRefreshInterval = 15 * time.Minute
	// maxRetryAfter bounds how long an issuer's Retry-After can silence refreshes.
	maxRetryAfter = 10 * time.Minute
)

// RemoteKeySetOptions tunes a RemoteKeySet; the zero value gives the defaults.
type RemoteKeySetOptions struct {
	// MinRefreshInterval is the minimum time between fetches triggered by unknown kids
	// (default DefaultMinRefreshInterval).
	MinRefreshInterval time.Duration
	// RefreshInterval is the period of Run's background refresh (default
	// DefaultRefreshInterval); it is never shorter than MinRefreshInterval.
	RefreshInterval time.Duration
	// Now is the clock used for the refresh gate (default time.Now).
	Now func() time.Time
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

// RemoteKeySet caches an issuer's JWKS. An unknown kid triggers at most one fetch at a time
// and at most one per MinRefreshInterval; known keys keep verifying while the endpoint is
// down. It is safe for concurrent use.
type RemoteKeySet struct {
	client       *http.Client
	url          string
	minRefresh   time.Duration
	refreshEvery time.Duration
	now          func() time.Time

	mu          sync.RWMutex
	index       *keyIndex
	lastErr     error
	lastSuccess time.Time
	nextFetch   time.Time // gate for fetches caused by unknown kids
	quietUntil  time.Time // the issuer's Retry-After; binds every fetch
	inflight    *fetchCall

	fetches    atomic.Uint64
	failures   atomic.Uint64
	suppressed atomic.Uint64
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// NewRemoteKeySet returns a key set that fetches jwksURL on first use.
func NewRemoteKeySet(client *http.Client, jwksURL string, opts RemoteKeySetOptions) *RemoteKeySet {
	s := &RemoteKeySet{
		client:       client,
		url:          jwksURL,
		minRefresh:   opts.MinRefreshInterval,
		refreshEvery: opts.RefreshInterval,
		now:          opts.Now,
	}
	if s.minRefresh <= 0 {
		s.minRefresh = DefaultMinRefreshInterval
	}
	if s.refreshEvery <= 0 {
		s.refreshEvery = DefaultRefreshInterval
	}
	if s.refreshEvery < s.minRefresh {
		s.refreshEvery = s.minRefresh
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// URL is the JWKS address this set fetches.
func (s *RemoteKeySet) URL() string { return s.url }

// KeyFor implements KeySet.
func (s *RemoteKeySet) KeyFor(ctx context.Context, kid, alg string) (*jose.JSONWebKey, error) {
	s.mu.RLock()
	ix := s.index
	s.mu.RUnlock()
	if ix != nil {
		if key, found, err := ix.lookup(kid, alg); found {
			return key, err
		}
	}

	call := s.startFetch(false)
	if call == nil {
		s.suppressed.Add(1)
		return nil, s.missError(kid)
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, &VerifyError{Reason: ReasonKeysUnavailable,
			Detail: fmt.Sprintf("gave up waiting for the JWKS at %s: %v", s.url, ctx.Err())}
	}
	s.mu.RLock()
	ix = s.index
	s.mu.RUnlock()
	if ix != nil {
		if key, found, err := ix.lookup(kid, alg); found {
			return key, err
		}
	}
	return nil, s.missError(kid)
}

// missError distinguishes "the issuer does not publish this kid" from "we cannot tell".
func (s *RemoteKeySet) missError(kid string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.index == nil || s.lastErr != nil {
		detail := fmt.Sprintf("kid %q is not cached and the JWKS at %s is unavailable", kid, s.url)
		if s.lastErr != nil {
			detail += ": " + s.lastErr.Error()
		}
		return &VerifyError{Reason: ReasonKeysUnavailable, Detail: detail}
	}
	return &VerifyError{Reason: ReasonUnknownKey,
		Detail: fmt.Sprintf("kid %q is not published in the JWKS at %s (checked %s)", kid, s.url, s.lastSuccess.UTC().Format(time.RFC3339))}
}

// Refresh fetches the JWKS now, joining a fetch already in flight. It skips the unknown-kid
// gate (it is called on a timer or by an operator) but still honours the issuer's Retry-After.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	call := s.startFetch(true)
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

// Run refreshes the keys immediately and then every RefreshInterval until ctx is done, so a
// rotation is picked up before the first token signed with the new key arrives. Failures keep
// the cached keys and are visible in Stats.
func (s *RemoteKeySet) Run(ctx context.Context) {
	_ = s.Refresh(ctx)
	t := time.NewTicker(s.refreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Refresh(ctx)
		}
	}
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

// startFetch returns the fetch in flight, starts one, or returns nil when the gate is closed.
func (s *RemoteKeySet) startFetch(force bool) *fetchCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	now := s.now()
	if now.Before(s.quietUntil) || (!force && now.Before(s.nextFetch)) {
		return nil
	}
	call := &fetchCall{done: make(chan struct{})}
	s.inflight = call
	s.nextFetch = now.Add(s.minRefresh)
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
	body, err := getDocument(ctx, s.client, s.url)
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
	if err != nil {
		s.failures.Add(1)
		s.lastErr = err
		var se *httpStatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			s.quietUntil = now.Add(min(se.RetryAfter, maxRetryAfter))
		}
	} else {
		s.index = ix
		s.lastErr = nil
		s.lastSuccess = now
	}
	s.inflight = nil
	call.err = err
	s.mu.Unlock()
	close(call.done)
}

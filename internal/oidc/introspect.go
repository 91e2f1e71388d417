package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

const (
	// DefaultIntrospectionFreshFor is how long a positive answer is reused without asking the
	// issuer again while the endpoint answers. It is the revocation delay: a token revoked at
	// the issuer is refused on the first connect after its answer is this old. Past it the
	// answer is kept until the token's exp, but only served when the endpoint cannot be asked
	// (stale-if-error), so an outage does not log out everyone holding an opaque token.
	DefaultIntrospectionFreshFor = 30 * time.Second
	// DefaultIntrospectionRate and DefaultIntrospectionBurst size each of the two call budgets
	// (tokens not cached, and revalidation of cached ones) in calls per second.
	DefaultIntrospectionRate  = 50
	DefaultIntrospectionBurst = 100
	// DefaultIntrospectionCacheEntries and DefaultIntrospectionCacheBytes bound the answers
	// kept; the byte bound counts response bodies, which the issuer sizes.
	DefaultIntrospectionCacheEntries = 16384
	DefaultIntrospectionCacheBytes   = 32 << 20
	// DefaultIntrospectionRetryInterval is how long the endpoint is left alone after a call
	// failed (or the Retry-After it sent, up to maxRetryAfter): while it lasts, cached tokens
	// are served stale and new ones refused at once, instead of every decision waiting out a
	// timeout against an endpoint that is down.
	DefaultIntrospectionRetryInterval = time.Second
	// DefaultIntrospectionTimeout bounds a call when the given client has no timeout. The NATS
	// server waits 2 s for a callout reply by default; a later answer is useless.
	DefaultIntrospectionTimeout = 2 * time.Second
)

// answerOverhead is charged per cached answer on top of its body: the map entry, list element
// and hash are not free, and the byte budget should mean what it says.
const answerOverhead = 256

// IntrospectorOptions configures an Introspector. Endpoint, Issuer, ClientID, ClientSecret and
// Client are required.
type IntrospectorOptions struct {
	// Endpoint is the issuer's introspection_endpoint (PingFederate: <base>/as/introspect.oauth2).
	Endpoint string
	// Issuer is the issuer the endpoint speaks for. PingFederate omits iss from its answers; an
	// answer from this endpoint, over TLS and to an authenticated client, without iss is the
	// issuer's own, and its claim set gets this iss. An answer naming another iss is refused.
	Issuer string
	// ClientID and ClientSecret authenticate the requests. The secret is never logged nor put
	// in an error.
	ClientID, ClientSecret string
	// AuthMethod is "" or client_secret_basic (RFC 6749 §2.3.1), or client_secret_post.
	AuthMethod string
	// Client sends the requests (NewHTTPClient: CA bundle, loopback-only http). Redirects are
	// never followed: a redirected request would carry the token and credentials elsewhere.
	Client *http.Client
	// Now is the clock for freshness, exp, the rate limits and the retry interval.
	Now func() time.Time
	// FreshFor is how long a positive answer is reused while the endpoint answers (default
	// DefaultIntrospectionFreshFor); negative asks every time, keeping answers for outages only.
	FreshFor time.Duration
	// CacheEntries and CacheBytes bound the cache (defaults above); CacheEntries < 0 disables
	// it, and with it stale-if-error.
	CacheEntries, CacheBytes int
	// Rate and Burst size each call budget (defaults above); rate.Inf disables the limit.
	Rate  rate.Limit
	Burst int
	// RetryInterval is the pause after a failed call (default DefaultIntrospectionRetryInterval).
	RetryInterval time.Duration
}

// IntrospectionStats are counters for metrics and tests.
type IntrospectionStats struct {
	Requests     uint64 // calls sent to the endpoint
	Failures     uint64 // of which got no usable answer (transport, status, body)
	Inactive     uint64 // answers saying active: false
	CacheHits    uint64 // answers reused while fresh
	StaleServed  uint64 // answers reused past FreshFor because the endpoint could not be asked
	RateLimited  uint64 // calls not sent because a budget was spent
	Suppressed   uint64 // calls not sent during the pause after a failure
	CacheEntries int
	CacheBytes   int
}

// Introspector asks an issuer about opaque tokens (RFC 7662) and remembers its positive
// answers. It returns what the issuer said; the Verifier that holds it applies the policy. It
// is safe for concurrent use.
//
// A token not cached spends from one call budget and the revalidation of a cached answer from
// another, so a flood of invented tokens is refused (introspection_rate_limited) without
// starving the revalidations that let a revocation be seen. Concurrent lookups of one token
// share one call.
type Introspector struct {
	endpoint, issuer string
	clientID, secret string
	authInBody       bool // client_secret_post
	client           *http.Client
	now              func() time.Time
	freshFor         time.Duration
	retryEvery       time.Duration
	cache            *answerCache // nil: no cache
	newCalls         *rate.Limiter
	revalidations    *rate.Limiter
	flights          singleflight.Group

	mu         sync.Mutex
	quietUntil time.Time
	quietWhy   VerifyError // the failure that started the pause

	requests, failures, inactive, hits, stale, limited, suppressed atomic.Uint64

	onWait func() // tests: called once a lookup waits for a call, its own or another's
}

// NewIntrospector checks opts and returns an introspector. It refuses settings under which
// the token or the client secret could travel somewhere other than the issuer.
func NewIntrospector(opts IntrospectorOptions) (*Introspector, error) {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	u, err := url.Parse(opts.Endpoint)
	switch {
	case err != nil || u.Host == "":
		add("introspection endpoint %q is not an absolute URL such as https://pf.example.com/as/introspect.oauth2", opts.Endpoint)
	case u.User != nil:
		add("the introspection endpoint carries credentials in its user part; remove them, client_id and client_secret authenticate the callout")
	case u.Fragment != "":
		add("the introspection endpoint has a fragment; remove it")
	}
	if opts.Issuer == "" {
		add("the issuer the introspection endpoint speaks for is empty")
	}
	if opts.ClientID == "" || opts.ClientSecret == "" {
		add("introspection needs a client_id and a client_secret; the endpoint only answers authenticated clients")
	}
	if err := calloutconfig.CheckIntrospectionAuthMethod(opts.AuthMethod); err != nil {
		add("introspection auth method: %v", err)
	}
	if opts.Client == nil {
		add("no HTTP client given; this is always a bug in the caller")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	client := *opts.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if client.Timeout <= 0 {
		client.Timeout = DefaultIntrospectionTimeout
	}
	in := &Introspector{
		endpoint:   opts.Endpoint,
		issuer:     opts.Issuer,
		clientID:   opts.ClientID,
		secret:     opts.ClientSecret,
		authInBody: opts.AuthMethod == "client_secret_post",
		client:     &client,
		now:        opts.Now,
		freshFor:   opts.FreshFor,
		retryEvery: opts.RetryInterval,
	}
	if in.now == nil {
		in.now = time.Now
	}
	switch {
	case in.freshFor == 0:
		in.freshFor = DefaultIntrospectionFreshFor
	case in.freshFor < 0:
		in.freshFor = 0
	}
	if in.retryEvery <= 0 {
		in.retryEvery = DefaultIntrospectionRetryInterval
	}
	if opts.CacheEntries >= 0 {
		entries, bytes := opts.CacheEntries, opts.CacheBytes
		if entries == 0 {
			entries = DefaultIntrospectionCacheEntries
		}
		if bytes <= 0 {
			bytes = DefaultIntrospectionCacheBytes
		}
		in.cache = newAnswerCache(entries, bytes)
	}
	limit, burst := opts.Rate, opts.Burst
	if limit <= 0 {
		limit = DefaultIntrospectionRate
	}
	if burst <= 0 {
		burst = DefaultIntrospectionBurst
	}
	in.newCalls, in.revalidations = rate.NewLimiter(limit, burst), rate.NewLimiter(limit, burst)
	return in, nil
}

// String names the endpoint and client, never the secret, so printing an introspector (or a
// struct holding one) cannot leak it.
func (in *Introspector) String() string {
	return fmt.Sprintf("oidc.Introspector{endpoint: %s, client_id: %s}", in.endpoint, in.clientID)
}

// GoString is String for %#v.
func (in *Introspector) GoString() string { return in.String() }

// Issuer is the issuer the endpoint speaks for.
func (in *Introspector) Issuer() string { return in.issuer }

// Stats returns the counters.
func (in *Introspector) Stats() IntrospectionStats {
	st := IntrospectionStats{
		Requests: in.requests.Load(), Failures: in.failures.Load(), Inactive: in.inactive.Load(),
		CacheHits: in.hits.Load(), StaleServed: in.stale.Load(), RateLimited: in.limited.Load(),
		Suppressed: in.suppressed.Load(),
	}
	if in.cache != nil {
		st.CacheEntries, st.CacheBytes = in.cache.stats()
	}
	return st
}

// outcome is the result of one call, shared by every lookup that waited for it.
type outcome struct {
	ans *answer      // set for an active token
	err *VerifyError // token_inactive, or why there is no answer
}

// lookup returns the issuer's answer about raw: a fresh cached one, a new one, or (when the
// endpoint cannot be asked) a cached one until the token's exp. Every error is a *VerifyError.
func (in *Introspector) lookup(ctx context.Context, raw, hash string, now time.Time) (*answer, *VerifyError) {
	var cached *answer
	if in.cache != nil {
		if a, ok := in.cache.get(hash, now); ok {
			if now.Sub(a.checked) < in.freshFor {
				in.hits.Add(1)
				return a, nil
			}
			cached = a
		}
	}
	budget := in.newCalls
	if cached != nil {
		budget = in.revalidations
	}
	res := in.ask(ctx, raw, hash, budget)
	if res.err == nil || res.err.Reason == ReasonTokenInactive || cached == nil {
		return res.ans, res.err
	}
	// No answer. The cache is read again, not the copy from before the call: an answer
	// dropped meanwhile (the issuer said inactive to another lookup) must not come back.
	if a, ok := in.cache.get(hash, in.now()); ok {
		in.stale.Add(1)
		return a, nil
	}
	return nil, res.err
}

// ask runs one call per token at a time. The call is detached from the first caller's
// context, so its answer still reaches the cache and the other waiters if that caller gives
// up; the client's timeout bounds it.
func (in *Introspector) ask(ctx context.Context, raw, hash string, budget *rate.Limiter) outcome {
	ch := in.flights.DoChan(hash, func() (any, error) {
		return in.call(context.WithoutCancel(ctx), raw, hash, budget), nil
	})
	if in.onWait != nil {
		in.onWait()
	}
	select {
	case r := <-ch:
		return r.Val.(outcome)
	case <-ctx.Done():
		return outcome{err: unavailable("no answer from the introspection endpoint within the decision's deadline")}
	}
}

func (in *Introspector) call(ctx context.Context, raw, hash string, budget *rate.Limiter) outcome {
	now := in.now()
	in.mu.Lock()
	quietUntil, why := in.quietUntil, in.quietWhy
	in.mu.Unlock()
	if now.Before(quietUntil) {
		in.suppressed.Add(1)
		return outcome{err: &VerifyError{Reason: why.Reason,
			Detail: fmt.Sprintf("the endpoint is not asked until %s after a failure: %s", quietUntil.UTC().Format(time.RFC3339), why.Detail)}}
	}
	if !budget.AllowN(now, 1) {
		in.limited.Add(1)
		return outcome{err: &VerifyError{Reason: ReasonIntrospectionRateLimited,
			Detail: "the introspection call budget is spent; the token was not sent to the issuer"}}
	}
	in.requests.Add(1)
	body, retryAfter, verr := in.post(ctx, raw)
	if verr == nil {
		active, claims, err := parseIntrospectionResponse(body)
		if err == nil {
			return in.answered(active, claims, hash, now, len(body))
		}
		verr = unavailable("%v", err)
	}
	in.failures.Add(1)
	in.pause(now, retryAfter, verr)
	return outcome{err: verr}
}

// answered turns a usable response into the outcome and keeps a positive one until its exp.
func (in *Introspector) answered(active bool, claims claimSet, hash string, now time.Time, size int) outcome {
	if !active {
		in.inactive.Add(1)
		if in.cache != nil {
			in.cache.remove(hash)
		}
		return outcome{err: &VerifyError{Reason: ReasonTokenInactive,
			Detail: "the issuer says the token is not active (revoked, expired or unknown)"}}
	}
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = in.issuer
	}
	a := &answer{hash: hash, claims: claims, checked: now, size: size + answerOverhead}
	// Without a usable exp the answer cannot be bounded, so it is not kept; the policy refuses
	// it anyway (missing_time_claims).
	if exp, present, err := claims.numericDate("exp"); err == nil && present && now.Before(exp) {
		a.exp = exp
		if in.cache != nil {
			in.cache.put(a)
		}
	}
	return outcome{ans: a}
}

// pause leaves the endpoint alone for the retry interval, or for as long as it asked.
func (in *Introspector) pause(now time.Time, retryAfter time.Duration, why *VerifyError) {
	wait := max(in.retryEvery, min(retryAfter, maxRetryAfter))
	in.mu.Lock()
	defer in.mu.Unlock()
	if until := now.Add(wait); until.After(in.quietUntil) {
		in.quietUntil, in.quietWhy = until, *why
	}
}

// post sends one RFC 7662 §2.1 request. Errors never carry the token or the secret: the token
// travels only in the body, and a refusal reports the status and the OAuth error code alone.
func (in *Introspector) post(ctx context.Context, raw string) (body []byte, retryAfter time.Duration, err *VerifyError) {
	form := url.Values{"token": {raw}, "token_type_hint": {"access_token"}}
	if in.authInBody {
		form.Set("client_id", in.clientID)
		form.Set("client_secret", in.secret)
	}
	req, reqErr := http.NewRequestWithContext(ctx, http.MethodPost, in.endpoint, strings.NewReader(form.Encode()))
	if reqErr != nil {
		return nil, 0, unavailable("building the request to %s failed", in.endpoint)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !in.authInBody {
		// RFC 6749 §2.3.1 form-encodes both parts before Basic encoding them, as x/oauth2 does
		// for token requests; a secret with ':' or '%' would otherwise be misread.
		cred := url.QueryEscape(in.clientID) + ":" + url.QueryEscape(in.secret)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	}
	resp, doErr := in.client.Do(req)
	if doErr != nil {
		return nil, 0, unavailable("POST %s: %v", in.endpoint, redactedCause(doErr))
	}
	defer func() { _ = resp.Body.Close() }()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionBytes+1))
	if readErr != nil {
		return nil, 0, unavailable("POST %s: reading the body: %v", in.endpoint, redactedCause(readErr))
	}
	if resp.StatusCode != http.StatusOK {
		return in.statusError(resp, body)
	}
	if len(body) > maxIntrospectionBytes {
		return nil, 0, unavailable("POST %s: the body is larger than %d bytes; this is not an introspection response", in.endpoint, maxIntrospectionBytes)
	}
	if mt, _, mtErr := mime.ParseMediaType(resp.Header.Get("Content-Type")); mtErr != nil || mt != "application/json" {
		return nil, 0, unavailable("POST %s: Content-Type %q, want application/json (RFC 7662 §2.2)", in.endpoint, resp.Header.Get("Content-Type"))
	}
	return body, 0, nil
}

// redactedCause drops the *url.Error wrapper, whose text repeats method and URL, and keeps the
// cause (connection refused, timeout, certificate).
func redactedCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusError explains a non-200 answer; retryAfter is set when the endpoint asked us to back
// off.
func (in *Introspector) statusError(resp *http.Response, body []byte) ([]byte, time.Duration, *VerifyError) {
	status := resp.StatusCode
	msg := fmt.Sprintf("POST %s: HTTP %d %s", in.endpoint, status, http.StatusText(status))
	if code := oauthErrorCode(body); code != "" {
		msg += " (error " + code + ")"
	}
	reason := ReasonIntrospectionUnavailable
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		reason = ReasonIntrospectionRejected
		msg += fmt.Sprintf("; the endpoint refused client %q: check the callout's introspection client_id, client_secret and auth_method", in.clientID)
	}
	retry := parseRetryAfter(resp.Header.Get("Retry-After"), in.now())
	if retry > 0 {
		msg += fmt.Sprintf(" (retry after %s)", retry)
	}
	return nil, retry, &VerifyError{Reason: reason, Detail: msg}
}

// oauthErrorCode is the RFC 6749 §5.2 error code of an error body, and only when it has the
// code's syntax: an error_description or an echoed request could quote the token.
func oauthErrorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" || len(e.Error) > 64 {
		return ""
	}
	for _, r := range e.Error {
		if (r < 'a' || r > 'z') && r != '_' {
			return ""
		}
	}
	return e.Error
}

func unavailable(format string, args ...any) *VerifyError {
	return &VerifyError{Reason: ReasonIntrospectionUnavailable, Detail: fmt.Sprintf(format, args...)}
}

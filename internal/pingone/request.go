package pingone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ErrNotFound matches (with errors.Is) every error for a group, application or other object
// that does not exist: 404 responses and unsuccessful lookups by name.
var ErrNotFound = errors.New("not found in PingOne")

// Kinds of objects a NotFoundError can be about.
const (
	KindGroup       = "group"
	KindApplication = "application"
)

// NotFoundError reports a group or application that does not exist in the environment.
type NotFoundError struct {
	EnvironmentID string
	// Kind is KindGroup or KindApplication; empty reads as KindGroup, the first kind this error
	// reported, so errors built before applications existed keep their wording.
	Kind   string
	Lookup string // what was looked for, e.g. `id …` or `name "…"`
	// Similar are the values that were probably meant: names that differ only in case, or
	// application ids a typo away.
	Similar []string
	// Hint is a last sentence for a mistake recognised beyond similarity.
	Hint  string
	Cause error // the 404 response, when there was one
}

func (e *NotFoundError) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = KindGroup
	}
	msg := fmt.Sprintf("no PingOne %s with %s in environment %s", kind, e.Lookup, e.EnvironmentID)
	if len(e.Similar) > 0 {
		quoted := make([]string, len(e.Similar))
		for i, s := range e.Similar {
			quoted[i] = strconv.Quote(s)
		}
		msg += "; did you mean " + strings.Join(quoted, " or ") + "?"
		if kind == KindGroup {
			msg += " Group names must match exactly, including case"
		} else {
			msg += " Application names and client ids must match exactly, including case"
		}
	}
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

// Is makes NotFoundError match ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Unwrap exposes the API response behind the error.
func (e *NotFoundError) Unwrap() error { return e.Cause }

// APIError is a PingOne Management API error response.
type APIError struct {
	Method     string
	Path       string // path and query, without the host
	StatusCode int
	// ID, Code, Message and Details are PingOne's error envelope; ID is what PingOne support
	// asks for.
	ID      string
	Code    string
	Message string
	Details []ErrorDetail
	// Body is the start of a response that was not a PingOne error envelope.
	Body string
	// Retries is how many times the request was retried before giving up.
	Retries int
}

// ErrorDetail is one entry of an error's details[].
type ErrorDetail struct {
	Code       string         `json:"code"`
	Target     string         `json:"target"`
	Message    string         `json:"message"`
	InnerError map[string]any `json:"innerError"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PingOne API %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, d := range e.Details {
		b.WriteString(" [" + d.Code)
		if d.Target != "" {
			b.WriteString(" on " + d.Target)
		}
		if d.Message != "" {
			b.WriteString(": " + d.Message)
		}
		if attrs, ok := d.InnerError["supportedAttributes"]; ok {
			fmt.Fprintf(&b, " Supported attributes: %v; operators: %v.", attrs, d.InnerError["supportedOperators"])
		}
		b.WriteString("]")
	}
	if e.Body != "" {
		b.WriteString(": " + e.Body)
	}
	if e.Retries > 0 {
		fmt.Fprintf(&b, " (still failing after %d retries)", e.Retries)
	}
	if e.ID != "" {
		b.WriteString(" (PingOne error id " + e.ID + ")")
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(". " + hint)
	}
	return b.String()
}

func (e *APIError) hint() string {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "PingOne refused the worker application's access token; check that the worker app is enabled"
	case http.StatusForbidden:
		// Reading applications is its own permission, so a worker set up when only groups were
		// checked may lack it; name the permission rather than a role that may carry more.
		if strings.Contains(e.Path, "/applications") {
			return "The worker application lacks a role that can read applications in this environment " +
				"(permission applications:read:application, for example Client Application Developer or a custom " +
				"role with that permission); grant it in PingOne under the app's Roles tab"
		}
		return "The worker application lacks a role that can read groups in this environment " +
			"(for example Identity Data Read Only); grant it in PingOne under the app's Roles tab"
	}
	return ""
}

// Is makes a 404 match ErrNotFound.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// maxBackoff caps the wait when PingOne sends 429/503 without Retry-After.
const maxBackoff = 30 * time.Second

// get fetches u (already validated to be on the API host) into out, handling auth and retries.
func (c *Client) get(ctx context.Context, u *url.URL, out any) error {
	var waited time.Duration
	reauthenticated := false
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return fmt.Errorf("building PingOne request for %s: %w", u.RequestURI(), err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			return fmt.Errorf("PingOne API GET %s: %w", u.RequestURI(), err)
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if readErr != nil {
			return fmt.Errorf("PingOne API GET %s: reading the response: %w", u.RequestURI(), readErr)
		}

		switch status := resp.StatusCode; {
		case status >= 200 && status < 300:
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("PingOne API GET %s: the response is not the expected JSON: %w", u.RequestURI(), err)
			}
			return nil
		case status == http.StatusUnauthorized && !reauthenticated:
			// The cached token may have been revoked or expired early; one fresh token decides.
			c.dropToken(token)
			reauthenticated = true
			attempt--
			continue
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			apiErr := newAPIError(u, resp, body)
			apiErr.Retries = attempt
			if attempt >= c.maxRetries {
				return apiErr
			}
			d := c.retryDelay(resp.Header.Get("Retry-After"), attempt)
			if waited+d > c.maxWait {
				return fmt.Errorf("%w; PingOne asked to wait %s more, beyond the retry budget of %s", apiErr, d, c.maxWait)
			}
			if err := c.wait(ctx, d); err != nil {
				return fmt.Errorf("%w; stopped waiting to retry: %w", apiErr, err)
			}
			waited += d
		default:
			return newAPIError(u, resp, body)
		}
	}
}

// retryDelay reads Retry-After as delta-seconds or an HTTP date (both are allowed by PingOne's
// API description); without a usable value it backs off exponentially from one second.
func (c *Client) retryDelay(header string, attempt int) time.Duration {
	header = strings.TrimSpace(header)
	if secs, err := strconv.Atoi(header); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(header); err == nil {
		return max(at.Sub(c.now()), 0)
	}
	return min(time.Second<<attempt, maxBackoff)
}

func newAPIError(u *url.URL, resp *http.Response, body []byte) *APIError {
	e := &APIError{Method: http.MethodGet, Path: u.RequestURI(), StatusCode: resp.StatusCode}
	var envelope struct {
		ID      string        `json:"id"`
		Code    string        `json:"code"`
		Message string        `json:"message"`
		Details []ErrorDetail `json:"details"`
	}
	if err := json.Unmarshal(body, &envelope); err == nil && (envelope.Code != "" || envelope.Message != "") {
		e.ID, e.Code, e.Message, e.Details = envelope.ID, envelope.Code, envelope.Message, envelope.Details
		return e
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	e.Body = text
	return e
}

// IsUnavailable reports whether err says PingOne could not answer (a network failure, a
// timeout, 429 or 5xx after the client's retries) rather than that it answered no: a caller
// may then fall back to what it reviewed before, where a refusal (401, 403, 404, a bad
// filter) must still stop it.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.StatusCode == http.StatusTooManyRequests || api.StatusCode >= 500
	}
	var retrieve *oauth2.RetrieveError
	if errors.As(err, &retrieve) {
		return retrieve.Response != nil && (retrieve.Response.StatusCode == http.StatusTooManyRequests || retrieve.Response.StatusCode >= 500)
	}
	var netErr net.Error
	var opErr *net.OpError
	var urlErr *url.Error
	return errors.As(err, &netErr) || errors.As(err, &opErr) || errors.As(err, &urlErr) ||
		errors.Is(err, context.DeadlineExceeded)
}

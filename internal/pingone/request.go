package pingone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound matches (with errors.Is) every error for a group or other object that does not
// exist: 404 responses and unsuccessful lookups by name.
var ErrNotFound = errors.New("not found in PingOne")

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

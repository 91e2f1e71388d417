package oidc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/cabundle"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// DefaultHTTPTimeout bounds one request to the issuer when the caller gives no timeout. The
// NATS server waits 2 s for a callout reply by default, so a hung JWKS endpoint must not hold
// a decision much longer than that; discovery and drift reads get the same bound.
const DefaultHTTPTimeout = 10 * time.Second

// maxDocumentBytes caps discovery and JWKS bodies. Real ones are a few KiB; the cap keeps a
// misbehaving endpoint from exhausting memory.
const maxDocumentBytes = 1 << 20

// NewHTTPClient returns the client used for discovery and JWKS requests: system roots plus
// caBundlePEM (for a PingFederate behind a private CA), TLS 1.2 or newer, and a transport that
// refuses any plain-http request — including one reached by redirect — unless
// allowInsecureLoopbackHTTP is set and the host is a loopback address.
func NewHTTPClient(caBundlePEM string, allowInsecureLoopbackHTTP bool, timeout time.Duration) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		// Some minimal containers have no system pool; a bundle may still make the client usable.
		roots = x509.NewCertPool()
	}
	if strings.TrimSpace(caBundlePEM) != "" {
		// Extends, not replaces, the system roots: see cabundle.ExtendSystem.
		if roots, err = cabundle.ExtendSystem(caBundlePEM); err != nil {
			return nil, fmt.Errorf("ca_bundle_pem: %w", err)
		}
	}
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport; this is always a bug in the provider")
	}
	transport := base.Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{
		Timeout:   timeout,
		Transport: &schemeGuard{next: transport, allowLoopbackHTTP: allowInsecureLoopbackHTTP},
	}, nil
}

// schemeGuard checks every request the client sends, so a redirect from https to http (or to
// a non-loopback http host) is refused as well as the first request.
type schemeGuard struct {
	next              http.RoundTripper
	allowLoopbackHTTP bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := calloutconfig.CheckIssuerURL(req.URL.String(), g.allowLoopbackHTTP); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("refusing request: %w", err)
	}
	return g.next.RoundTrip(req)
}

// httpStatusError is a non-200 answer from the issuer. RetryAfter is set when the issuer
// asked us to back off (429/503), so the JWKS cache can honour it instead of hammering.
type httpStatusError struct {
	URL        string
	Status     int
	Snippet    string
	RetryAfter time.Duration
}

func (e *httpStatusError) Error() string {
	msg := fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Snippet != "" {
		msg += ": " + e.Snippet
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// getDocument fetches a small JSON document and returns its body when the status is 200.
func getDocument(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	body, _, err := fetchDocument(ctx, client, url)
	return body, err
}

// fetchDocument is getDocument that also returns the response headers (the JWKS cache reads
// Cache-Control from them).
func fetchDocument(ctx context.Context, client *http.Client, url string) ([]byte, http.Header, error) {
	if client == nil {
		return nil, nil, errors.New("no HTTP client configured; this is always a bug in the provider")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, &httpStatusError{
			URL:        url,
			Status:     resp.StatusCode,
			Snippet:    snippet(body),
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	}
	if len(body) > maxDocumentBytes {
		return nil, nil, fmt.Errorf("GET %s: body is larger than %d bytes; this is not a discovery document or JWKS", url, maxDocumentBytes)
	}
	return body, resp.Header, nil
}

// snippet keeps error messages readable when an endpoint answers with an HTML error page.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	const limit = 200
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// parseRetryAfter accepts both forms of RFC 9110 §10.2.3 (seconds or an HTTP date).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

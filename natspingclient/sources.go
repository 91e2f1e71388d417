package natspingclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials is a token source for a service: every call runs the client-credentials
// grant of cfg. cfg.TokenSource would cache the token until ten seconds before it expires,
// which defeats refreshing early. ctx carries the HTTP client (oauth2.HTTPClient) and ends
// the source when cancelled.
func ClientCredentials(ctx context.Context, cfg *clientcredentials.Config) oauth2.TokenSource {
	return tokenSourceFunc(func() (*oauth2.Token, error) { return cfg.Token(ctx) })
}

// RefreshToken is a token source for a person: the first call returns tok while it is valid,
// every later call redeems the refresh token with cfg's token endpoint, keeping the newest
// refresh token when the issuer rotates it (PingOne can). ctx is used as in ClientCredentials.
func RefreshToken(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) oauth2.TokenSource {
	return &refresher{ctx: ctx, cfg: cfg, first: tok, refresh: tok.RefreshToken}
}

type refresher struct {
	ctx     context.Context
	cfg     *oauth2.Config
	mu      sync.Mutex
	first   *oauth2.Token
	refresh string
}

func (r *refresher) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if first := r.first; first != nil {
		r.first = nil
		if first.Valid() {
			return first, nil
		}
	}
	// A token without an access token is never valid, so the reuse source oauth2 builds
	// redeems the refresh token at once instead of handing the cached token back.
	tok, err := r.cfg.TokenSource(r.ctx, &oauth2.Token{RefreshToken: r.refresh}).Token()
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" {
		r.refresh = tok.RefreshToken
	}
	return tok, nil
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// jwtExpiry reads exp from a JWT without verifying it: the client only needs to know when the
// callout will stop accepting the token, and the callout does the verifying. ok is false for
// opaque tokens and JWTs without a numeric exp.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

package callout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

const (
	// defaultTokenCache is how many verified tokens are remembered: a reconnect storm
	// re-presents the same tokens, and a cache hit skips the RSA verification entirely.
	defaultTokenCache = 16384
	// jwksHTTPTimeout bounds background refreshes; fetches caused by a decision are also
	// bounded by that decision's deadline.
	jwksHTTPTimeout = 10 * time.Second
)

// PolicyFromIssuer is the token policy an issuer section describes.
func PolicyFromIssuer(iss calloutconfig.Issuer) oidc.Policy {
	return oidc.Policy{
		Issuer:           iss.URL,
		Audiences:        iss.Audiences,
		Algorithms:       iss.Algorithms,
		MaxTokenLifetime: iss.MaxTokenLifetime.Std(),
		ClockSkew:        iss.ClockSkew.Std(),
		RequiredScopes:   iss.RequiredScopes,
		ForbiddenScopes:  iss.ForbiddenScopes,
		GroupsClaim:      iss.GroupsClaim,
		NameClaims:       iss.NameClaims,
	}
}

// newIssuerRuntime builds the verifier for an issuer section: a pinned JWKS never fetches;
// otherwise the JWKS is fetched now and refreshed in the background until close. When prev
// fetches from the same source (URL, CA bundle, refresh limit), its key set and background
// refresh are taken over instead, so a reload that only changes the token policy keeps
// the cached keys: a fresh set would refuse every token until its first fetch succeeds.
func newIssuerRuntime(iss calloutconfig.Issuer, now func() time.Time, cacheSize int, prev *issuerRuntime) (*issuerRuntime, error) {
	source, err := keySourceKey(iss)
	if err != nil {
		return nil, err
	}
	rt := &issuerRuntime{keySource: source}
	var keys oidc.KeySet
	if prev != nil && prev.keys != nil && prev.keySource == source {
		keys, rt.keys = prev.keys, prev.keys
	} else if len(iss.PinnedJWKS) > 0 {
		static, err := oidc.NewStaticKeySet(iss.PinnedJWKS)
		if err != nil {
			return nil, err
		}
		keys = static
	} else {
		client, err := oidc.NewHTTPClient(iss.CABundlePEM, iss.AllowInsecureHTTP, jwksHTTPTimeout)
		if err != nil {
			return nil, err
		}
		remote := oidc.NewRemoteKeySet(client, iss.JWKSURL, oidc.RemoteKeySetOptions{
			MinRefreshInterval: iss.JWKSMinRefreshInterval.Std(),
			Now:                now,
		})
		keys, rt.keys = remote, remote
	}
	if cacheSize == 0 {
		cacheSize = defaultTokenCache
	}
	if cacheSize < 0 {
		cacheSize = 0
	}
	v, err := oidc.NewVerifier(PolicyFromIssuer(iss), keys, oidc.VerifierOptions{Now: now, CacheSize: cacheSize})
	if err != nil {
		return nil, err
	}
	rt.verifier = v
	if rt.keys != nil && rt.keys == prev.sharedKeys() {
		rt.stop = prev.stop
	} else if rt.keys != nil {
		ctx, cancel := context.WithCancel(context.Background())
		rt.stop = cancel
		go rt.keys.Run(ctx)
	}
	return rt, nil
}

// keySourceKey identifies where an issuer section's keys come from.
func keySourceKey(iss calloutconfig.Issuer) (string, error) {
	b, err := json.Marshal(struct {
		JWKSURL     string
		Pinned      json.RawMessage
		CABundlePEM string
		Insecure    bool
		MinRefresh  calloutconfig.Duration
	}{iss.JWKSURL, iss.PinnedJWKS, iss.CABundlePEM, iss.AllowInsecureHTTP, iss.JWKSMinRefreshInterval})
	if err != nil {
		return "", fmt.Errorf("issuer: %w", err)
	}
	return string(b), nil
}

// issuerKey identifies an issuer section, so a reload that leaves it alone keeps the
// verifier, its cached tokens and its keys.
func issuerKey(iss calloutconfig.Issuer) (string, error) {
	b, err := json.Marshal(iss)
	if err != nil {
		return "", fmt.Errorf("issuer: %w", err)
	}
	return string(b), nil
}

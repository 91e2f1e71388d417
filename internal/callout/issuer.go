package callout

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// defaultTokenCache is how many verified tokens are remembered: a reconnect storm
// re-presents the same tokens, and a cache hit skips the RSA verification entirely.
const defaultTokenCache = 16384

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

// newIssuerVerifier is the token verifier of an issuer section over keys, which come from
// the service's jwksKeys so that they outlive the verifier across policy-only reloads.
// cacheSize 0 means defaultTokenCache, a negative one no cache.
func newIssuerVerifier(iss calloutconfig.Issuer, keys oidc.KeySet, now func() time.Time, cacheSize int) (*oidc.Verifier, error) {
	if cacheSize == 0 {
		cacheSize = defaultTokenCache
	}
	return oidc.NewVerifier(PolicyFromIssuer(iss), keys, oidc.VerifierOptions{Now: now, CacheSize: max(cacheSize, 0)})
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

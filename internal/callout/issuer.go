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

// introspectionHTTPTimeout bounds one introspection call. It runs inside a decision, and the
// server stops waiting after its auth timeout, so an answer later than a decision's budget
// helps no one; a caller whose budget ends sooner gives up sooner.
const introspectionHTTPTimeout = defaultDecisionLimit

// newIssuerVerifier is the token verifier of an issuer section over keys, which come from
// the service's jwksKeys so that they outlive the verifier across policy-only reloads.
// cacheSize 0 means defaultTokenCache, a negative one no cache (neither of verified JWTs nor
// of introspection answers). With an introspection section, opaque tokens are introspected.
func newIssuerVerifier(iss calloutconfig.Issuer, keys oidc.KeySet, now func() time.Time, cacheSize int) (*oidc.Verifier, error) {
	if cacheSize == 0 {
		cacheSize = defaultTokenCache
	}
	opts := oidc.VerifierOptions{Now: now, CacheSize: max(cacheSize, 0)}
	if iss.Introspection != nil {
		in, err := newIntrospector(iss, now, cacheSize)
		if err != nil {
			return nil, err
		}
		opts.Introspector = in
	}
	return oidc.NewVerifier(PolicyFromIssuer(iss), keys, opts)
}

// newIntrospector asks the issuer section's introspection endpoint, with the same rules for
// reaching it as for the JWKS: the system roots plus the CA bundle, and http only on loopback
// with allow_insecure_http. Its answers are not kept across a reload that changes the issuer
// section; the issuer is then asked again, and during an outage only tokens answered since
// that reload keep working.
func newIntrospector(iss calloutconfig.Issuer, now func() time.Time, cacheSize int) (*oidc.Introspector, error) {
	client, err := oidc.NewHTTPClient(iss.CABundlePEM, iss.AllowInsecureHTTP, introspectionHTTPTimeout)
	if err != nil {
		return nil, err
	}
	in := iss.Introspection
	entries := 0 // oidc's default
	if cacheSize < 0 {
		entries = -1
	}
	intro, err := oidc.NewIntrospector(oidc.IntrospectorOptions{
		Endpoint:     in.Endpoint,
		Issuer:       iss.URL,
		ClientID:     in.ClientID,
		ClientSecret: in.ClientSecret,
		AuthMethod:   in.AuthMethod,
		Client:       client,
		Now:          now,
		CacheEntries: entries,
		FreshFor:     freshFor(in.ReuseFor.Std()),
	})
	if err != nil {
		return nil, fmt.Errorf("issuer.introspection: %w", err)
	}
	return intro, nil
}

// freshFor maps the document's reuse_for onto oidc's FreshFor, where 0 means its default and a
// negative value asks on every connect.
func freshFor(reuse time.Duration) time.Duration {
	if reuse <= 0 {
		return -1
	}
	return reuse
}

// introspectionStats are the counters of the runtime's introspector; zero without one, and for
// a verifier from Options.NewVerifier that keeps none.
func (r *issuerRuntime) introspectionStats() oidc.IntrospectionStats {
	if v, ok := r.verifier.(interface{ Stats() oidc.VerifierStats }); ok {
		return v.Stats().Introspection
	}
	return oidc.IntrospectionStats{}
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

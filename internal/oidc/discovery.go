package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// DiscoveryDocument is the part of an OpenID Provider Configuration natsping relies on, plus
// the raw document so callers can show or store what the issuer actually published.
type DiscoveryDocument struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	UserinfoEndpoint      string `json:"userinfo_endpoint,omitempty"`
	// IntrospectionEndpoint (RFC 8414 §2) is where opaque tokens are introspected; a trust
	// that introspects without naming an endpoint uses this one.
	IntrospectionEndpoint            string   `json:"introspection_endpoint,omitempty"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ScopesSupported                  []string `json:"scopes_supported,omitempty"`
	ClaimsSupported                  []string `json:"claims_supported,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// DiscoveryURL is where OIDC Discovery §4 puts the configuration for issuer: a trailing slash
// is dropped before the well-known suffix is appended.
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches and checks the issuer's discovery document. The document's issuer must be
// byte-for-byte the configured one (OIDC Discovery §4.3): otherwise tokens would be checked
// against an issuer the operator never named. For PingOne the JWKS lives at <issuer>/jwks, for
// PingFederate at /pf/JWKS; both are taken from jwks_uri rather than guessed.
func Discover(ctx context.Context, client *http.Client, issuer string) (*DiscoveryDocument, error) {
	if issuer == "" {
		return nil, fmt.Errorf("issuer is empty; set it to the issuer URL, e.g. https://auth.pingone.com/<environment id>/as")
	}
	url := DiscoveryURL(issuer)
	body, err := getDocument(ctx, client, url)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery for issuer %q: %w", issuer, err)
	}
	var doc DiscoveryDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("OIDC discovery document at %s is not valid JSON of the expected shape: %w", url, err)
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("OIDC discovery document at %s names issuer %q, but the configured issuer is %q; "+
			"they must match exactly (check the environment id, region and any trailing slash)", url, doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return nil, fmt.Errorf("OIDC discovery document at %s has no jwks_uri; the issuer's signing keys cannot be found", url)
	}
	doc.Raw = json.RawMessage(body)
	return &doc, nil
}

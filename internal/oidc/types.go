package oidc

import (
	"errors"
	"fmt"
	"time"
)

// Policy is what a token must satisfy beyond a valid signature.
type Policy struct {
	Issuer           string
	Audiences        []string // the token's aud must contain at least one
	Algorithms       []string // JWS alg allow-list; none/HS* are rejected at construction
	MaxTokenLifetime time.Duration
	ClockSkew        time.Duration
	RequiredScopes   []string // all must be present in `scope` (space-separated) or `scp`
	ForbiddenScopes  []string // none may be present
	GroupsClaim      string   // dot path, e.g. "groups" or "realm_access.roles"
	NameClaims       []string // first non-empty string claim wins; falls back to sub
}

// Identity is what a verified token says about the person or client.
type Identity struct {
	Subject   string
	Name      string
	Groups    []string
	Scopes    []string
	Audience  []string
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
	KeyID     string
	ClientID  string
	// Claims is the verified claim set, read-only, for conditions on claims such as acr or
	// amr. Callers must not modify it: cached identities share it.
	Claims map[string]any
	// TokenHash is SHA-256 of the raw token: audit lines and caches use it, never the token.
	TokenHash string
}

// Reason is a stable, machine-readable cause for a refused token; audit lines carry it.
type Reason string

const (
	ReasonMalformed         Reason = "malformed_token"
	ReasonAlgorithm         Reason = "algorithm_not_allowed"
	ReasonUnknownKey        Reason = "unknown_key"
	ReasonKeysUnavailable   Reason = "keys_unavailable"
	ReasonSignature         Reason = "bad_signature"
	ReasonIssuer            Reason = "wrong_issuer"
	ReasonAudience          Reason = "wrong_audience"
	ReasonExpired           Reason = "expired"
	ReasonNotYetValid       Reason = "not_yet_valid"
	ReasonIssuedInFuture    Reason = "issued_in_future"
	ReasonMissingTimes      Reason = "missing_time_claims"
	ReasonLifetimeTooLong   Reason = "lifetime_too_long"
	ReasonMissingScope      Reason = "missing_required_scope"
	ReasonForbiddenScope    Reason = "forbidden_scope"
	ReasonBadGroupsClaim    Reason = "bad_groups_claim"
	ReasonTokenTypeRejected Reason = "token_type_rejected"
	// ReasonUnsupportedCritical is a token whose crit header names an extension this verifier
	// does not process (RFC 7515 §4.1.11); it is not a bad signature, and audit lines say so.
	ReasonUnsupportedCritical Reason = "unsupported_critical_header"

	// ReasonTokenInactive is an opaque token the issuer's introspection endpoint calls not
	// active (RFC 7662): revoked, expired or never issued.
	ReasonTokenInactive Reason = "token_inactive"
	// ReasonIntrospectionUnavailable is an opaque token nobody vouched for because the
	// endpoint gave no usable answer (down, timed out, not an RFC 7662 response) and no
	// cached answer was left; the token may well be fine.
	ReasonIntrospectionUnavailable Reason = "introspection_unavailable"
	// ReasonIntrospectionRejected is the endpoint refusing the callout's own client
	// credentials (HTTP 401/403): a configuration problem, not a verdict on the token.
	ReasonIntrospectionRejected Reason = "introspection_client_rejected"
	// ReasonIntrospectionRateLimited is an opaque token not sent to the issuer because the
	// call budget was spent (a flood of unknown tokens).
	ReasonIntrospectionRateLimited Reason = "introspection_rate_limited"
)

// VerifyError is returned for every refused token.
type VerifyError struct {
	Reason Reason
	Detail string
}

func (e *VerifyError) Error() string { return fmt.Sprintf("%s: %s", e.Reason, e.Detail) }

// ReasonOf extracts the refusal reason of err, or ReasonMalformed for other errors.
func ReasonOf(err error) Reason {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve.Reason
	}
	return ReasonMalformed
}

package calloutconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Version is the schema version written by this build. The service refuses other versions
// rather than guessing at fields it does not know.
const Version = 1

// Document is everything the callout service needs, and nothing else.
type Document struct {
	Version  int       `json:"version"`
	Issuer   Issuer    `json:"issuer"`
	NATS     NATS      `json:"nats"`
	Mappings []Mapping `json:"mappings"`
	// ExpirySpreadPercent is how much of a session, at most, the callout may cut from the end
	// of a user's expiry so that a cohort admitted together does not reconnect together (see
	// ExpirySpreadWindow). Absent means DefaultExpirySpreadPercent: a document written before
	// the field existed gets the default, and 0 turns spreading off. A pointer, because absent
	// and 0 mean different things.
	ExpirySpreadPercent *float64 `json:"expiry_spread_percent,omitempty"`
	// Offboarding, when set, names the key-value bucket of revoked identities, mappings and
	// roles (see offboarding.go).
	Offboarding *Offboarding `json:"offboarding,omitempty"`
}

// ExpirySpread returns the spread the document asks for, the default when it names none.
func (d *Document) ExpirySpread() float64 {
	if d.ExpirySpreadPercent == nil {
		return DefaultExpirySpreadPercent
	}
	return *d.ExpirySpreadPercent
}

// Issuer is the Ping OIDC issuer and the token policy applied to its tokens.
type Issuer struct {
	// URL is the exact `iss` value tokens must carry, e.g. https://auth.pingone.com/<env>/as.
	URL       string   `json:"url"`
	Audiences []string `json:"audiences"`
	// Algorithms is the allow-list of JWS algorithms; "none" and HS* are never valid.
	Algorithms       []string `json:"algorithms"`
	MaxTokenLifetime Duration `json:"max_token_lifetime"`
	ClockSkew        Duration `json:"clock_skew"`
	RequiredScopes   []string `json:"required_scopes,omitempty"`
	ForbiddenScopes  []string `json:"forbidden_scopes,omitempty"`
	// GroupsClaim is a dot-separated path to the claim holding group names or ids.
	GroupsClaim string `json:"groups_claim"`
	// NameClaims are tried in order; the first non-empty string names the person.
	NameClaims []string `json:"name_claims"`
	// JWKSURL is where keys are fetched; ignored when PinnedJWKS is set.
	JWKSURL string `json:"jwks_url,omitempty"`
	// PinnedJWKS is a literal JWK Set for air-gapped setups; keys never refresh.
	PinnedJWKS json.RawMessage `json:"pinned_jwks,omitempty"`
	// CABundlePEM extends the system roots for reaching the issuer (private-CA PingFederate);
	// see cabundle.ExtendSystem for why it extends rather than replaces them.
	CABundlePEM string `json:"ca_bundle_pem,omitempty"`
	// AllowInsecureHTTP permits http:// issuers, and only on loopback addresses.
	AllowInsecureHTTP bool `json:"allow_insecure_http,omitempty"`
	// JWKSMinRefreshInterval is the floor of the callout's scheduled JWKS refresh (under Ping's
	// Cache-Control max-age); refetches for unknown key ids have their own one-per-second budget.
	JWKSMinRefreshInterval Duration `json:"jwks_min_refresh_interval"`
	// Introspection, when set, lets the callout accept opaque (reference) tokens, which it
	// cannot read, by asking the issuer about them (RFC 7662). JWTs are still verified locally.
	Introspection *Introspection `json:"introspection,omitempty"`
}

// Introspection is how the callout asks the issuer whether an opaque token is active.
type Introspection struct {
	// Endpoint is the issuer's introspection_endpoint (PingFederate: <base>/as/introspect.oauth2).
	Endpoint string `json:"endpoint"`
	// ClientID and ClientSecret authenticate the callout to the endpoint.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// AuthMethod is client_secret_basic (default) or client_secret_post.
	AuthMethod string `json:"auth_method,omitempty"`
	// ReuseFor is how long a positive answer is reused without asking again while the endpoint
	// answers. 0 asks on every connect, so a token revoked at Ping is refused on its next
	// connect; answers are still kept until exp for when the endpoint cannot be asked.
	ReuseFor Duration `json:"reuse_for"`
}

// NATS says how the service connects and what it signs.
type NATS struct {
	URLs []string `json:"urls,omitempty"`
	// CalloutAccount is the public key of the account that owns $SYS.REQ.USER.AUTH.
	CalloutAccount string `json:"callout_account"`
	// CalloutAccountSeed signs authorization responses.
	CalloutAccountSeed string `json:"callout_account_seed"`
	// Creds is the creds file content of the callout service user.
	Creds string `json:"creds"`
	// XKeySeed decrypts requests and encrypts responses when set.
	XKeySeed string `json:"xkey_seed,omitempty"`
	// XKeySeeds are more xkeys a request may be sealed to while the xkey rotates; the reply
	// is sealed with the key that opened the request (rotation.go).
	XKeySeeds  []string `json:"xkey_seeds,omitempty"`
	QueueGroup string   `json:"queue_group"`
	// AuditSubject, when set, receives each audit line as well as the local log.
	AuditSubject string `json:"audit_subject,omitempty"`
}

// Mapping grants one account role to the holders of tokens that meet all of its conditions:
// one of its groups, one of its client ids, all of its scopes, and every claim condition. At
// least one condition is given; a condition left out does not restrict.
type Mapping struct {
	Name     string  `json:"name"`
	Priority int     `json:"priority"`
	Groups   []Group `json:"groups,omitempty"`
	// ClientIDs are OAuth client ids (PingOne applications, PingFederate clients); a token
	// without sub (client credentials) is admitted only by a mapping that names its client.
	ClientIDs []string `json:"client_ids,omitempty"`
	// Scopes must all be granted to the token.
	Scopes []string `json:"scopes,omitempty"`
	// Claims are conditions on other claims, e.g. acr or amr; all must hold.
	Claims []ClaimCondition `json:"claims,omitempty"`
	// Account is the target account's public key; AccountName is for audit lines.
	Account     string `json:"account"`
	AccountName string `json:"account_name"`
	Role        string `json:"role"`
	// RoleSigningKey is the public key of the role's scoped signing key as the account JWT
	// lists it; the seed must belong to it, so a pasted seed of another key is refused at
	// start instead of yielding users that nats-server refuses while the audit says allow.
	RoleSigningKey string `json:"role_signing_key"`
	// RoleSigningKeySeed is the role's scoped signing key; users it signs carry no
	// permissions of their own, so the server applies the role's template.
	RoleSigningKeySeed     string   `json:"role_signing_key_seed"`
	MaxSession             Duration `json:"max_session"`
	AllowedConnectionTypes []string `json:"allowed_connection_types,omitempty"`
	Tags                   []string `json:"tags,omitempty"`
	// RoleKeyRotation is set when the role's key rotates; see KeyRotation.
	RoleKeyRotation *KeyRotation `json:"role_key_rotation,omitempty"`
}

// ClaimCondition holds when the claim at Path has one of Values: a string claim equal to a
// value, a string array claim containing one, or any other JSON value whose compact JSON
// encoding equals one (3, true). An absent claim never holds.
type ClaimCondition struct {
	Path   string   `json:"path"`
	Values []string `json:"values"`
}

// Group matches a token group value by name or by id (PingOne can map either into tokens).
type Group struct {
	Name string `json:"name,omitempty"`
	ID   string `json:"id,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("1h0m0s") for humans.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Parse decodes a document strictly: unknown fields and other versions are errors, and the
// result has passed Validate.
func Parse(data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("callout config: %w", err)
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	return &doc, nil
}

// Marshal renders the document deterministically (indented, struct field order).
func (d *Document) Marshal() ([]byte, error) {
	return json.MarshalIndent(d, "", "  ")
}

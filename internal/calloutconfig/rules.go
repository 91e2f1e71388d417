package calloutconfig

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// This file is the one home of the rules a callout document must follow. The provider's
// plan-time validators call these functions, Validate applies them to every document the
// service loads, and the service uses the same names when it acts, so a hand-edited
// callout.json cannot pass what the provider would refuse.

// Tag keys the callout sets on every user it admits. A mapping may not set them itself: a
// second value of any of them would make nats-server expand {{tag(key)}} over both values.
const (
	// TagPingSub carries the Ping subject, one-to-one (see IdentityTagValue).
	TagPingSub = "ping-sub"
	// TagRole carries the role name.
	TagRole = "role"
	// TagMapping carries the mapping name.
	TagMapping = "mapping"
	// TagPingClient carries the OAuth client id of a service token, one-to-one like ping-sub.
	TagPingClient = "ping-client"
)

// reservedTagKeys are the keys above, in the order the documentation lists them.
var reservedTagKeys = []string{TagPingSub, TagPingClient, TagRole, TagMapping}

// ReservedTagKeys returns the tag keys a mapping may not use.
func ReservedTagKeys() []string { return slices.Clone(reservedTagKeys) }

// mappingTagPattern keeps tag values to one subject token: role templates put {{tag(x)}} into
// subjects, so a value with '.', '*' or '>' would widen what the role grants. Upper case is
// refused because NATS lower-cases tags, which would make the reviewed value differ from the
// enforced one.
var mappingTagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*:[a-z0-9_-]+$`)

// CheckMappingTag explains what is wrong with a tag a mapping adds to its users.
func CheckMappingTag(tag string) error {
	if !mappingTagPattern.MatchString(tag) {
		return fmt.Errorf("%q is not a tag such as \"team:blue\": use lower-case key:value, where the value is "+
			"letters, digits, '_' or '-' only. NATS lower-cases tags, and role templates put values into subjects, "+
			"where '.', '*' or '>' would widen what the role grants", tag)
	}
	key := tag[:strings.IndexByte(tag, ':')]
	if slices.Contains(reservedTagKeys, key) {
		return &ReservedTagError{Tag: tag, Key: key}
	}
	return nil
}

// ReservedTagError is a mapping tag that uses a key the callout sets itself.
type ReservedTagError struct{ Tag, Key string }

func (e *ReservedTagError) Error() string {
	return fmt.Sprintf("%q uses the key %q, which the callout sets on every user it admits (reserved: %s); "+
		"choose another key", e.Tag, e.Key, strings.Join(reservedTagKeys, ", "))
}

// Bounds is an inclusive range of durations with the reason for its ceiling.
type Bounds struct {
	Min, Max time.Duration
	// Why explains the ceiling in an error message.
	Why string
}

// Check explains, naming the setting, why d is outside the bounds.
func (b Bounds) Check(name string, d time.Duration) error {
	switch {
	case d < b.Min:
		return fmt.Errorf("%s %s is shorter than the minimum of %s", name, ShortDuration(d), ShortDuration(b.Min))
	case d > b.Max:
		msg := fmt.Sprintf("%s %s is longer than the maximum of %s", name, ShortDuration(d), ShortDuration(b.Max))
		if b.Why != "" {
			msg += "; " + b.Why
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// The bounds of every duration in the document, with the defaults the provider uses.
var (
	// SessionBounds limits a mapping's max_session: a person is re-checked against Ping at
	// least once a day however the mapping is configured.
	SessionBounds = Bounds{Min: time.Minute, Max: 24 * time.Hour,
		Why: "long sessions keep NATS access alive after Ping has revoked it"}
	// TokenLifetimeBounds limits max_token_lifetime (exp − iat). Ping's defaults sit well
	// inside (PingOne access tokens 1 h, PingFederate ID tokens 5 min).
	TokenLifetimeBounds = Bounds{Min: time.Minute, Max: 24 * time.Hour,
		Why: "long-lived tokens keep access alive after Ping has revoked it"}
	// ClockSkewBounds limits clock_skew; more than minutes of skew is a broken clock, and
	// tolerating it would stretch every token's validity.
	ClockSkewBounds = Bounds{Min: 0, Max: 5 * time.Minute,
		Why: "fix the clocks instead; a larger tolerance stretches every token's validity"}
	// IntrospectionReuseBounds limits introspection.reuse_for: a revoked opaque token keeps
	// connecting for up to that long, so the ceiling stays short.
	IntrospectionReuseBounds = Bounds{Min: 0, Max: 5 * time.Minute,
		Why: "a token revoked at Ping would keep connecting for that long"}
	// JWKSRefreshBounds limits jwks_min_refresh_interval.
	JWKSRefreshBounds = Bounds{Min: time.Second, Max: 24 * time.Hour,
		Why: "new Ping keys would not be learned for that long"}
)

const (
	DefaultSession                = time.Hour
	DefaultMaxTokenLifetime       = time.Hour
	DefaultClockSkew              = 30 * time.Second
	DefaultJWKSMinRefreshInterval = 30 * time.Second
)

// Expiry spreading. A cohort admitted together (a deploy, a network blip, a fleet started by
// one job) holds tokens that expire together; unspread, every user JWT ends in the same second
// and the whole cohort reconnects at once, each with a token to verify. The callout therefore
// ends each session a little early, by an amount chosen per connection within a window at the
// end of the session. It only ever shortens a session: the cap (the token's exp or max_session,
// whichever comes first) is never passed.
const (
	// DefaultExpirySpreadPercent costs a person at most 5% of a session (3 minutes of an hour).
	DefaultExpirySpreadPercent = 5.0
	// MaxExpirySpreadPercent keeps at least half of every session; more would trade away too
	// much of the session a mapping grants for a storm that a few minutes already dissolve.
	MaxExpirySpreadPercent = 50.0
	// ExpirySpreadMaxWindow bounds the window for long sessions: 2,000 reconnects spread over
	// 5 minutes are under 7 a second, so a wider window would cost session time for nothing.
	ExpirySpreadMaxWindow = 5 * time.Minute
	// ExpirySpreadFloor is the least a spread session keeps: a session that has less than this
	// left is not shortened at all, and no spread takes one below it, so a client is never
	// admitted only to be cut off before it has finished subscribing.
	ExpirySpreadFloor = 10 * time.Second
)

// CheckExpirySpreadPercent requires a percentage between 0 (off) and MaxExpirySpreadPercent.
func CheckExpirySpreadPercent(p float64) error {
	if math.IsNaN(p) || p < 0 || p > MaxExpirySpreadPercent {
		return fmt.Errorf("expiry_spread_percent %v is outside 0 to %v; 0 turns spreading off, and more than %v%% "+
			"would cut more than half of every session", p, MaxExpirySpreadPercent, MaxExpirySpreadPercent)
	}
	return nil
}

// ExpirySpreadWindow is how far before the cap a user's expiry may be moved, in whole seconds
// (JWT exp has no finer unit): percent of the remaining session, at most ExpirySpreadMaxWindow,
// and never so much that less than ExpirySpreadFloor would remain.
func ExpirySpreadWindow(percent float64, remaining time.Duration) time.Duration {
	w := time.Duration(float64(remaining) * percent / 100)
	w = min(w, ExpirySpreadMaxWindow, remaining-ExpirySpreadFloor)
	if w <= 0 {
		return 0
	}
	return w.Truncate(time.Second)
}

// ShortDuration writes 24h rather than 24h0m0s.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// SupportedAlgorithms are the asymmetric JWS algorithms the callout can verify.
var supportedAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

// SupportedAlgorithms returns the JWS algorithms a policy may allow.
func SupportedAlgorithms() []string { return slices.Clone(supportedAlgorithms) }

// ForbiddenAlgorithm reports why an algorithm can never be allowed (RFC 8725 §3.1, §3.2):
// "none" carries no signature and HS* would let anyone holding the public JWKS forge tokens.
func ForbiddenAlgorithm(alg string) (string, bool) {
	switch {
	case strings.EqualFold(alg, "none"):
		return "\"none\" tokens are unsigned", true
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return "HMAC algorithms use a shared secret, so a public-key issuer's tokens could be forged", true
	}
	return "", false
}

// CheckAlgorithm refuses forbidden and unsupported algorithms.
func CheckAlgorithm(alg string) error {
	if why, bad := ForbiddenAlgorithm(alg); bad {
		return fmt.Errorf("%q can never be accepted: %s; Ping signs with RS256, use asymmetric algorithms only", alg, why)
	}
	if !slices.Contains(supportedAlgorithms, alg) {
		return fmt.Errorf("%q is not a supported JWS algorithm; use one of %s", alg, strings.Join(supportedAlgorithms, ", "))
	}
	return nil
}

var (
	claimPathPattern  = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)
	scopeTokenPattern = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`) // RFC 6749 §3.3 scope-token
)

// CheckClaimPath requires a claim name or a dot path such as "groups" or "realm.groups".
func CheckClaimPath(p string) error {
	if !claimPathPattern.MatchString(p) {
		return fmt.Errorf("%q is not a claim name or dot path such as \"groups\" or \"realm.groups\"", p)
	}
	return nil
}

// CheckScope requires an RFC 6749 §3.3 scope token: printable ASCII without spaces, '"' or '\'.
func CheckScope(s string) error {
	if !scopeTokenPattern.MatchString(s) {
		return fmt.Errorf("%q is not a scope token (printable ASCII without spaces, quotes or backslashes)", s)
	}
	return nil
}

// CheckGroup refuses group values that no token could match as written: PingOne group names
// never start or end with spaces, and matching is exact.
func CheckGroup(value string) error {
	if value == "" {
		return fmt.Errorf("a group name or id is empty")
	}
	if strings.TrimSpace(value) != value {
		return fmt.Errorf("group %q starts or ends with spaces; group names are matched exactly, remove them", value)
	}
	return nil
}

// privateJWKMembers are JWK members that carry private or symmetric key material (RFC 7518 §6).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// CheckPinnedJWKS requires a JWK Set with at least one key and no private or symmetric
// material. Whether the keys are usable for verification is the oidc package's check.
func CheckPinnedJWKS(raw []byte) error {
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return fmt.Errorf("pinned_jwks is not a JWK Set ({\"keys\": [...]}): %v", err)
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("pinned_jwks holds no keys; pin the issuer's public keys as its jwks_uri publishes them")
	}
	for i, k := range set.Keys {
		for _, private := range privateJWKMembers {
			if _, ok := k[private]; ok {
				return fmt.Errorf("keys[%d] contains private or symmetric key material (%q); pin only the "+
					"issuer's public keys, as its jwks_uri publishes them", i, private)
			}
		}
	}
	return nil
}

// CheckClientID refuses client ids no token could carry as written: OAuth client ids are
// printable without spaces (RFC 6749 §2.2 leaves the alphabet to the issuer, but PingOne uses
// UUIDs and PingFederate forbids spaces).
func CheckClientID(id string) error {
	if id == "" {
		return fmt.Errorf("a client id is empty")
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("client id %q contains a space or control character; client ids are matched exactly", id)
		}
	}
	return nil
}

// CheckClientIDOrName is the rule for a configured client_ids entry, which may also be a
// PingOne application name (names may hold spaces): non-empty, no leading or trailing spaces.
// The id it resolves to must then pass CheckClientID.
func CheckClientIDOrName(v string) error {
	if v == "" || strings.TrimSpace(v) != v {
		return fmt.Errorf("client id %q is empty or starts or ends with spaces; client ids are matched exactly", v)
	}
	return nil
}

// CheckClaimCondition requires a claim path and at least one non-empty value. The claims that
// other conditions or the policy own are refused here, so one rule has one place: iss, aud,
// exp, iat and nbf are checked by the policy; groups, client_id and scope have their own
// conditions.
func CheckClaimCondition(c ClaimCondition, groupsClaim string) error {
	if err := CheckClaimPath(c.Path); err != nil {
		return err
	}
	switch c.Path {
	case "iss", "aud", "exp", "iat", "nbf", "jti":
		return fmt.Errorf("claim %q is checked by the trust's token policy; it cannot be a mapping condition", c.Path)
	case "client_id":
		return fmt.Errorf("claim \"client_id\" has its own condition; use client_ids")
	case "scope", "scp":
		return fmt.Errorf("claim %q has its own condition; use scopes", c.Path)
	}
	if groupsClaim != "" && c.Path == groupsClaim {
		return fmt.Errorf("claim %q is the trust's groups claim; use groups", c.Path)
	}
	if len(c.Values) == 0 {
		return fmt.Errorf("claim %q: at least one value is required", c.Path)
	}
	for _, v := range c.Values {
		if v == "" {
			return fmt.Errorf("claim %q: a value is empty", c.Path)
		}
	}
	return nil
}

// introspectionAuthMethods are the client authentications the callout can use (RFC 7662 §2.1
// leaves it to the server; PingFederate and PingOne accept both).
var introspectionAuthMethods = []string{"client_secret_basic", "client_secret_post"}

// CheckIntrospectionEndpoint applies the issuer URL rule to an introspection endpoint and
// refuses what oidc.NewIntrospector would refuse at start: credentials in the user part (the
// callout authenticates with client_id and client_secret, and a URL is logged and shown in
// plans) and a fragment. The user part is checked first so that no message repeats it.
func CheckIntrospectionEndpoint(raw string, allowInsecureHTTP bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("the value is not a URL; write it as https://host/path, e.g. https://pf.example.com/as/introspect.oauth2")
	case u.User != nil:
		return fmt.Errorf("the URL carries credentials in its user part; remove them, client_id and client_secret authenticate the callout")
	case u.Fragment != "":
		return fmt.Errorf("%q has a fragment; remove it, a fragment is never sent to the endpoint", raw)
	}
	return CheckIssuerURL(raw, allowInsecureHTTP)
}

// CheckIntrospectionAuthMethod accepts "" (client_secret_basic) and the supported methods.
func CheckIntrospectionAuthMethod(m string) error {
	if m == "" || slices.Contains(introspectionAuthMethods, m) {
		return nil
	}
	return fmt.Errorf("%q is not a supported client authentication; use one of %s", m, strings.Join(introspectionAuthMethods, ", "))
}

// ScopesBothRequiredAndForbidden lists the scopes in both lists, in required's order: with
// any of them no token could ever be accepted.
func ScopesBothRequiredAndForbidden(required, forbidden []string) []string {
	var both []string
	for _, s := range required {
		if slices.Contains(forbidden, s) && !slices.Contains(both, s) {
			both = append(both, s)
		}
	}
	return both
}

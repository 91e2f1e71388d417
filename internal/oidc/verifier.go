package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// MaxTokenBytes bounds the raw token. Ping access tokens are 1–3 KiB; anything near this size
// is an attack on parser and hash time, not a token.
const MaxTokenBytes = 64 << 10

// DefaultCacheTTL caps how long a verified token is served from the cache even when its exp is
// further away, so a policy or clock problem cannot be hidden for a token's whole lifetime.
const DefaultCacheTTL = 5 * time.Minute

// DefaultAcceptedTypes are the `typ` header values accepted when a token carries one. PingOne
// access tokens carry none, which is accepted; a token of another type (a logout token, a
// DPoP proof, a security event) is refused so it cannot be replayed as a credential.
var DefaultAcceptedTypes = []string{"JWT", "at+jwt", "application/at+jwt", "application/jwt"}

// VerifierOptions tunes a Verifier; the zero value verifies every token from scratch.
type VerifierOptions struct {
	// Now is the clock for every time check (default time.Now).
	Now func() time.Time
	// CacheSize is the number of verified tokens remembered (0 disables the cache).
	CacheSize int
	// CacheTTL bounds how long one entry lives (default DefaultCacheTTL); exp always wins.
	CacheTTL time.Duration
	// AcceptedTypes replaces DefaultAcceptedTypes; compared case-insensitively.
	AcceptedTypes []string
	// Introspector, when set, decides the tokens that are not JOSE-shaped (opaque reference
	// tokens) by asking the issuer; its answers pass the same policy as a JWT's claims. Without
	// one such tokens are malformed. It must speak for the policy's issuer.
	Introspector *Introspector
}

// VerifierStats are counters for metrics.
type VerifierStats struct {
	CacheHits    uint64
	CacheMisses  uint64
	CacheEntries int
	// Introspection is the introspector's counters; zero without one.
	Introspection IntrospectionStats
}

// Verifier checks tokens against one Policy and KeySet. It is safe for concurrent use.
type Verifier struct {
	policy    Policy
	keys      KeySet
	peeker    peekingKeySet // keys, when it can answer without fetching; see keyFor
	algs      []jose.SignatureAlgorithm
	audiences map[string]bool
	types     []string
	now       func() time.Time
	cache     *tokenCache
	cacheTTL  time.Duration
	intro     *Introspector

	hits, misses atomic.Uint64
}

// NewVerifier validates the policy and returns a verifier for it. It refuses policies that
// could accept forged or unbounded tokens rather than quietly correcting them.
func NewVerifier(policy Policy, keys KeySet, opts VerifierOptions) (*Verifier, error) {
	var errs []error
	if policy.Issuer == "" {
		errs = append(errs, errors.New("policy issuer is empty; set it to the exact iss of the tokens, e.g. https://auth.pingone.com/<environment id>/as"))
	}
	if len(policy.Audiences) == 0 {
		errs = append(errs, errors.New("policy audiences are empty; at least one is required, otherwise a token minted for any client would be accepted"))
	}
	for _, a := range policy.Audiences {
		if a == "" {
			errs = append(errs, errors.New("policy audiences contain an empty string; remove it"))
		}
	}
	if len(policy.Algorithms) == 0 {
		errs = append(errs, errors.New("policy algorithms are empty; allow at least one, e.g. RS256 for PingOne"))
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(policy.Algorithms))
	for _, alg := range policy.Algorithms {
		if err := calloutconfig.CheckAlgorithm(alg); err != nil {
			errs = append(errs, fmt.Errorf("policy algorithm: %w", err))
			continue
		}
		algs = append(algs, jose.SignatureAlgorithm(alg))
	}
	if policy.MaxTokenLifetime <= 0 {
		errs = append(errs, fmt.Errorf("policy max token lifetime must be positive, got %s (PingOne's default access token lifetime is 1h)", policy.MaxTokenLifetime))
	}
	if policy.ClockSkew < 0 {
		errs = append(errs, fmt.Errorf("policy clock skew must not be negative, got %s", policy.ClockSkew))
	}
	if keys == nil {
		errs = append(errs, errors.New("no key set given; this is always a bug in the caller"))
	}
	if opts.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("cache size must not be negative, got %d", opts.CacheSize))
	}
	if in := opts.Introspector; in != nil && in.Issuer() != policy.Issuer {
		errs = append(errs, fmt.Errorf("the introspector speaks for issuer %q, but the policy trusts %q; build both from the same issuer", in.Issuer(), policy.Issuer))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	v := &Verifier{
		policy:    policy,
		keys:      keys,
		algs:      algs,
		audiences: make(map[string]bool, len(policy.Audiences)),
		types:     opts.AcceptedTypes,
		now:       opts.Now,
		cacheTTL:  opts.CacheTTL,
		intro:     opts.Introspector,
	}
	v.peeker, _ = keys.(peekingKeySet)
	for _, a := range policy.Audiences {
		v.audiences[a] = true
	}
	if v.types == nil {
		v.types = DefaultAcceptedTypes
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.cacheTTL <= 0 {
		v.cacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize > 0 {
		v.cache = newTokenCache(opts.CacheSize)
	}
	return v, nil
}

// Policy returns the policy the verifier enforces.
func (v *Verifier) Policy() Policy { return v.policy }

// Stats returns cache counters.
func (v *Verifier) Stats() VerifierStats {
	st := VerifierStats{CacheHits: v.hits.Load(), CacheMisses: v.misses.Load()}
	if v.cache != nil {
		st.CacheEntries = v.cache.len()
	}
	if v.intro != nil {
		st.Introspection = v.intro.Stats()
	}
	return st
}

// TokenHash is the hex SHA-256 of a raw token: what audit lines and the cache carry instead of
// the token itself.
func TokenHash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// Verify checks raw and returns who it identifies. Every refusal is a *VerifyError. With an
// Introspector, a token not serialized like JOSE is introspected instead (see isJOSEShaped).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Identity, error) {
	if raw == "" {
		return nil, malformed("the token is empty")
	}
	if len(raw) > MaxTokenBytes {
		return nil, malformed("the token is %d bytes, more than the %d-byte limit", len(raw), MaxTokenBytes)
	}
	hash := TokenHash(raw)
	now := v.now()
	if v.intro != nil && !isJOSEShaped(raw) {
		return v.verifyOpaque(ctx, raw, hash, now)
	}
	if v.cache != nil {
		if id, hit, err := v.fromCache(ctx, hash, now); hit {
			v.hits.Add(1)
			return id, err
		}
		v.misses.Add(1)
	}
	entry, err := v.verify(ctx, raw, hash, now)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		entry.notAfter = entry.identity.Expiry.Add(v.policy.ClockSkew)
		if limit := now.Add(v.cacheTTL); limit.Before(entry.notAfter) {
			entry.notAfter = limit
		}
		v.cache.put(*entry)
	}
	return cloneIdentity(&entry.identity), nil
}

// fromCache answers from a cached success when that is still exactly what a full check would
// say: the clock is re-checked, and the key that verified the token must still be the one the
// key set hands out for its kid (a key dropped from the JWKS drops its tokens too).
func (v *Verifier) fromCache(ctx context.Context, hash string, now time.Time) (id *Identity, hit bool, err error) {
	e, ok := v.cache.get(hash, now)
	if !ok {
		return nil, false, nil
	}
	if err := v.checkValidity(e.identity.NotBefore, e.identity.Expiry, now); err != nil {
		v.cache.remove(hash)
		return nil, true, err
	}
	key, err := v.keys.KeyFor(ctx, e.identity.KeyID, e.alg)
	if err != nil || key != e.key {
		// A failed or changed key lookup is a cache miss, not a verdict: the full
		// verification that follows reports the error with its reason.
		v.cache.remove(hash)
		return nil, false, nil //nolint:nilerr // see above
	}
	return cloneIdentity(&e.identity), true, nil
}

func (v *Verifier) verify(ctx context.Context, raw, hash string, now time.Time) (*cachedToken, error) {
	if err := precheckSerialization(raw); err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, &VerifyError{Reason: ReasonAlgorithm,
				Detail: fmt.Sprintf("header alg %q is not in the allowed list %v", algErr.Got, v.policy.Algorithms)}
		}
		return nil, malformed("not a compact JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, malformed("expected exactly one signature, found %d", len(jws.Signatures))
	}
	hdr := jws.Signatures[0].Header
	if err := v.checkHeader(hdr); err != nil {
		return nil, err
	}
	alg := hdr.Algorithm
	key, err := v.keyFor(ctx, jws, hdr.KeyID, alg, now)
	if err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, &VerifyError{Reason: ReasonKeysUnavailable, Detail: err.Error()}
	}
	payload, err := jws.Verify(key.Key)
	if errors.Is(err, jose.ErrUnsupportedCriticalHeader) {
		// checkHeader refuses every crit already; this keeps the reason right should go-jose
		// ever find one there that we did not.
		return nil, &VerifyError{Reason: ReasonUnsupportedCritical, Detail: "the token marks a header critical that go-jose does not support"}
	}
	if err != nil {
		return nil, &VerifyError{Reason: ReasonSignature, Detail: fmt.Sprintf("signature does not verify with kid %q", hdr.KeyID)}
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	id, err := v.checkClaims(claims, now)
	if err != nil {
		return nil, err
	}
	id.KeyID = hdr.KeyID
	id.TokenHash = hash
	return &cachedToken{hash: hash, identity: *id, key: key, alg: alg}, nil
}

// precheckSerialization names the serializations we refuse before go-jose sees them, so the
// audit reason says what the client actually sent.
func precheckSerialization(raw string) error {
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return malformed("JWS JSON serialization is not accepted; send the compact token")
	}
	switch strings.Count(raw, ".") {
	case 2:
		// Go's base64 decoder skips CR and LF, so without this check "token\n" would verify as
		// a second spelling of the same token with a different hash.
		for i := 0; i < len(raw); i++ {
			if !isCompactByte(raw[i]) {
				return malformed("the token contains a byte (0x%02x) outside base64url and '.'", raw[i])
			}
		}
		for i, seg := range strings.SplitN(raw, ".", 3) {
			if !canonicalBase64(seg) {
				return malformed("part %d of the token is not canonical unpadded base64url", i+1)
			}
		}
		return nil
	case 4:
		return malformed("encrypted tokens (JWE) are not accepted; send the signed access token")
	default:
		return malformed("a compact JWS has exactly three dot-separated parts")
	}
}

// canonicalBase64 refuses the spellings a lenient decoder maps onto the same bytes (non-zero
// padding bits in the last character). Without it one signed token has many spellings that
// all verify, each with its own hash, and audit lines or the cache could not tell they are
// one token.
func canonicalBase64(seg string) bool {
	switch len(seg) % 4 {
	case 1:
		return false
	case 2:
		return base64urlValue(seg[len(seg)-1])&0x0f == 0
	case 3:
		return base64urlValue(seg[len(seg)-1])&0x03 == 0
	}
	return true
}

func base64urlValue(b byte) byte {
	switch {
	case b >= 'A' && b <= 'Z':
		return b - 'A'
	case b >= 'a' && b <= 'z':
		return b - 'a' + 26
	case b >= '0' && b <= '9':
		return b - '0' + 52
	case b == '-':
		return 62
	}
	return 63
}

func isCompactByte(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.'
}

func (v *Verifier) checkHeader(hdr jose.Header) error {
	if _, ok := hdr.ExtraHeaders["b64"]; ok {
		return malformed("the b64 header (unencoded payload) is not accepted in tokens")
	}
	// RFC 7515 §4.1.11: a verifier must refuse a token whose crit names an extension it does
	// not process, and this verifier processes none (b64, the one go-jose knows, is refused
	// above). Checked before the key lookup, so such a token never costs a JWKS fetch either.
	if crit, ok := hdr.ExtraHeaders["crit"]; ok {
		return &VerifyError{Reason: ReasonUnsupportedCritical,
			Detail: fmt.Sprintf("the token marks %s critical; no JWS extension is supported", critNames(crit))}
	}
	typ, present := hdr.ExtraHeaders[jose.HeaderType]
	if !present {
		return nil
	}
	s, ok := typ.(string)
	if !ok {
		return &VerifyError{Reason: ReasonTokenTypeRejected, Detail: "the typ header is not a string"}
	}
	for _, t := range v.types {
		if strings.EqualFold(t, s) {
			return nil
		}
	}
	return &VerifyError{Reason: ReasonTokenTypeRejected,
		Detail: fmt.Sprintf("typ %q is not an access or ID token type (accepted: %s)", s, strings.Join(v.types, ", "))}
}

// critNames renders a crit value for the audit detail, bounded because the token chose it.
func critNames(v any) string {
	list, ok := v.([]any)
	if !ok {
		return "headers " + describe(v)
	}
	const shown = 4
	names := make([]string, 0, min(len(list), shown))
	for _, n := range list[:min(len(list), shown)] {
		s, _ := n.(string)
		names = append(names, s)
	}
	out := fmt.Sprintf("headers %q", names)
	if len(list) > shown {
		out += fmt.Sprintf(" and %d more", len(list)-shown)
	}
	return out
}

// checkValidity applies exp and nbf with the policy's skew; used on every cache hit too.
func (v *Verifier) checkValidity(nbf, exp, now time.Time) error {
	skew := v.policy.ClockSkew
	if !now.Before(exp.Add(skew)) {
		return &VerifyError{Reason: ReasonExpired,
			Detail: fmt.Sprintf("expired at %s (now %s, skew %s)", exp.Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)}
	}
	if !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return &VerifyError{Reason: ReasonNotYetValid,
			Detail: fmt.Sprintf("not valid before %s (now %s, skew %s)", nbf.Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)}
	}
	return nil
}

func (v *Verifier) checkClaims(c claimSet, now time.Time) (*Identity, error) {
	return v.checkClaimSet(c, now, false)
}

// checkClaimSet is the policy. introspected relaxes exactly one rule, for an RFC 7662 answer
// without iat (PingFederate sends none): the lifetime cap then bounds what is left of the
// token, exp−now, because the issuer vouched for it just now and nobody can use it longer
// than that. exp stays required: an answer without it could be neither bounded nor cached.
func (v *Verifier) checkClaimSet(c claimSet, now time.Time, introspected bool) (*Identity, error) {
	if iss, _ := c["iss"].(string); iss != v.policy.Issuer {
		return nil, &VerifyError{Reason: ReasonIssuer, Detail: fmt.Sprintf("iss %v is not the trusted issuer %q", describe(c["iss"]), v.policy.Issuer)}
	}

	aud, err := c.audiences()
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return v.audiences[a] }) {
		return nil, &VerifyError{Reason: ReasonAudience, Detail: fmt.Sprintf("aud %q contains none of %q", aud, v.policy.Audiences)}
	}

	exp, hasExp, err := c.numericDate("exp")
	if err != nil {
		return nil, err
	}
	iat, hasIat, err := c.numericDate("iat")
	if err != nil {
		return nil, err
	}
	nbf, _, err := c.numericDate("nbf")
	if err != nil {
		return nil, err
	}
	switch {
	case introspected && !hasExp:
		return nil, &VerifyError{Reason: ReasonMissingTimes, Detail: "the introspection answer has no exp, so the token's lifetime cannot be bounded"}
	case !introspected && (!hasExp || !hasIat):
		return nil, &VerifyError{Reason: ReasonMissingTimes, Detail: "exp and iat are both required, so the token's lifetime can be bounded"}
	}
	if err := v.checkValidity(nbf, exp, now); err != nil {
		return nil, err
	}
	if err := v.checkLifetime(iat, hasIat, exp, now); err != nil {
		return nil, err
	}

	scopes, err := c.scopes()
	if err != nil {
		return nil, err
	}
	for _, s := range v.policy.RequiredScopes {
		if !slices.Contains(scopes, s) {
			return nil, &VerifyError{Reason: ReasonMissingScope, Detail: fmt.Sprintf("required scope %q is not granted (scopes: %q)", s, scopes)}
		}
	}
	for _, s := range v.policy.ForbiddenScopes {
		if slices.Contains(scopes, s) {
			return nil, &VerifyError{Reason: ReasonForbiddenScope, Detail: fmt.Sprintf("scope %q is forbidden by policy", s)}
		}
	}

	groups, err := c.groups(v.policy.GroupsClaim)
	if err != nil {
		return nil, err
	}
	sub, err := c.optionalString("sub")
	if err != nil {
		return nil, err
	}
	clientID, err := c.optionalString("client_id")
	if err != nil {
		return nil, err
	}
	return &Identity{
		Claims:    c,
		Subject:   sub,
		Name:      c.name(v.policy.NameClaims, sub, clientID),
		Groups:    groups,
		Scopes:    scopes,
		Audience:  aud,
		IssuedAt:  iat,
		NotBefore: nbf,
		Expiry:    exp,
		ClientID:  clientID,
	}, nil
}

// checkLifetime applies iat and the lifetime cap; without iat (introspection only, see
// checkClaimSet) the cap bounds the remaining lifetime.
func (v *Verifier) checkLifetime(iat time.Time, hasIat bool, exp, now time.Time) error {
	if !hasIat {
		if left := exp.Sub(now); left > v.policy.MaxTokenLifetime {
			return &VerifyError{Reason: ReasonLifetimeTooLong,
				Detail: fmt.Sprintf("the introspection answer has no iat and the token is valid for %s more, above the policy maximum lifetime %s; shorten the token lifetime at the issuer", left.Round(time.Second), v.policy.MaxTokenLifetime)}
		}
		return nil
	}
	if now.Add(v.policy.ClockSkew).Before(iat) {
		return &VerifyError{Reason: ReasonIssuedInFuture,
			Detail: fmt.Sprintf("issued at %s, after now (%s) plus skew %s", iat.Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.policy.ClockSkew)}
	}
	if exp.Before(iat) {
		return malformed("exp (%s) is before iat (%s)", exp.Format(time.RFC3339), iat.Format(time.RFC3339))
	}
	if life := exp.Sub(iat); life > v.policy.MaxTokenLifetime {
		return &VerifyError{Reason: ReasonLifetimeTooLong,
			Detail: fmt.Sprintf("lifetime exp−iat is %s, above the policy maximum %s; shorten the token lifetime at the issuer", life, v.policy.MaxTokenLifetime)}
	}
	return nil
}

// cloneIdentity gives every caller its own slices, so one caller editing its Identity cannot
// change what the cache hands the next.
func cloneIdentity(id *Identity) *Identity {
	out := *id
	out.Groups = slices.Clone(id.Groups)
	out.Scopes = slices.Clone(id.Scopes)
	out.Audience = slices.Clone(id.Audience)
	return &out
}

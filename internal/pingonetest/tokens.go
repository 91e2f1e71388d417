package pingonetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TokenOptions describes an access token. The zero value is a user access token for the
// PingOne API as PingOne issues it: RS256 with the active kid, client_id, iss, iat, exp, aud
// array, scope, sub, sid, env and org. Fields beyond that exist so tests can produce the exact
// bad token they need.
type TokenOptions struct {
	Subject   string   // default DefaultUserID
	ClientID  string   // default DefaultAppClientID
	Audience  []string // default [APIAudience]
	Scope     string   // space-separated; default "openid profile email"
	SessionID string   // default DefaultSessionID
	// ClientCredentials shapes a worker token: no sub, sid or scope (unless set explicitly),
	// plus a jti, and the worker client id by default.
	ClientCredentials bool

	// Groups, when non-nil, is put at GroupsClaim (a dot path, default "groups"); PingOne only
	// sends groups when an attribute mapping is configured, so nil means no claim at all.
	Groups      []string
	GroupsClaim string

	Lifetime  time.Duration // exp - iat; default the server's token lifetime
	IssuedAt  time.Time     // default the server clock
	NotBefore time.Time     // PingOne sends no nbf; set to add one
	Expiry    time.Time     // overrides IssuedAt + Lifetime
	Issuer    string        // overrides the real issuer

	// Extra top-level claims, applied after everything above, so they can also replace any
	// standard claim with a value of the wrong type.
	Extra map[string]any
	// Omit removes top-level claims last, e.g. "exp" or "iat".
	Omit []string

	// KeyID replaces the kid header (e.g. with an unknown kid); OmitKeyID drops it.
	KeyID     string
	OmitKeyID bool
	// Algorithm replaces RS256: another RSA algorithm (RS384, RS512, PS256, ...) signs with the
	// active key, HS256/HS384/HS512 sign with the active public key's PEM as HMAC secret (the
	// classic algorithm-confusion forgery), and "none" leaves the token unsigned.
	Algorithm string
}

// Claims returns the claim set opts describes, without signing it.
func (s *Server) Claims(opts TokenOptions) map[string]any {
	now := opts.IssuedAt
	if now.IsZero() {
		now = s.now()
	}
	lifetime := opts.Lifetime
	if lifetime == 0 {
		lifetime = s.tokenLifetime
	}
	exp := opts.Expiry
	if exp.IsZero() {
		exp = now.Add(lifetime)
	}
	aud := opts.Audience
	if aud == nil {
		aud = []string{APIAudience}
	}
	c := map[string]any{
		"iss": s.Issuer(),
		"iat": now.Unix(),
		"exp": exp.Unix(),
		"aud": aud,
	}
	if opts.Issuer != "" {
		c["iss"] = opts.Issuer
	}
	if !opts.NotBefore.IsZero() {
		c["nbf"] = opts.NotBefore.Unix()
	}
	if opts.ClientCredentials {
		c["client_id"] = firstNonEmpty(opts.ClientID, s.worker[0])
		c["jti"] = newUUID()
		setIf(c, "sub", opts.Subject)
		setIf(c, "sid", opts.SessionID)
		setIf(c, "scope", opts.Scope)
	} else {
		c["client_id"] = firstNonEmpty(opts.ClientID, DefaultAppClientID)
		c["sub"] = firstNonEmpty(opts.Subject, DefaultUserID)
		c["sid"] = firstNonEmpty(opts.SessionID, DefaultSessionID)
		c["scope"] = firstNonEmpty(opts.Scope, "openid profile email")
	}
	// PingOne adds env and org only when the token is meant for its own API.
	for _, a := range aud {
		if a == APIAudience {
			c["env"] = s.env
			c["org"] = s.org
			break
		}
	}
	if opts.Groups != nil {
		setPath(c, firstNonEmpty(opts.GroupsClaim, "groups"), append([]string{}, opts.Groups...))
	}
	for k, v := range opts.Extra {
		c[k] = v
	}
	for _, k := range opts.Omit {
		delete(c, k)
	}
	return c
}

// IssueToken mints a compact JWS for opts. It panics only on impossible signing failures or an
// Algorithm the fixture does not know, both programming errors in the calling test.
func (s *Server) IssueToken(opts TokenOptions) string {
	payload, err := json.Marshal(s.Claims(opts))
	if err != nil {
		panic(fmt.Sprintf("pingonetest: claims are not JSON: %v", err))
	}
	key := s.activeKey()
	kid := key.kid
	if opts.KeyID != "" {
		kid = opts.KeyID
	}
	if opts.OmitKeyID {
		kid = ""
	}
	alg := jose.SignatureAlgorithm(firstNonEmpty(opts.Algorithm, string(jose.RS256)))

	var signingKey any
	switch alg {
	case "none":
		return unsignedToken(kid, payload)
	case jose.HS256, jose.HS384, jose.HS512:
		signingKey = key.publicKeyPEM()
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		signingKey = key.priv
	default:
		panic(fmt.Sprintf("pingonetest: TokenOptions.Algorithm %q is not supported; use an RS*/PS* algorithm, HS256/384/512 or none", alg))
	}
	if kid != "" {
		signingKey = jose.JSONWebKey{Key: signingKey, KeyID: kid}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signingKey}, nil)
	if err != nil {
		panic(fmt.Sprintf("pingonetest: new %s signer: %v", alg, err))
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(fmt.Sprintf("pingonetest: sign: %v", err))
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("pingonetest: serialize: %v", err))
	}
	return compact
}

// ForgeNone returns the token opts describes with alg "none" and an empty signature.
func (s *Server) ForgeNone(opts TokenOptions) string {
	opts.Algorithm = "none"
	return s.IssueToken(opts)
}

// ForgeHS256WithPublicKey returns the token opts describes, HMAC-signed with the active public
// key's PEM: it verifies only in a verifier that lets the token choose its algorithm.
func (s *Server) ForgeHS256WithPublicKey(opts TokenOptions) string {
	opts.Algorithm = string(jose.HS256)
	return s.IssueToken(opts)
}

// Tamper replaces claims in token's payload and keeps its header and signature, producing a
// token whose signature no longer matches. A nil value deletes the claim.
func Tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		panic("pingonetest: Tamper needs a compact JWS with three parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		panic("pingonetest: Tamper: payload is not base64url: " + err.Error())
	}
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		panic("pingonetest: Tamper: payload is not a JSON object: " + err.Error())
	}
	for k, v := range claims {
		if v == nil {
			delete(payload, k)
			continue
		}
		payload[k] = v
	}
	raw, err = json.Marshal(payload)
	if err != nil {
		panic("pingonetest: Tamper: " + err.Error())
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// unsignedToken is built by hand because go-jose, rightly, cannot produce alg "none".
func unsignedToken(kid string, payload []byte) string {
	header := map[string]string{"alg": "none"}
	if kid != "" {
		header["kid"] = kid
	}
	h, _ := json.Marshal(header)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// setPath stores v under a dot path, creating nested objects, so tests can model mappings
// such as "realm_access.roles".
func setPath(c map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := c
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func setIf(c map[string]any, k, v string) {
	if v != "" {
		c[k] = v
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

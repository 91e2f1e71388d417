package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet finds the public key for a token's kid and alg. Implementations return a
// *VerifyError with ReasonUnknownKey or ReasonKeysUnavailable when no key can be used, and
// only ever return keys whose type fits alg, so the token header cannot steer verification
// to a different algorithm family (RFC 8725 §2.1).
type KeySet interface {
	KeyFor(ctx context.Context, kid, alg string) (*jose.JSONWebKey, error)
}

// minRSABits follows RFC 7518 §3.3: smaller RSA keys are skipped, never trusted.
const minRSABits = 2048

// keyEntry is one usable signing key. Entries are reused across JWKS refreshes when the key is
// unchanged, so pointer identity means "the same key is still published".
type keyEntry struct {
	jwk        *jose.JSONWebKey
	keyType    string
	thumbprint string
}

// keyIndex is a parsed JWKS restricted to keys that may verify signatures.
type keyIndex struct {
	byKID map[string][]*keyEntry
	count int
}

// lookup reports found=false only when the JWKS has no key with this kid at all; that is the
// one case in which refetching the JWKS can help.
func (ix *keyIndex) lookup(kid, alg string) (key *jose.JSONWebKey, found bool, err error) {
	if kid == "" {
		return ix.lookupWithoutKID(alg)
	}
	entries, ok := ix.byKID[kid]
	if !ok {
		return nil, false, nil
	}
	var fitting []*keyEntry
	for _, e := range entries {
		if keyFitsAlgorithm(e.jwk, alg) {
			fitting = append(fitting, e)
		}
	}
	switch len(fitting) {
	case 1:
		return fitting[0].jwk, true, nil
	case 0:
		return nil, true, &VerifyError{Reason: ReasonUnknownKey,
			Detail: fmt.Sprintf("the issuer's JWKS has kid %q but no key of it can verify %s", kid, alg)}
	default:
		// Choosing one would let whoever controls ordering decide which key is trusted.
		return nil, true, &VerifyError{Reason: ReasonUnknownKey,
			Detail: fmt.Sprintf("the issuer's JWKS publishes %d different %s keys under kid %q; refusing rather than picking one", len(fitting), alg, kid)}
	}
}

// lookupWithoutKID serves tokens whose header has no kid (RFC 7515 makes it optional): only
// when exactly one published key can verify alg is the choice unambiguous. With several, the
// token could be checked against each, but then the issuer's key list, not the token, decides
// which key is trusted; refuse instead.
func (ix *keyIndex) lookupWithoutKID(alg string) (*jose.JSONWebKey, bool, error) {
	var fitting []*keyEntry
	seen := map[string]bool{}
	for _, entries := range ix.byKID {
		for _, e := range entries {
			if keyFitsAlgorithm(e.jwk, alg) && !seen[e.thumbprint] {
				seen[e.thumbprint] = true
				fitting = append(fitting, e)
			}
		}
	}
	switch len(fitting) {
	case 0:
		return nil, false, nil
	case 1:
		return fitting[0].jwk, true, nil
	default:
		return nil, true, &VerifyError{Reason: ReasonUnknownKey,
			Detail: fmt.Sprintf("the token has no kid and the issuer publishes %d %s keys; the signing key cannot be chosen safely", len(fitting), alg)}
	}
}

// keyFitsAlgorithm ties the algorithm family to the key type, and honours the key's own alg.
func keyFitsAlgorithm(k *jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.ES256:
			return key.Curve == elliptic.P256()
		case jose.ES384:
			return key.Curve == elliptic.P384()
		case jose.ES512:
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return jose.SignatureAlgorithm(alg) == jose.EdDSA
	}
	return false
}

// jwkHeader is read before go-jose parses a key, so encryption and symmetric keys are skipped
// without being interpreted at all.
type jwkHeader struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
}

// parseJWKS keeps the keys that can verify signatures: public RSA (≥2048 bits), EC and Ed25519
// keys not marked for encryption. Private members, if an issuer ever leaks them, are dropped.
// Identical duplicates collapse; different keys under one kid are kept and refused at lookup.
func parseJWKS(data []byte, previous *keyIndex) (*keyIndex, error) {
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`not a JWK Set: there is no "keys" array`)
	}
	ix := &keyIndex{byKID: map[string][]*keyEntry{}}
	var skipped []string
	for i, raw := range *doc.Keys {
		entry, why := parseSigningKey(raw)
		if entry == nil {
			skipped = append(skipped, fmt.Sprintf("keys[%d]: %s", i, why))
			continue
		}
		kid := entry.jwk.KeyID
		if prev := previous.find(kid, entry.thumbprint); prev != nil {
			entry = prev
		}
		dup := false
		for _, e := range ix.byKID[kid] {
			if e.thumbprint == entry.thumbprint {
				dup = true
				break
			}
		}
		if !dup {
			ix.byKID[kid] = append(ix.byKID[kid], entry)
			ix.count++
		}
	}
	if ix.count == 0 {
		msg := "the JWK Set has no usable signing keys"
		if len(skipped) > 0 {
			msg += " (" + strings.Join(skipped, "; ") + ")"
		}
		return nil, errors.New(msg)
	}
	return ix, nil
}

func (ix *keyIndex) find(kid, thumbprint string) *keyEntry {
	if ix == nil {
		return nil
	}
	for _, e := range ix.byKID[kid] {
		if e.thumbprint == thumbprint {
			return e
		}
	}
	return nil
}

// parseSigningKey returns nil and the reason when a key is not a usable verification key.
func parseSigningKey(raw json.RawMessage) (*keyEntry, string) {
	var h jwkHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, "not a JSON object"
	}
	if h.Use != "" && h.Use != "sig" {
		return nil, fmt.Sprintf("use %q is not sig", h.Use)
	}
	if len(h.KeyOps) > 0 && !contains(h.KeyOps, "verify") {
		return nil, "key_ops does not include verify"
	}
	switch h.Kty {
	case "RSA", "EC", "OKP":
	default:
		return nil, fmt.Sprintf("kty %q cannot verify asymmetric signatures", h.Kty)
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Sprintf("unparseable %s key: %v", h.Kty, err)
	}
	if !k.IsPublic() {
		pub := k.Public()
		k = pub
	}
	if !k.Valid() {
		return nil, "invalid key material"
	}
	if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
		return nil, fmt.Sprintf("RSA key of %d bits is below the %d-bit minimum", rk.N.BitLen(), minRSABits)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Sprintf("cannot compute thumbprint: %v", err)
	}
	return &keyEntry{jwk: &k, keyType: h.Kty, thumbprint: base64.RawURLEncoding.EncodeToString(tp)}, ""
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// StaticKeySet is a pinned JWKS for air-gapped setups: it never fetches, so an unknown kid is
// simply refused.
type StaticKeySet struct {
	index *keyIndex
}

// NewStaticKeySet parses a pinned JWK Set; it fails when no key could verify a signature.
func NewStaticKeySet(jwksJSON []byte) (*StaticKeySet, error) {
	ix, err := parseJWKS(jwksJSON, nil)
	if err != nil {
		return nil, fmt.Errorf("pinned JWKS: %w", err)
	}
	return &StaticKeySet{index: ix}, nil
}

// KeyFor implements KeySet.
func (s *StaticKeySet) KeyFor(_ context.Context, kid, alg string) (*jose.JSONWebKey, error) {
	key, found, err := s.index.lookup(kid, alg)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &VerifyError{Reason: ReasonUnknownKey,
			Detail: fmt.Sprintf("kid %q is not in the pinned JWKS; update the pinned keys after a rotation", kid)}
	}
	return key, nil
}

// KeyFingerprint identifies one published signing key without its key material, so a key
// rotation at the issuer shows up as a change in Terraform state.
type KeyFingerprint struct {
	KID       string `json:"kid"`
	KeyType   string `json:"kty"`
	Algorithm string `json:"alg,omitempty"`
	Use       string `json:"use,omitempty"`
	// Thumbprint is the RFC 7638 SHA-256 thumbprint, base64url without padding.
	Thumbprint string `json:"thumbprint"`
}

// KeyFingerprints lists the JWKS's signing keys sorted by kid, then thumbprint, so the same
// key set always renders the same way.
func KeyFingerprints(jwksJSON []byte) ([]KeyFingerprint, error) {
	ix, err := parseJWKS(jwksJSON, nil)
	if err != nil {
		return nil, err
	}
	out := make([]KeyFingerprint, 0, ix.count)
	for _, entries := range ix.byKID {
		for _, e := range entries {
			out = append(out, KeyFingerprint{
				KID:        e.jwk.KeyID,
				KeyType:    e.keyType,
				Algorithm:  e.jwk.Algorithm,
				Use:        e.jwk.Use,
				Thumbprint: e.thumbprint,
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].KID != out[j].KID {
			return out[i].KID < out[j].KID
		}
		return out[i].Thumbprint < out[j].Thumbprint
	})
	return out, nil
}

// FetchJWKS downloads a JWK Set and checks that it holds at least one usable signing key.
func FetchJWKS(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	body, err := getDocument(ctx, client, url)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	if _, err := parseJWKS(body, nil); err != nil {
		return nil, fmt.Errorf("JWKS at %s: %w", url, err)
	}
	return body, nil
}

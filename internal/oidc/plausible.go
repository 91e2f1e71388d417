package oidc

import (
	"context"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// peekingKeySet is a key set that can answer from what it already holds, without fetching.
// The verifier uses it to decide whether a kid it does not know is worth a JWKS fetch.
type peekingKeySet interface {
	KeySet
	// peek is KeyFor without a fetch; found=false means a fetch could still find the key.
	peek(kid, alg string) (key *jose.JSONWebKey, found bool, err error)
	// miss is the refusal for a kid that was not fetched for, and why.
	miss(kid, why string) error
}

// keyFor finds the key for a token. A kid the key set does not hold is fetched for only when
// the token could pass if that kid's key existed; a token refused whatever the key is costs
// the issuer nothing.
func (v *Verifier) keyFor(ctx context.Context, jws *jose.JSONWebSignature, kid, alg string, now time.Time) (*jose.JSONWebKey, error) {
	pk := v.peeker
	if pk == nil {
		return v.keys.KeyFor(ctx, kid, alg)
	}
	if key, found, err := pk.peek(kid, alg); found {
		return key, err
	}
	if why := v.whyNotWorthAFetch(jws, alg, now); why != "" {
		return nil, pk.miss(kid, why)
	}
	return pk.KeyFor(ctx, kid, alg)
}

// whyNotWorthAFetch says why no key could make the token pass, or "" when one could. Without
// the key only two things are sound to check: that the signature has a length some key the
// verifier would accept can produce, and that the claims pass the policy (they are checked
// again after the signature, so reading them unverified here decides nothing but the fetch).
// A deliberate forger passes both, so UnknownKIDInterval stays the defence against floods;
// these checks spare the issuer the stream of stale or foreign tokens that leaked and
// misconfigured clients keep presenting (the Lixpi JWKS storm).
func (v *Verifier) whyNotWorthAFetch(jws *jose.JSONWebSignature, alg string, now time.Time) string {
	if n := len(jws.Signatures[0].Signature); !plausibleSignatureLength(alg, n) {
		return fmt.Sprintf("a %d-byte signature cannot be %s by a key this verifier accepts", n, alg)
	}
	claims, err := decodeClaims(jws.UnsafePayloadWithoutVerification())
	if err == nil {
		_, err = v.checkClaims(claims, now)
	}
	if err != nil {
		return "the token would be refused with any key: " + err.Error()
	}
	return ""
}

// plausibleSignatureLength knows the signature sizes of the supported algorithms: RSA
// signatures are as long as the modulus (keys under 2048 bits are never used), ECDSA ones are
// two fixed-size integers, Ed25519 ones 64 bytes.
func plausibleSignatureLength(alg string, n int) bool {
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		return n >= minRSABits/8
	case jose.ES256, jose.EdDSA:
		return n == 64
	case jose.ES384:
		return n == 96
	case jose.ES512:
		return n == 132
	}
	return false
}

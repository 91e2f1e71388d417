package oidc

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Bounds of a token sent for introspection. A reference token is a handle, not a claim set:
// RFC 6749 §10.10 wants a guessing chance of at most 2^-128, which the 66 characters of an RFC
// 6750 b64token cannot carry in fewer than 22 characters, so a shorter string is a password or
// a typo and is never sent to the issuer; one longer than 4 KiB is not a handle either.
const (
	MinOpaqueTokenBytes = 22
	MaxOpaqueTokenBytes = 4 << 10
)

// isJOSEShaped reports whether raw is serialized like a JOSE object: a JWS or JWE compact
// token (two or four dots) or a JSON serialization. Such a token is always decided locally,
// never introspected: a malformed or forged JWT is refused as malformed without the issuer
// hearing of it, and a JWE stays refused as before. Everything else is a reference token.
// An issuer whose opaque tokens contain exactly two or four dots is therefore not supported;
// PingFederate's reference tokens contain none.
func isJOSEShaped(raw string) bool {
	switch strings.Count(raw, ".") {
	case 2, 4:
		return true
	}
	return strings.HasPrefix(strings.TrimSpace(raw), "{")
}

// checkOpaqueToken applies the RFC 6750 §2.1 b64token syntax and the length bounds before a
// token may leave the process. The detail names the offending byte, never the token.
func checkOpaqueToken(raw string) error {
	if n := len(raw); n < MinOpaqueTokenBytes || n > MaxOpaqueTokenBytes {
		return malformed("not a JWT, and %d bytes is outside the %d–%d bytes of a reference token", n, MinOpaqueTokenBytes, MaxOpaqueTokenBytes)
	}
	body := strings.TrimRight(raw, "=")
	if body == "" {
		return malformed("not a JWT, and a reference token cannot be only padding")
	}
	for i := 0; i < len(body); i++ {
		if !isB64TokenByte(body[i]) {
			return malformed("not a JWT, and byte %d (0x%02x) is outside the b64token characters of a bearer token (RFC 6750 §2.1)", i, body[i])
		}
	}
	return nil
}

func isB64TokenByte(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' ||
		b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/'
}

// verifyOpaque decides a reference token by the issuer's answer about it. The answer passes
// the same policy as a JWT's claims, so a mapping sees the same Identity either way; the one
// rule an answer adds is that the token is a bearer token, because a NATS client cannot prove
// possession of a key a DPoP- or otherwise bound token is tied to.
func (v *Verifier) verifyOpaque(ctx context.Context, raw, hash string, now time.Time) (*Identity, error) {
	if err := checkOpaqueToken(raw); err != nil {
		return nil, err
	}
	ans, verr := v.intro.lookup(ctx, raw, hash, now)
	if verr != nil {
		return nil, verr
	}
	if tt, present := ans.claims["token_type"]; present {
		if s, ok := tt.(string); !ok || !strings.EqualFold(s, "bearer") {
			return nil, &VerifyError{Reason: ReasonTokenTypeRejected,
				Detail: fmt.Sprintf("the issuer says the token's type is %s; only bearer tokens can be presented to NATS", describe(tt))}
		}
	}
	id, err := v.checkClaimSet(ans.claims, now, true)
	if err != nil {
		return nil, err
	}
	id.TokenHash = hash
	return id, nil
}

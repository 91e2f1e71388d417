package natsjwt

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
)

// Decoded is a NATS JWT taken apart for display and checks.
type Decoded struct {
	// Kind is the claim type: "operator", "account", "user", "activation", ...
	Kind string
	// Claims is the payload as generic JSON (numbers are float64), ready for jsonencode.
	Claims map[string]any
	// SignatureValid reports whether the signature verifies against the issuer in the
	// claims and the issuer is of a kind allowed to sign this claim type.
	SignatureValid bool
	// VerifyError explains why SignatureValid is false.
	VerifyError error
}

// DecodeAny decodes any NATS JWT without trusting it: a token whose signature does not
// verify is still returned (with SignatureValid false) so tools can show what it claims.
// Only a token that is not a JWT at all is an error.
func DecodeAny(token string) (Decoded, error) {
	token = strings.TrimSpace(token)
	if len(token) > jwt.MaxTokenSize {
		return Decoded{}, fmt.Errorf("the token is %d bytes, more than the NATS maximum of %d", len(token), jwt.MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Decoded{}, fmt.Errorf("not a JWT: expected three dot-separated parts, found %d", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Decoded{}, fmt.Errorf("not a JWT: the payload is not base64url: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return Decoded{}, fmt.Errorf("not a JWT: the payload is not a JSON object: %v", err)
	}
	out := Decoded{Claims: claims, Kind: claimKind(claims)}
	if _, err := jwt.Decode(token); err != nil {
		out.VerifyError = err
	} else {
		out.SignatureValid = true
	}
	return out, nil
}

func claimKind(claims map[string]any) string {
	if nats, ok := claims["nats"].(map[string]any); ok {
		if t, ok := nats["type"].(string); ok {
			return t
		}
	}
	// v1 tokens kept the type at the top level.
	if t, ok := claims["type"].(string); ok {
		return t
	}
	return ""
}

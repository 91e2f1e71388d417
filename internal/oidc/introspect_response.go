package oidc

import (
	"errors"
	"fmt"
)

// maxIntrospectionBytes caps an introspection response. Real ones are well under a KiB plus
// the attribute contract (a long groups list); the cap keeps an endpoint that streams a huge
// body from exhausting memory or the cache's byte budget.
const maxIntrospectionBytes = 64 << 10

// errIntrospectionResponse is an answer that is not an RFC 7662 response. It is not a verdict
// on the token: the introspector treats it like an endpoint that did not answer.
var errIntrospectionResponse = errors.New("not an RFC 7662 introspection response")

// parseIntrospectionResponse reads an RFC 7662 §2.2 response. active is required and must be
// a JSON boolean; anything else (a string "true", a missing member, a non-object) is refused
// rather than read as either answer. For an inactive token no other member is returned: RFC
// 7662 §2.2 lets the issuer say nothing more, and nothing more may be trusted. For an active
// one the members are returned as a claim set without active, which is a property of the
// answer, not a claim of the token, so an Identity holds exactly what a JWT of the same
// claims would.
func parseIntrospectionResponse(body []byte) (active bool, claims claimSet, err error) {
	if len(body) > maxIntrospectionBytes {
		return false, nil, fmt.Errorf("%w: the body is larger than %d bytes", errIntrospectionResponse, maxIntrospectionBytes)
	}
	c, err := decodeObject(body, "body")
	if err != nil {
		detail := err.Error()
		if ve := (*VerifyError)(nil); errors.As(err, &ve) {
			detail = ve.Detail
		}
		return false, nil, fmt.Errorf("%w: %s", errIntrospectionResponse, detail)
	}
	v, ok := c["active"]
	if !ok {
		return false, nil, fmt.Errorf("%w: the required member active is missing", errIntrospectionResponse)
	}
	active, ok = v.(bool)
	if !ok {
		return false, nil, fmt.Errorf("%w: active must be a JSON boolean, got %s", errIntrospectionResponse, jsonType(v))
	}
	if !active {
		return false, nil, nil
	}
	delete(c, "active")
	return true, c, nil
}

package oidc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// claimSet is a decoded JWT payload. Numbers stay json.Number so NumericDates are read exactly
// and a float never silently truncates a timestamp.
type claimSet map[string]any

func decodeClaims(payload []byte) (claimSet, error) { return decodeObject(payload, "payload") }

// decodeObject reads exactly one JSON object; what names the input in refusals (a JWT's
// payload, an introspection response's body).
func decodeObject(data []byte, what string) (claimSet, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var c claimSet
	if err := dec.Decode(&c); err != nil {
		return nil, malformed("the %s is not a JSON object: %v", what, err)
	}
	if c == nil {
		return nil, malformed("the %s is JSON null, not a claims object", what)
	}
	if dec.More() {
		return nil, malformed("the %s has data after the claims object", what)
	}
	return c, nil
}

func malformed(format string, args ...any) *VerifyError {
	return &VerifyError{Reason: ReasonMalformed, Detail: fmt.Sprintf(format, args...)}
}

// optionalString returns "" for an absent claim and an error for a present non-string one.
func (c claimSet) optionalString(name string) (string, error) {
	v, ok := c[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", malformed("claim %q must be a string, got %s", name, jsonType(v))
	}
	return s, nil
}

// maxNumericDate keeps time.Unix far from overflow: year ~5138 is beyond any real token.
const maxNumericDate = 1e11

// numericDate reads an RFC 7519 NumericDate; present reports whether the claim exists.
func (c claimSet) numericDate(name string) (t time.Time, present bool, err error) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, malformed("claim %q must be a NumericDate (seconds since the epoch), got %s", name, jsonType(v))
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) >= maxNumericDate {
		return time.Time{}, true, malformed("claim %q is not a usable NumericDate: %s", name, n.String())
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// stringList accepts a single string or an array of strings; ok=false means another type.
func stringList(v any) (list []string, ok bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, item := range t {
			s, isStr := item.(string)
			if !isStr {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// audiences reads aud as a string or array of strings (RFC 7519 §4.1.3).
func (c claimSet) audiences() ([]string, error) {
	v, ok := c["aud"]
	if !ok {
		return nil, &VerifyError{Reason: ReasonAudience, Detail: "the token has no aud claim"}
	}
	list, ok := stringList(v)
	if !ok {
		return nil, &VerifyError{Reason: ReasonAudience, Detail: fmt.Sprintf("aud must be a string or an array of strings, got %s", jsonType(v))}
	}
	return list, nil
}

// scopes merges `scope` and `scp`, each a space-separated string or an array of strings.
// Ping uses `scope`; other issuers (and some Ping resources) use `scp`.
func (c claimSet) scopes() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, name := range []string{"scope", "scp"} {
		v, ok := c[name]
		if !ok {
			continue
		}
		var items []string
		switch t := v.(type) {
		case string:
			items = strings.Fields(t)
		default:
			list, isList := stringList(v)
			if !isList {
				return nil, malformed("claim %q must be a space-separated string or an array of strings, got %s", name, jsonType(v))
			}
			for _, s := range list {
				items = append(items, strings.Fields(s)...)
			}
		}
		for _, s := range items {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// ClaimAt resolves a claim path in a verified claim set, the one rule for every claim path
// (the groups claim, mapping claim conditions). A claim whose literal name contains dots (a
// namespaced claim such as "https://example.com/groups") wins over a nested walk, so such
// claims keep working; otherwise each dot descends into a JSON object. found is false for an
// absent claim; err names the segment that is not an object when the walk cannot continue.
func ClaimAt(claims map[string]any, path string) (v any, found bool, err error) {
	if v, ok := claims[path]; ok {
		return v, true, nil
	}
	var cur any = claims
	parts := strings.Split(path, ".")
	for i, part := range parts {
		obj, isObj := cur.(map[string]any)
		if !isObj {
			return nil, false, fmt.Errorf("claim path %q: %q is %s, not an object", path, strings.Join(parts[:i], "."), jsonType(cur))
		}
		var ok bool
		if cur, ok = obj[part]; !ok {
			return nil, false, nil
		}
	}
	return cur, true, nil
}

// groups resolves the configured claim path. An absent claim means no groups; any present
// value that is not a string or an array of strings is refused, because guessing at its
// meaning could grant roles nobody intended.
func (c claimSet) groups(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	v, ok, err := ClaimAt(c, path)
	if err != nil {
		return nil, &VerifyError{Reason: ReasonBadGroupsClaim, Detail: "groups " + err.Error()}
	}
	if !ok {
		return nil, nil
	}
	list, ok := stringList(v)
	if !ok {
		return nil, &VerifyError{Reason: ReasonBadGroupsClaim,
			Detail: fmt.Sprintf("groups claim %q must be a string or an array of strings, got %s", path, jsonType(v))}
	}
	return list, nil
}

// name returns the first non-empty string among the configured claims, then sub, then
// client_id (client-credentials tokens have no sub).
func (c claimSet) name(claims []string, sub, clientID string) string {
	for _, n := range claims {
		if s, ok := c[n].(string); ok && s != "" {
			return s
		}
	}
	if sub != "" {
		return sub
	}
	return clientID
}

// describe quotes a string claim and names the type of anything else, for refusal details.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if v == nil {
		return "(absent or null)"
	}
	return "(" + jsonType(v) + ")"
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any, claimSet:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

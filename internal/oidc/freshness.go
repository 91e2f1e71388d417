package oidc

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// freshness is how long a JWKS response may be reused according to its own headers (RFC 9111
// §4.2.1: max-age minus Age). ok is false when the issuer said nothing, so the caller's default
// applies; no-cache and no-store count as "fresh for no time", which the caller's floor turns
// into "as often as we allow".
func freshness(h http.Header) (fresh time.Duration, ok bool) {
	maxAge := -1
	for _, line := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
				if err != nil || n < 0 {
					// RFC 9111 §4.2.1: an invalid freshness lifetime means stale.
					return 0, true
				}
				// Several max-age directives are invalid too; the shortest is the safe reading.
				if maxAge < 0 || n < maxAge {
					maxAge = n
				}
			}
		}
	}
	if maxAge < 0 {
		return 0, false
	}
	// A CDN in front of the issuer reports how long it has held the response already.
	if age, err := strconv.Atoi(strings.TrimSpace(h.Get("Age"))); err == nil && age > 0 {
		maxAge -= age
	}
	return time.Duration(max(maxAge, 0)) * time.Second, true
}

package calloutconfig

import (
	"encoding/base32"
	"strings"
)

// The callout writes these tag values onto the users it admits, and natsping_offboarding
// reads them back from live connections (CONNZ) to find whom to close: one function for both,
// so the value the provider looks for is the value the callout wrote.

// IdentityTagValue renders a Ping subject or a service client id as a tag value that is
// one-to-one with it, so a role template using {{tag(ping-sub)}} can never give two people
// the same subjects. A value that is already tag-safe and lower case (PingOne's UUIDs) is kept
// as it is; any other is written as "_" + lower-case base32 of its bytes. Kept values never
// contain "_", so the two forms cannot meet. nats-io/jwt lower-cases tags, which is why
// upper-case values are encoded rather than kept.
func IdentityTagValue(sub string) string {
	plain := sub != ""
	for i := 0; i < len(sub) && plain; i++ {
		c := sub[i]
		plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if plain {
		return sub
	}
	return "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(sub)))
}

// NameTagValue keeps a role or mapping name usable both as a NATS tag and inside a subject
// produced by a role template ({{tag(x)}}): lower case, no whitespace, no subject separators
// or wildcards. It is not one-to-one ("a.b" and "a_b" meet), so whoever selects users by it
// must check that the names it cares about do not collide (see NameTagCollision).
func NameTagValue(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

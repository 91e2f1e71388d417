package offboard

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// Query is what the callout knows about one token when it has chosen a mapping.
type Query struct {
	Subject  string // the token's sub; "" for a client-credentials token
	ClientID string
	// IssuedAt is the token's iat (for opaque tokens the introspection answer's); zero when
	// absent, which any matching entry refuses, as the token's age is unknown.
	IssuedAt time.Time
	Mapping  string
	Account  string
	Role     string
}

// Set answers "is this token revoked" from a snapshot of entries; it is immutable.
type Set struct {
	byKey map[string]Entry
}

// NewSet indexes entries by key (a later entry with the same key replaces an earlier one).
func NewSet(entries []Entry) *Set {
	s := &Set{byKey: make(map[string]Entry, len(entries))}
	for _, e := range entries {
		s.byKey[e.Key()] = e
	}
	return s
}

// Len is the number of entries.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.byKey)
}

// With returns a copy of s with e added or replaced.
func (s *Set) With(e Entry) *Set {
	n := s.clone(1)
	n.byKey[e.Key()] = e
	return n
}

// Without returns a copy of s without the entry at key.
func (s *Set) Without(key string) *Set {
	n := s.clone(0)
	delete(n.byKey, key)
	return n
}

func (s *Set) clone(extra int) *Set {
	n := &Set{byKey: make(map[string]Entry, s.Len()+extra)}
	if s != nil {
		for k, v := range s.byKey {
			n.byKey[k] = v
		}
	}
	return n
}

// Entries returns the entries sorted by key.
func (s *Set) Entries() []Entry {
	if s == nil {
		return nil
	}
	keys := make([]string, 0, len(s.byKey))
	for k := range s.byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Entry, len(keys))
	for i, k := range keys {
		out[i] = s.byKey[k]
	}
	return out
}

// Match returns the entry that refuses the token, if any. Identities compare exactly (a sub
// is case-sensitive; only tags are lower-cased, and tags are not what is compared here). A
// client entry matches only tokens without sub, the tokens the callout admits as that client.
func (s *Set) Match(q Query) (Entry, bool) {
	if s.Len() == 0 {
		return Entry{}, false
	}
	var candidates [4]Entry
	n := 0
	if q.Subject != "" {
		candidates[n] = Entry{Kind: KindSubject, Value: q.Subject}
		n++
	} else if q.ClientID != "" {
		candidates[n] = Entry{Kind: KindClient, Value: q.ClientID}
		n++
	}
	if q.Mapping != "" {
		candidates[n] = Entry{Kind: KindMapping, Value: q.Mapping}
		n++
	}
	if q.Role != "" && q.Account != "" {
		candidates[n] = Entry{Kind: KindRole, Value: q.Role, Account: q.Account}
		n++
	}
	for _, c := range candidates[:n] {
		e, ok := s.byKey[c.Key()]
		if ok && e.Revokes(q.IssuedAt) {
			return e, true
		}
	}
	return Entry{}, false
}

// Revokes reports whether a token issued at iat falls before the cutoff; a token without iat
// always does.
func (e Entry) Revokes(iat time.Time) bool {
	return iat.IsZero() || iat.Unix() < e.Cutoff
}

// Detail is the audit line's explanation of a refusal by e.
func (e Entry) Detail(iat time.Time) string {
	issued := "without iat"
	if !iat.IsZero() {
		issued = "issued " + iat.UTC().Format(time.RFC3339)
	}
	if e.Cutoff >= neverReadmit {
		return fmt.Sprintf("%s is offboarded (its bucket value is unreadable, so every token is refused); token %s", e, issued)
	}
	return fmt.Sprintf("%s is offboarded from %s; token %s", e, e.CutoffTime().Format(time.RFC3339), issued)
}

// CheckAgainst refuses entries a callout document cannot match: a mapping it lacks, a role
// no mapping of that account grants. It also refuses a mapping or role whose tag value meets
// another mapping's or role's in the same account (NameTagValue folds case and punctuation),
// because closing its connections by tag would close the other's too.
func CheckAgainst(doc *calloutconfig.Document, entries []Entry) error {
	var errs []string
	for _, e := range entries {
		switch e.Kind {
		case KindMapping:
			var m *calloutconfig.Mapping
			var names []string
			for i := range doc.Mappings {
				names = append(names, doc.Mappings[i].Name)
				if doc.Mappings[i].Name == e.Value {
					m = &doc.Mappings[i]
				}
			}
			if m == nil {
				slices.Sort(names)
				errs = append(errs, fmt.Sprintf("mapping %q is not a mapping of the trust's callout config (known: %s)", e.Value, strings.Join(names, ", ")))
				continue
			}
			for _, o := range doc.Mappings {
				if o.Name != m.Name && o.Account == m.Account && calloutconfig.NameTagValue(o.Name) == calloutconfig.NameTagValue(m.Name) {
					errs = append(errs, fmt.Sprintf("mapping %q shares its tag %s:%s with mapping %q of the same account, so its connections "+
						"cannot be told apart; rename one of them", m.Name, calloutconfig.TagMapping, calloutconfig.NameTagValue(m.Name), o.Name))
				}
			}
		case KindRole:
			found := false
			var roles []string
			for _, m := range doc.Mappings {
				if m.Account != e.Account {
					continue
				}
				roles = append(roles, m.Role)
				found = found || m.Role == e.Value
			}
			if !found {
				slices.Sort(roles)
				roles = slices.Compact(roles)
				errs = append(errs, fmt.Sprintf("role %q of account %s is granted by no mapping of the trust's callout config (roles of that account: %s)",
					e.Value, e.Account, strings.Join(roles, ", ")))
				continue
			}
			for _, r := range roles {
				if r != e.Value && calloutconfig.NameTagValue(r) == calloutconfig.NameTagValue(e.Value) {
					errs = append(errs, fmt.Sprintf("role %q shares its tag %s:%s with role %q of the same account, so its connections "+
						"cannot be told apart; rename one of them", e.Value, calloutconfig.TagRole, calloutconfig.NameTagValue(e.Value), r))
					break
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

package access

import "strings"

// Match reports whether a permission entry (pattern, wildcards allowed) covers subject the
// way nats-server's sublist does. The subject's tokens are literals, even "*" and ">": a
// pattern '*' consumes any one of them, a pattern '>' consumes one or more, and a literal
// pattern token only equals the same literal. So Match("orders.*", "orders.>") is true and
// Match("orders.created", "orders.*") is false, which is what the server enforces for
// subscriptions on wildcard subjects. Malformed subjects (empty tokens) never match, as the
// sublist returns no result for them.
func Match(pattern, subject string) bool {
	if !wellFormed(subject) || pattern == "" {
		return false
	}
	for {
		pt, prest, pmore := cut(pattern)
		st, srest, smore := cut(subject)
		switch {
		case pt == ">":
			return true
		case pt != "*" && pt != st:
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}

func cut(s string) (tok, rest string, more bool) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// wellFormed is the sublist's precondition on a subject: no empty token.
func wellFormed(subject string) bool {
	if subject == "" || subject[0] == '.' || subject[len(subject)-1] == '.' {
		return false
	}
	return !strings.Contains(subject, "..")
}

// serverValidSubject is nats-server's IsValidSubject (server/sublist.go). It is the server's
// filter, looser than natsjwt.ValidateSubject (it keeps tokens such as "a*b"), and it decides
// which expanded template entries survive, so it must not be replaced by the plan-time rule.
func serverValidSubject(subject string) bool {
	if subject == "" {
		return false
	}
	sfwc := false
	for t := range strings.SplitSeq(subject, ".") {
		if len(t) == 0 || sfwc {
			return false
		}
		if len(t) > 1 {
			if strings.ContainsAny(t, "\t\n\f\r ") {
				return false
			}
			continue
		}
		switch t[0] {
		case '>':
			sfwc = true
		case ' ', '\t', '\n', '\r', '\f':
			return false
		}
	}
	return true
}

// hasWildcard is the server's subjectHasWildcard: a standalone '*' or '>' token.
func hasWildcard(subject string) bool {
	for t := range strings.SplitSeq(subject, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}

// subsetMatch is the server's subjectIsSubsetMatch, used only to compare queue group names
// with wildcard queue entries: unlike Match, a '>' or '*' in subject is only covered by a
// wildcard at least as wide in test.
func subsetMatch(subject, test string) bool {
	tokens := strings.Split(subject, ".")
	tests := strings.Split(test, ".")
	for i, t2 := range tests {
		if i >= len(tokens) {
			return false
		}
		if len(t2) == 0 {
			return false
		}
		if t2 == ">" {
			return true
		}
		t1 := tokens[i]
		if len(t1) == 0 || t1 == ">" {
			return false
		}
		if t1 == "*" {
			if t2 != "*" {
				return false
			}
			continue
		}
		if t2 != "*" && t1 != t2 {
			return false
		}
	}
	return len(tokens) == len(tests)
}

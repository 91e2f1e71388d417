package natsjwt

import (
	"fmt"
	"strings"
	"unicode"
)

// SubjectOptions says which subject forms a field accepts.
type SubjectOptions struct {
	// Wildcards allows '*' tokens and a trailing '>' (permissions, imports, exports).
	Wildcards bool
	// Templates allows permission template functions such as {{tag(team)}} inside tokens;
	// only role (scoped signing key) templates are expanded by the server.
	Templates bool
	// Queue allows a space-separated queue group after the subject ("orders.> workers"),
	// which nats-server accepts in subscribe permissions.
	Queue bool
}

// ValidateSubject explains, in one sentence a user can act on, what is wrong with a subject.
func ValidateSubject(subject string, opts SubjectOptions) error {
	if subject == "" {
		return fmt.Errorf("subject is empty; give a subject such as \"orders.created\"")
	}
	s := subject
	if opts.Queue {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			queue := s[i+1:]
			s = s[:i]
			if queue == "" || strings.ContainsAny(queue, " \t\r\n") {
				return fmt.Errorf("subject %q: a queue group follows the subject after one space and contains no further whitespace", subject)
			}
		}
	}
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return fmt.Errorf("subject %q contains whitespace; NATS subjects are dot-separated tokens without spaces", subject)
	}
	tokens := strings.Split(s, ".")
	for i, tok := range tokens {
		if tok == "" {
			return fmt.Errorf("subject %q has an empty token (a leading, trailing or doubled '.'); remove the extra dot", subject)
		}
		if opts.Templates && strings.Contains(tok, "{{") {
			if err := validateTemplateToken(subject, tok); err != nil {
				return err
			}
			continue
		}
		switch {
		case tok == ">":
			if !opts.Wildcards {
				return fmt.Errorf("subject %q uses the wildcard '>', which is not allowed here; give a literal subject", subject)
			}
			if i != len(tokens)-1 {
				return fmt.Errorf("subject %q has '>' before the last token; '>' may only be the last token", subject)
			}
		case tok == "*":
			if !opts.Wildcards {
				return fmt.Errorf("subject %q uses the wildcard '*', which is not allowed here; give a literal subject", subject)
			}
		case strings.ContainsAny(tok, "*>"):
			return fmt.Errorf("subject %q has the token %q mixing a wildcard with other characters; '*' and '>' must stand alone as a token", subject, tok)
		case strings.ContainsAny(tok, "{}"):
			if opts.Templates {
				return fmt.Errorf("subject %q has an unbalanced template in token %q; templates look like {{tag(team)}}", subject, tok)
			}
			return fmt.Errorf("subject %q contains a template (%q), which only role templates may use", subject, tok)
		}
	}
	return nil
}

// templateFunctions are the functions nats-server expands in scoped signing key templates
// (server/auth.go processUserPermissionsTemplate).
var templateFunctions = map[string]bool{
	"name":            false,
	"subject":         false,
	"account-name":    false,
	"account-subject": false,
	"tag":             true,
	"account-tag":     true,
}

func validateTemplateToken(subject, tok string) error {
	rest := tok
	for {
		start := strings.Index(rest, "{{")
		if start < 0 {
			if strings.Contains(rest, "}}") {
				return fmt.Errorf("subject %q: token %q has '}}' without a matching '{{'", subject, tok)
			}
			return nil
		}
		end := strings.Index(rest[start:], "}}")
		if end < 0 {
			return fmt.Errorf("subject %q: token %q opens a template with '{{' but never closes it with '}}'", subject, tok)
		}
		call := strings.TrimSpace(rest[start+2 : start+end])
		open := strings.IndexByte(call, '(')
		if open < 0 || !strings.HasSuffix(call, ")") {
			return fmt.Errorf("subject %q: template %q is not a function call; use one of name(), subject(), account-name(), account-subject(), tag(x), account-tag(x)", subject, "{{"+call+"}}")
		}
		fn := strings.TrimSpace(call[:open])
		arg := strings.TrimSpace(call[open+1 : len(call)-1])
		needsArg, known := templateFunctions[fn]
		if !known {
			return fmt.Errorf("subject %q: unknown template function %q; use one of name(), subject(), account-name(), account-subject(), tag(x), account-tag(x)", subject, fn)
		}
		if needsArg && arg == "" {
			return fmt.Errorf("subject %q: %s() needs a tag name, e.g. {{%s(team)}}", subject, fn, fn)
		}
		if !needsArg && arg != "" {
			return fmt.Errorf("subject %q: %s() takes no argument", subject, fn)
		}
		rest = rest[start+end+2:]
	}
}

package access

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Identity is what the server reads from a scoped user and its account when it expands the
// role template: {{name()}} and {{tag(x)}} come from the user JWT, {{subject()}} is the user's
// key, {{account-name()}} and {{account-tag(x)}} come from the account JWT, and
// {{account-subject()}} is the account key (the user JWT's issuer_account).
type Identity struct {
	Name, UserKey, AccountName, AccountKey string
	// Tags and AccountTags are "key:value" labels exactly as the JWTs carry them. The server
	// lower-cases the tag name in the template but compares the label as stored, so
	// "Team:red" is never found by {{tag(team)}}.
	Tags, AccountTags []string
}

// Errors Expand wraps in an *ExpandError. Each means the server refuses the user's
// connection ("generated invalid permissions"); none of them narrows the permissions.
var (
	ErrUnknownFunction = errors.New("template function is not defined")
	ErrMissingTag      = errors.New("tag is not defined")
	ErrInvalidSubject  = errors.New("template generates an invalid subject")
	ErrExpansionLimit  = fmt.Errorf("template expansion exceeds limit of %d subjects", maxTemplateExpansions)
)

// ExpandError names the list and entry whose expansion makes the server refuse the user.
type ExpandError struct {
	List  string // pub_allow, pub_deny, sub_allow or sub_deny
	Entry string
	Err   error
}

func (e *ExpandError) Error() string {
	return fmt.Sprintf("%s entry %q: %v; nats-server refuses to connect a user of this role", e.List, e.Entry, e.Err)
}

func (e *ExpandError) Unwrap() error { return e.Err }

var mustache = regexp.MustCompile(`{{2}([^}]+)}{2}`)

// Expand applies a role template to a user as nats-server does when a scoped signing key
// signs it (server/auth.go processUserPermissionsTemplate):
//
//   - Allow entries whose expansion is not a valid subject, including any entry that uses a
//     missing tag, are dropped; the same in a deny list fails the whole expansion.
//   - A multi-valued tag yields one entry per value, several tags their cross product, at
//     most 4096 entries per list.
//   - Once one entry of a list holds a template, every entry of that list must be a valid
//     subject, so a queue entry ("orders.> workers") is dropped from such an allow list and
//     fails such a deny list.
//   - An allow list that expansion empties becomes "deny >" instead of "allow all".
//
// Values are substituted verbatim and in order, so a tag value "*" or "a.b" widens or
// deepens the subject, and a value that spells another template is expanded in turn.
func Expand(tpl Permissions, id Identity) (Permissions, error) {
	out := Permissions{Responses: tpl.Responses}
	if out.Responses != nil {
		r := *out.Responses
		out.Responses = &r
	}
	var err error
	// The server's order, so the same entry is reported when several would fail.
	if out.SubAllow, err = expandList("sub_allow", tpl.SubAllow, id, false); err != nil {
		return Permissions{}, err
	}
	if out.SubDeny, err = expandList("sub_deny", tpl.SubDeny, id, true); err != nil {
		return Permissions{}, err
	}
	if out.PubAllow, err = expandList("pub_allow", tpl.PubAllow, id, false); err != nil {
		return Permissions{}, err
	}
	if out.PubDeny, err = expandList("pub_deny", tpl.PubDeny, id, true); err != nil {
		return Permissions{}, err
	}
	if len(tpl.SubAllow) > 0 && len(out.SubAllow) == 0 {
		out.SubDeny = addOnce(out.SubDeny, ">")
	}
	if len(tpl.PubAllow) > 0 && len(out.PubAllow) == 0 {
		out.PubDeny = addOnce(out.PubDeny, ">")
	}
	return out, nil
}

// ForUser is the permissions the server enforces for a user of a role: the expanded
// template, or the account's default permissions when the template sets no rule.
func ForUser(tpl, accountDefault Permissions, id Identity) (Permissions, error) {
	p, err := Expand(tpl, id)
	if err != nil {
		return Permissions{}, err
	}
	return Effective(p, accountDefault), nil
}

func expandList(name string, list []string, id Identity, deny bool) ([]string, error) {
	found := false
	for _, e := range list {
		if mustache.MatchString(e) {
			found = true
			break
		}
	}
	if !found {
		return clone(list), nil
	}
	fail := func(e string, err error) ([]string, error) {
		return nil, &ExpandError{List: name, Entry: e, Err: err}
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		srcs := mustache.FindAllString(e, -1)
		values := make([][]string, len(srcs))
		hasTags := false
		for i, tk := range srcs {
			op := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(tk, "{{"), "}}"))
			switch {
			case strings.EqualFold("name()", op):
				values[i] = []string{id.Name}
			case strings.EqualFold("subject()", op):
				values[i] = []string{id.UserKey}
			case strings.EqualFold("account-name()", op):
				values[i] = []string{id.AccountName}
			case strings.EqualFold("account-subject()", op):
				values[i] = []string{id.AccountKey}
			default:
				account, tag, ok := tagCall(op)
				if !ok {
					return fail(e, fmt.Errorf("%w: %q", ErrUnknownFunction, op))
				}
				hasTags = true
				tags := id.Tags
				if account {
					tags = id.AccountTags
				}
				prefix := strings.ToLower(tag) + ":"
				var vs []string
				for _, t := range tags {
					if v, ok := strings.CutPrefix(t, prefix); ok {
						vs = append(vs, v)
					}
				}
				switch {
				case len(vs) > 0:
					values[i] = vs
				case deny:
					return fail(e, fmt.Errorf("%w: %q", ErrMissingTag, tag))
				default:
					// The server substitutes a space, which no valid subject contains.
					values[i] = []string{" "}
				}
			}
		}
		if !hasTags {
			s := e
			for i, src := range srcs {
				s = strings.ReplaceAll(s, src, values[i][0])
			}
			if serverValidSubject(s) {
				out = append(out, s)
			} else if deny {
				return fail(e, fmt.Errorf("%w: %q", ErrInvalidSubject, s))
			}
			continue
		}
		n := 1
		for _, v := range values {
			if n > maxTemplateExpansions/len(v) {
				return fail(e, ErrExpansionLimit)
			}
			n *= len(v)
		}
		if len(out) > maxTemplateExpansions-n {
			return fail(e, ErrExpansionLimit)
		}
		idx := make([]int, len(values))
		for range n {
			s := e
			for j, src := range srcs {
				s = strings.ReplaceAll(s, src, values[j][idx[j]])
			}
			if serverValidSubject(s) {
				out = append(out, s)
			} else if deny {
				return fail(e, fmt.Errorf("%w: %q", ErrInvalidSubject, s))
			}
			for j := len(idx) - 1; j >= 0; j-- {
				if idx[j]++; idx[j] < len(values[j]) {
					break
				}
				idx[j] = 0
			}
		}
	}
	return out, nil
}

// tagCall is the server's isTag, including its quirk: the prefix is matched without regard
// to case but removed only in lower case, so {{TAG(team)}} looks up the tag "tag(team".
func tagCall(op string) (account bool, tag string, ok bool) {
	switch {
	case len(op) >= 4 && strings.EqualFold("tag(", op[:4]) && strings.HasSuffix(op, ")"):
		return false, strings.TrimSuffix(strings.TrimPrefix(op, "tag("), ")"), true
	case len(op) >= 12 && strings.EqualFold("account-tag(", op[:12]) && strings.HasSuffix(op, ")"):
		return true, strings.TrimSuffix(strings.TrimPrefix(op, "account-tag("), ")"), true
	}
	return false, "", false
}

func addOnce(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

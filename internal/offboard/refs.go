package offboard

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// CheckRoleRef checks the shape of a role reference, "<account>/<role>", where account is the
// account's name as its mappings give it (account_name) or its public key.
func CheckRoleRef(ref string) error {
	acc, role, ok := strings.Cut(ref, "/")
	if !ok || acc == "" {
		return fmt.Errorf("role %q is not <account>/<role>, e.g. \"ORDERS/reader\" (the account's name or public key, then the role)", ref)
	}
	if err := natsjwt.ValidateRoleName(role); err != nil {
		return fmt.Errorf("role %q: %w", ref, err)
	}
	return nil
}

// ResolveRole turns a role reference into its entry, finding the account among the document's
// mappings by public key or by name (names compare case-insensitively, as the callout's connect
// `user` does).
func ResolveRole(doc *calloutconfig.Document, ref string) (Entry, error) {
	if err := CheckRoleRef(ref); err != nil {
		return Entry{}, err
	}
	acc, role, _ := strings.Cut(ref, "/")
	var found string
	var names []string
	for _, m := range doc.Mappings {
		names = append(names, cmpOr(m.AccountName, m.Account))
		if m.Account == acc || (m.AccountName != "" && strings.EqualFold(m.AccountName, acc)) {
			if found != "" && found != m.Account {
				return Entry{}, fmt.Errorf("role %q: two accounts of the trust are named %q; give the account's public key instead", ref, acc)
			}
			found = m.Account
		}
	}
	if found == "" {
		slices.Sort(names)
		return Entry{}, fmt.Errorf("role %q: no mapping of the trust's callout config places users in account %q (accounts: %s)",
			ref, acc, strings.Join(slices.Compact(names), ", "))
	}
	return Entry{Kind: KindRole, Value: role, Account: found}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Request is what natsping_offboarding asks for: identities, mappings and roles (as
// CheckRoleRef references), all revoked from one cutoff.
type Request struct {
	Subjects, ClientIDs, Mappings, Roles []string
	Cutoff                               time.Time
	Reason                               string
}

// Entries turns the request into bucket entries, resolving roles against doc and checking
// everything as Apply will (see Check).
func (r Request) Entries(doc *calloutconfig.Document) ([]Entry, error) {
	var out []Entry
	var errs []error
	add := func(kind Kind, values []string) {
		for _, v := range values {
			out = append(out, Entry{Kind: kind, Value: v, Cutoff: r.Cutoff.Unix(), Reason: r.Reason})
		}
	}
	add(KindSubject, r.Subjects)
	add(KindClient, r.ClientIDs)
	add(KindMapping, r.Mappings)
	for _, ref := range r.Roles {
		e, err := ResolveRole(doc, ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.Cutoff, e.Reason = r.Cutoff.Unix(), r.Reason
		out = append(out, e)
	}
	if err := Check(doc, out); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

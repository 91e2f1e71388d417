package natsjwt

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// MaxRevocationLead bounds how far past the present a revocation cutoff may lie. nats-server
// refuses every JWT of a revoked key issued at or before the cutoff, so a cutoff in the future
// does not schedule anything: it revokes at once and also refuses every JWT issued until then,
// including the ones re-signed to restore access. A small lead still has a use (covering the
// time between plan and apply, or a clock that runs slightly behind), a large one is a mistake.
const MaxRevocationLead = time.Hour

// Revocations are the cutoffs of a jwt.RevocationList as a configuration states them: Keys maps a
// public key to the time up to which its JWTs are refused, AllBefore (jwt.All, "*") refuses
// every JWT issued at or before it. Times are RFC 3339 strings, kept as written so validation
// can point at the entry that is wrong.
type Revocations struct {
	Keys      map[string]string
	AllBefore string
}

// IsEmpty reports whether nothing is revoked.
func (r Revocations) IsEmpty() bool { return len(r.Keys) == 0 && r.AllBefore == "" }

// ParseRevocationTime reads a revocation cutoff: an RFC 3339 time such as
// "2026-11-30T00:00:00Z". nats-server compares cutoffs with the JWT's issue time in whole
// seconds, so fractions are dropped.
func ParseRevocationTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time; write it like \"2026-11-30T00:00:00Z\" (UTC) or \"2026-11-30T01:00:00+01:00\"", s)
	}
	if t.Unix() <= 0 {
		return time.Time{}, fmt.Errorf("%s is not after 1970-01-01T00:00:00Z; give the time from which on the key's JWTs are refused", s)
	}
	return t.Truncate(time.Second), nil
}

// CheckRevocationTime applies ParseRevocationTime and, when now is known, MaxRevocationLead.
func CheckRevocationTime(s string, now time.Time) error {
	t, err := ParseRevocationTime(s)
	if err != nil {
		return err
	}
	if !now.IsZero() && t.After(now.Add(MaxRevocationLead)) {
		return fmt.Errorf("%s is more than %s in the future: a revocation refuses every JWT issued up to its time, so a future cutoff "+
			"does not schedule anything, it revokes now and also refuses JWTs re-issued until then; use the current time "+
			"(or a past one) instead", s, MaxRevocationLead)
	}
	return nil
}

// FormatRevocationTime renders a cutoff the way imported state shows it (UTC, RFC 3339), so
// configuration written the same way plans no change.
func FormatRevocationTime(unix int64) string {
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}

// revocationRules say what a revocation list may hold.
type revocationRules struct {
	// kind is the kind of key revoked: users for an account, accounts for an export.
	kind KeyKind
	// self is a key that cannot be revoked here (the exporting account itself); may be empty.
	self string
	// allField is the attribute that revokes everything, suggested when "*" is used as a key.
	allField string
	now      time.Time
}

func (r Revocations) validate(errs *fieldErrs, keysField, allField FieldPath, rules revocationRules) {
	for _, key := range sortedKeys(r.Keys) {
		field := keysField.AtKey(key)
		if looksSecret(key) {
			// Diagnostics print their path: a seed pasted as a key must not be repeated there.
			field = keysField
		}
		switch {
		case key == jwt.All:
			errs.add(field, "\"*\" is not a key; to revoke everything issued before a time set %s instead", rules.allField)
			continue
		case key == rules.self && key != "":
			errs.add(field, "%s is the exporting account itself; revoke the activations of the accounts that import", key)
			continue
		}
		if err := ValidatePublicKey(key, rules.kind); err != nil {
			errs.wrap(field, err)
			continue
		}
		if err := CheckRevocationTime(r.Keys[key], rules.now); err != nil {
			errs.wrap(field, err)
		}
	}
	if r.AllBefore != "" {
		if err := CheckRevocationTime(r.AllBefore, rules.now); err != nil {
			errs.wrap(allField, err)
		}
	}
}

func looksSecret(key string) bool {
	return strings.HasPrefix(strings.TrimSpace(key), "S") || strings.Contains(key, signerTokenPrefix)
}

// toJWT renders the list for the JWT; nil when empty, so an account without revocations signs
// the same claims as before revocations existed. Only validated lists reach it.
func (r Revocations) toJWT() jwt.RevocationList {
	if r.IsEmpty() {
		return nil
	}
	out := jwt.RevocationList{}
	for key, at := range r.Keys {
		if t, err := ParseRevocationTime(at); err == nil {
			out.Revoke(key, t)
		}
	}
	if t, err := ParseRevocationTime(r.AllBefore); err == nil && r.AllBefore != "" {
		out.Revoke(jwt.All, t)
	}
	return out
}

// RevocationsFromJWT is the configuration form of a JWT's revocation list.
func RevocationsFromJWT(list jwt.RevocationList) Revocations {
	var out Revocations
	keys := make([]string, 0, len(list))
	for k := range list {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == jwt.All {
			out.AllBefore = FormatRevocationTime(list[k])
			continue
		}
		if out.Keys == nil {
			out.Keys = map[string]string{}
		}
		out.Keys[k] = FormatRevocationTime(list[k])
	}
	return out
}

// validateRevocations checks the account's user revocations and every export's activation
// revocations; called from AccountSpec.Validate.
func validateRevocations(errs *fieldErrs, s AccountSpec, opts ValidateOptions) {
	s.RevokedUsers.validate(errs, Field("revoked_users"), Field("revoke_all_users_before"),
		revocationRules{kind: KindUser, allField: "revoke_all_users_before", now: opts.Now})
	for i, e := range s.Exports {
		field := Field("exports").AtIndex(i)
		if e.RevokedActivations.IsEmpty() {
			continue
		}
		if !e.TokenRequired {
			// nats-server checks activation revocations only when it verifies an activation
			// token; a public export is imported without one, so the entry would change nothing.
			at := field.AtName("revoked_activations")
			if len(e.RevokedActivations.Keys) == 0 {
				at = field.AtName("revoke_all_activations_before")
			}
			errs.add(at, "the export is public (token_required is false), so importers need no "+
				"activation and nats-server has nothing to revoke; make the export private (token_required = true) to control who imports it")
			continue
		}
		e.RevokedActivations.validate(errs, field.AtName("revoked_activations"), field.AtName("revoke_all_activations_before"),
			revocationRules{kind: KindAccount, self: opts.AccountPublicKey, allField: "revoke_all_activations_before", now: opts.Now})
	}
}

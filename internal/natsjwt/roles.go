package natsjwt

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
)

// RoleSpec is a role of an account: a scoped signing key whose template (permissions and
// limits) nats-server applies to every user the key signs. Templates may use {{name()}},
// {{subject()}}, {{account-name()}}, {{account-subject()}}, {{tag(x)}} and {{account-tag(x)}}.
type RoleSpec struct {
	Name        string
	Description string
	// PublicKey is the role's signing key (A…); see ReconcileRoleKeys.
	PublicKey   string
	Permissions Permissions
	Limits      UserLimits
	// OverlapKeys are the role's other listed keys while it rotates: the successor prepared
	// ahead and the previous key in its grace period, with the same template (rotation.go).
	OverlapKeys []string
}

// scope renders the role as the account JWT carries it.
func (r RoleSpec) scope() *jwt.UserScope {
	s := jwt.NewUserScope()
	s.Key = r.PublicKey
	s.Role = r.Name
	s.Description = r.Description
	s.Template = UserPermissionLimits(r.Permissions, r.Limits)
	return s
}

// validateRoles checks every role and returns the role keys by public key, for the
// signing-key checks that follow.
func validateRoles(errs *fieldErrs, roles []RoleSpec) map[string]string {
	byName := map[string]int{}
	byKey := map[string]string{}
	for i, r := range roles {
		field := Field("roles").AtIndex(i)
		if err := ValidateRoleName(r.Name); err != nil {
			errs.wrap(field.AtName("name"), err)
		} else if first, dup := byName[r.Name]; dup {
			errs.add(field.AtName("name"), "role %q is already defined at roles[%d]; role names must be unique within an account (rename or merge one of them)", r.Name, first)
		} else {
			byName[r.Name] = i
		}
		if len(r.Description) > jwt.MaxInfoLength {
			errs.add(field.AtName("description"), "is %d bytes long; keep it under %d bytes", len(r.Description), jwt.MaxInfoLength)
		}
		if err := ValidatePublicKey(r.PublicKey, KindAccount); err != nil {
			errs.wrap(field, fmt.Errorf("role key: %w", err))
		} else if other, dup := byKey[r.PublicKey]; dup {
			errs.add(field, "uses the same key as role %q; every role needs its own signing key", other)
		} else {
			byKey[r.PublicKey] = r.Name
		}
		validateOverlapKeys(errs, field, r, byKey)
		errs.wrap(field.AtName("permissions"), r.Permissions.Validate(true))
		errs.wrap(field, r.Limits.Validate())
	}
	return byKey
}

// RoleKey is the signing key of one role.
type RoleKey struct {
	PublicKey string
	Seed      string
}

// ReconcileRoleKeys gives every named role a key: roles that already have one keep it, new
// roles get a fresh one, and keys of roles no longer named are dropped. Keys follow names,
// not positions, so reordering roles never rotates a key.
func ReconcileRoleKeys(names []string, existing map[string]RoleKey) (map[string]RoleKey, error) {
	out := make(map[string]RoleKey, len(names))
	for _, name := range names {
		if _, done := out[name]; done {
			return nil, fmt.Errorf("role %q is listed twice; role names must be unique within an account", name)
		}
		if k, ok := existing[name]; ok {
			out[name] = k
			continue
		}
		pub, seed, err := NewKey(KindAccount)
		if err != nil {
			return nil, err
		}
		out[name] = RoleKey{PublicKey: pub, Seed: seed}
	}
	return out, nil
}

package natsjwt

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// UserSpec is everything a user JWT says about the user.
type UserSpec struct {
	Name string
	// PublicKey is the user's own public key (the JWT subject).
	PublicKey string
	// Account is the public key of the account the user belongs to. It may be empty when
	// the signer knows its account (a natsping signer string or an account identity seed).
	Account     string
	Permissions Permissions
	Limits      UserLimits
	Tags        []string
	// Expires is the zero time for a user that never expires.
	Expires time.Time
}

// UserSigning describes how a user JWT is signed, derived from the signer alone so the
// provider can show it in a plan before anything is signed.
type UserSigning struct {
	// Account is the account the user belongs to.
	Account string
	// Issuer is the public key that signs the JWT.
	Issuer string
	// IssuerAccount is set when a signing key or role signs on behalf of Account, and
	// empty when the account identity key signs.
	IssuerAccount string
	// Role is the role (scoped signing key) name, empty for unscoped keys.
	Role string
}

// Scoped reports whether the user's permissions come from a role template.
func (s UserSigning) Scoped() bool { return s.Role != "" }

// ResolveUserSigning works out the account, issuer and role of a user JWT from its signer
// and the declared account, and fails when they contradict each other (a signer or role of
// another account) or when the account cannot be known.
func ResolveUserSigning(signer *Signer, declaredAccount string) (UserSigning, error) {
	if signer == nil || signer.Kind != KindAccount {
		return UserSigning{}, errors.New("users are signed by an account key: pass an account signer, a role signer or an account seed (SA…)")
	}
	if declaredAccount != "" {
		if err := ValidatePublicKey(declaredAccount, KindAccount); err != nil {
			return UserSigning{}, fmt.Errorf("account: %w", err)
		}
	}
	// ResolveOwner mutates; work on a copy so the caller's signer stays as parsed.
	s := *signer
	if err := s.ResolveOwner(declaredAccount); err != nil {
		return UserSigning{}, err
	}
	out := UserSigning{Account: s.Owner, Issuer: s.PublicKey, Role: s.Role}
	if s.PublicKey != s.Owner {
		out.IssuerAccount = s.Owner
	}
	return out, nil
}

// ValidateScope reports what a role-signed (scoped) user may not carry: the server
// replaces a scoped user's permissions and limits with the role template, and rejects
// user JWTs that carry their own.
func (spec UserSpec) ValidateScope(role string) error {
	if role == "" {
		return nil
	}
	var set []string
	if !spec.Permissions.IsEmpty() {
		set = append(set, "permissions")
	}
	l := spec.Limits
	if l.Subs != 0 || l.Data != 0 || l.Payload != 0 || l.Bearer || len(l.AllowedConnectionTypes) > 0 || len(l.SourceNetworks) > 0 {
		set = append(set, "limits")
	}
	if len(set) == 0 {
		return nil
	}
	return fmt.Errorf("the user is signed by role %q, whose template applies to it; remove %s from the user or sign it with an unscoped account signer", role, strings.Join(set, " and "))
}

// Validate reports every problem of the spec in one error.
func (spec UserSpec) Validate() error {
	var errs []error
	if strings.TrimSpace(spec.Name) == "" {
		errs = append(errs, errors.New("name: the user name is empty; give the user a name"))
	}
	if err := ValidatePublicKey(spec.PublicKey, KindUser); err != nil {
		errs = append(errs, fmt.Errorf("user key: %w", err))
	}
	if err := spec.Permissions.Validate(false); err != nil {
		errs = append(errs, fmt.Errorf("permissions: %w", err))
	}
	if err := spec.Limits.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// BuildUserJWT signs a user JWT with an account key. When the signer is a role (a scoped
// signing key) the JWT carries no permissions of its own and the server applies the role's
// template; when it is a signing key, issuer_account names the account.
func BuildUserJWT(spec UserSpec, signer *Signer) (string, error) {
	signing, err := ResolveUserSigning(signer, spec.Account)
	if err != nil {
		return "", err
	}
	if err := spec.Validate(); err != nil {
		return "", err
	}
	if err := spec.ValidateScope(signing.Role); err != nil {
		return "", err
	}
	if signing.Scoped() {
		return encode(ScopedUserClaims(spec.PublicKey, signing.IssuerAccount, spec.Name, spec.Tags, spec.Expires), signer)
	}
	c := jwt.NewUserClaims(spec.PublicKey)
	c.Name = spec.Name
	c.IssuerAccount = signing.IssuerAccount
	c.UserPermissionLimits = UserPermissionLimits(spec.Permissions, spec.Limits)
	c.Tags = jwt.TagList(sortedList(spec.Tags))
	if !spec.Expires.IsZero() {
		c.Expires = spec.Expires.Unix()
	}
	return encode(c, signer)
}

// ScopedUserClaims are the claims of a user signed by a role (a scoped signing key), built in
// this one place for static users and for every user the callout admits. They carry no
// permissions or limits: nats-server refuses a scoped user that has any, and applies the
// role's template instead (jwt.NewUserClaims sets limits to -1, which is not empty, so
// SetScoped clears them). Tags are sorted so equal inputs sign equal claims; the caller
// passes them lower case, as NATS compares them.
func ScopedUserClaims(userKey, issuerAccount, name string, tags []string, expires time.Time) *jwt.UserClaims {
	c := jwt.NewUserClaims(userKey)
	c.Name = name
	c.IssuerAccount = issuerAccount
	c.SetScoped(true)
	c.Tags = jwt.TagList(sortedList(tags))
	if !expires.IsZero() {
		c.Expires = expires.Unix()
	}
	return c
}

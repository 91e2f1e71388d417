package natsjwt

import (
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/jwt/v2"
)

// Names of the two users the callout account holds. They are fixed so that their JWTs never
// need re-signing: nothing a user configures appears in them.
const (
	CalloutServiceUserName = "natsping-callout"
	SentinelUserName       = "natsping-sentinel"
)

// CalloutAccountSpec describes the auth-callout account that natsping_trust owns: the account
// whose $SYS.REQ.USER.AUTH the callout service answers.
type CalloutAccountSpec struct {
	Name string
	// PublicKey is the callout account's identity key; its seed signs authorization responses.
	PublicKey string
	// SigningKey is an unscoped account signing key (A…) that signs the account's own users
	// (the callout service user and the sentinel). Under a strict-signing-key operator
	// nats-server refuses users signed by the account identity key, so one is always needed.
	SigningKey string
	// ServiceUser is the public key (U…) of the callout service's user: the only auth user,
	// so it connects without being sent to the callout itself.
	ServiceUser string
	// AllowedAccounts are the target accounts the callout may place users in. The list is
	// explicit on purpose: "*" would let a compromised callout mint users anywhere.
	AllowedAccounts []string
	// XKey, when set, is the callout's curve public key; the server then seals requests to it.
	XKey string
	// JetStream, when set, lets the callout account use JetStream: the offboarding bucket
	// lives there (see CalloutOffboardingJetStream).
	JetStream *JetStreamSpec
	// OverlapSigningKeys are listed beside SigningKey while it rotates: its successor and
	// the previous key in its grace period (rotation.go).
	OverlapSigningKeys []string
}

// Validate reports every problem of the spec, naming each field.
func (s CalloutAccountSpec) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := ValidatePublicKey(s.PublicKey, KindAccount); err != nil {
		add("callout account: %w", err)
	}
	if err := ValidatePublicKey(s.SigningKey, KindAccount); err != nil {
		add("callout account signing key: %w", err)
	} else if s.SigningKey == s.PublicKey {
		add("callout account signing key: it is the account's identity key; the signing key must be a separate key")
	}
	if err := ValidatePublicKey(s.ServiceUser, KindUser); err != nil {
		add("callout service user: %w", err)
	}
	if len(s.AllowedAccounts) == 0 {
		add("allowed accounts: none given; the callout could not place anyone in any account. Add a role mapping")
	}
	for _, a := range s.AllowedAccounts {
		switch a {
		case jwt.AnyAccount:
			add("allowed accounts: %q (any account) is refused; list the target accounts of the role mappings", a)
		case s.PublicKey:
			add("allowed accounts: %s is the callout account itself; map roles of target accounts, not of the callout account", a)
		default:
			if err := ValidatePublicKey(a, KindAccount); err != nil {
				add("allowed accounts: %w", err)
			}
		}
	}
	if s.XKey != "" {
		if err := ValidatePublicKey(s.XKey, KindCurve); err != nil {
			add("xkey: %w", err)
		}
	}
	if s.JetStream != nil {
		var fe fieldErrs
		s.JetStream.validate(&fe)
		if err := errors.Join(fe...); err != nil {
			add("jetstream: %w", err)
		}
	}
	return errors.Join(errs...)
}

// SignCalloutAccount signs the callout account JWT with an operator signer: one signing key,
// authorization { auth_users = [service user], allowed_accounts (sorted), xkey }.
func SignCalloutAccount(spec CalloutAccountSpec, operator *Signer) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	allowed := append([]string(nil), spec.AllowedAccounts...)
	sort.Strings(allowed)
	return SignAccount(AccountSpec{
		Name:        spec.Name,
		SigningKeys: append([]string{spec.SigningKey}, spec.OverlapSigningKeys...),
		JetStream:   spec.JetStream,
		Authorization: &ExternalAuth{
			AuthUsers:       []string{spec.ServiceUser},
			AllowedAccounts: allowed,
			XKey:            spec.XKey,
		},
	}, spec.PublicKey, operator)
}

// BuildCalloutServiceUserJWT signs the callout service's own user. It carries no permissions
// of its own: the callout account holds nothing but this user and the deny-all sentinel, and
// the service needs the request subject, its reply inboxes, the micro service subjects and the
// optional audit subject, which an allow-list would have to track release by release.
func BuildCalloutServiceUserJWT(account string, signer *Signer, userPublicKey string) (string, error) {
	if err := checkCalloutSigner(account, signer); err != nil {
		return "", err
	}
	return BuildUserJWT(UserSpec{Name: CalloutServiceUserName, PublicKey: userPublicKey, Account: account}, signer)
}

// BuildSentinelJWT signs the sentinel: a bearer user of the callout account that may neither
// publish nor subscribe. nats-server's default_sentinel hands it to every client that brings
// only a Ping token, so the connection reaches the callout, which replaces it with a user of
// the mapped account. It grants nothing by itself and is not a secret.
func BuildSentinelJWT(account string, signer *Signer, userPublicKey string) (string, error) {
	if err := checkCalloutSigner(account, signer); err != nil {
		return "", err
	}
	return BuildUserJWT(UserSpec{
		Name:        SentinelUserName,
		PublicKey:   userPublicKey,
		Account:     account,
		Permissions: Permissions{PubDeny: []string{">"}, SubDeny: []string{">"}},
		Limits:      UserLimits{Bearer: true},
	}, signer)
}

// checkCalloutSigner refuses the identity key and roles: users of the callout account are
// signed by its unscoped signing key so they stay valid under strict signing keys.
func checkCalloutSigner(account string, signer *Signer) error {
	if signer == nil || signer.KeyPair() == nil {
		return errors.New("no callout account signing key given")
	}
	if signer.Role != "" {
		return fmt.Errorf("role %q cannot sign callout account users; use the account's unscoped signing key", signer.Role)
	}
	if signer.PublicKey == account {
		return errors.New("the callout account identity key cannot sign its users: strict-signing-key operators refuse them; use its signing key")
	}
	return nil
}

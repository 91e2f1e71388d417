package natsjwttest

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/nats-io/jwt/v2"
)

// jwtField compares one value taken from a JWT (or creds) in values[0] with the public key
// in values[1]; use it with statecheck.CompareValuePairs to tie attributes of one or two
// resources together, e.g. account.jwt issued by operator.signing_key.
type jwtField struct {
	what  string
	field func(token string) (string, error)
}

var _ compare.ValueComparer = jwtField{}

func (c jwtField) CompareValues(values ...any) error {
	if len(values) != 2 {
		return fmt.Errorf("%s compares exactly two values (a JWT and a public key), got %d", c.what, len(values))
	}
	token, err := asString(values[0])
	if err != nil {
		return fmt.Errorf("first value: %w", err)
	}
	want, err := asString(values[1])
	if err != nil {
		return fmt.Errorf("second value: %w", err)
	}
	got, err := c.field(token)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("the JWT's %s is %q, want %q", c.what, got, want)
	}
	return nil
}

// IssuedBy checks that the JWT in value 1 verifies and was signed by the public key in
// value 2.
func IssuedBy() compare.ValueComparer {
	return jwtField{what: "issuer", field: func(token string) (string, error) {
		c, err := decode(token)
		if err != nil {
			return "", err
		}
		return c.Claims().Issuer, nil
	}}
}

// HasSubject checks that the JWT in value 1 verifies and its subject is value 2.
func HasSubject() compare.ValueComparer {
	return jwtField{what: "subject", field: func(token string) (string, error) {
		c, err := decode(token)
		if err != nil {
			return "", err
		}
		return c.Claims().Subject, nil
	}}
}

// HasIssuerAccount checks that the user JWT in value 1 names value 2 as issuer_account.
func HasIssuerAccount() compare.ValueComparer {
	return jwtField{what: "issuer_account", field: func(token string) (string, error) {
		uc, err := jwt.DecodeUserClaims(token)
		if err != nil {
			return "", fmt.Errorf("not a valid user JWT: %v", err)
		}
		return uc.IssuerAccount, nil
	}}
}

// CredsFor checks that the creds in value 1 are a consistent pair (seed of the JWT
// subject) for the user public key in value 2.
func CredsFor() compare.ValueComparer {
	return jwtField{what: "creds subject", field: func(creds string) (string, error) {
		uc, err := parseCreds(creds)
		if err != nil {
			return "", err
		}
		return uc.Subject, nil
	}}
}

type signingKeyListed struct{ want bool }

// ListsSigningKey checks that the operator or account JWT in value 1 lists the public key
// in value 2 among its signing keys.
func ListsSigningKey() compare.ValueComparer { return signingKeyListed{want: true} }

// DoesNotListSigningKey checks that the operator or account JWT in value 1 does not list
// the public key in value 2 (e.g. after a rotation grace period ended).
func DoesNotListSigningKey() compare.ValueComparer { return signingKeyListed{want: false} }

func (c signingKeyListed) CompareValues(values ...any) error {
	if len(values) != 2 {
		return fmt.Errorf("signing key check compares exactly two values (a JWT and a public key), got %d", len(values))
	}
	token, err := asString(values[0])
	if err != nil {
		return fmt.Errorf("first value: %w", err)
	}
	key, err := asString(values[1])
	if err != nil {
		return fmt.Errorf("second value: %w", err)
	}
	claims, err := decode(token)
	if err != nil {
		return err
	}
	var listed bool
	var keys []string
	switch cl := claims.(type) {
	case *jwt.OperatorClaims:
		listed, keys = cl.SigningKeys.Contains(key), cl.SigningKeys
	case *jwt.AccountClaims:
		listed, keys = cl.SigningKeys.Contains(key), cl.SigningKeys.Keys()
	default:
		return fmt.Errorf("a %s JWT has no signing keys", claims.ClaimType())
	}
	switch {
	case c.want && !listed:
		return fmt.Errorf("signing keys %v do not include %s", keys, key)
	case !c.want && listed:
		return fmt.Errorf("signing keys %v still include %s", keys, key)
	}
	return nil
}

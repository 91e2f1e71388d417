package natsjwttest

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var (
	_ knownvalue.Check = publicKeyCheck{}
	_ knownvalue.Check = seedCheck{}
	_ knownvalue.Check = signerCheck{}
	_ knownvalue.Check = jwtCheck{}
	_ knownvalue.Check = credsCheck{}
)

func asString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, got %T", v)
	}
	return s, nil
}

type publicKeyCheck struct{ kind natsjwt.KeyKind }

// PublicKey checks that a value is a valid public nkey of the given kind (O…, A…, U…, X…).
func PublicKey(kind natsjwt.KeyKind) knownvalue.Check { return publicKeyCheck{kind: kind} }

func (c publicKeyCheck) CheckValue(v any) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	return natsjwt.ValidatePublicKey(s, c.kind)
}

func (c publicKeyCheck) String() string { return c.kind.String() + " public key" }

type seedCheck struct{ kind natsjwt.KeyKind }

// Seed checks that a value is a valid nkey seed of the given kind (SO…, SA…, SU…, SX…).
func Seed(kind natsjwt.KeyKind) knownvalue.Check { return seedCheck{kind: kind} }

func (c seedCheck) CheckValue(v any) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	if c.kind == natsjwt.KindCurve {
		if _, err := nkeys.FromCurveSeed([]byte(s)); err != nil {
			return fmt.Errorf("not a curve seed: %v", err)
		}
		return nil
	}
	_, err = natsjwt.ParseSeed(s, c.kind)
	return err
}

func (c seedCheck) String() string { return c.kind.String() + " seed" }

type signerCheck struct {
	kind natsjwt.KeyKind
	role string
}

// Signer checks that a value is a natsping signer string of the given kind, signing for a
// known owner, with the given role ("" for unscoped keys).
func Signer(kind natsjwt.KeyKind, role string) knownvalue.Check {
	return signerCheck{kind: kind, role: role}
}

func (c signerCheck) CheckValue(v any) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	signer, err := natsjwt.ParseSigner(s, c.kind)
	if err != nil {
		return err
	}
	if signer.Owner == "" {
		return fmt.Errorf("signer %s has no owner; natsping signer outputs always name their owner", signer.PublicKey)
	}
	if signer.Role != c.role {
		return fmt.Errorf("signer role is %q, want %q", signer.Role, c.role)
	}
	return nil
}

func (c signerCheck) String() string {
	return fmt.Sprintf("%s signer (role %q)", c.kind, c.role)
}

type jwtCheck struct {
	kind jwt.ClaimType
	name *string
}

// JWT checks that a value is a NATS JWT of the given claim type whose signature verifies.
func JWT(kind jwt.ClaimType) knownvalue.Check { return jwtCheck{kind: kind} }

// JWTNamed is JWT plus a check of the name claim.
func JWTNamed(kind jwt.ClaimType, name string) knownvalue.Check {
	return jwtCheck{kind: kind, name: &name}
}

func (c jwtCheck) CheckValue(v any) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	claims, err := decode(s)
	if err != nil {
		return err
	}
	if claims.ClaimType() != c.kind {
		return fmt.Errorf("JWT is a %s JWT, want %s", claims.ClaimType(), c.kind)
	}
	if c.name != nil && claims.Claims().Name != *c.name {
		return fmt.Errorf("JWT name is %q, want %q", claims.Claims().Name, *c.name)
	}
	return nil
}

func (c jwtCheck) String() string {
	if c.name != nil {
		return fmt.Sprintf("%s JWT named %q", c.kind, *c.name)
	}
	return string(c.kind) + " JWT"
}

type credsCheck struct{}

// Creds checks that a value is a creds file nats.go can load: a verified user JWT and the
// user seed belonging to its subject.
func Creds() knownvalue.Check { return credsCheck{} }

func (credsCheck) CheckValue(v any) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	_, err = parseCreds(s)
	return err
}

func (credsCheck) String() string { return "user creds" }

func decode(token string) (jwt.Claims, error) {
	claims, err := jwt.Decode(token)
	if err != nil {
		return nil, fmt.Errorf("not a valid NATS JWT: %v", err)
	}
	return claims, nil
}

// parseCreds returns the user claims of a creds file after checking that its seed belongs
// to the JWT subject, reading it with the parsers nats.go's UserCredentials uses.
func parseCreds(creds string) (*jwt.UserClaims, error) {
	token, err := nkeys.ParseDecoratedJWT([]byte(creds))
	if err != nil {
		return nil, fmt.Errorf("creds: no JWT section: %v", err)
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return nil, fmt.Errorf("creds: the JWT is not a valid user JWT: %v", err)
	}
	kp, err := nkeys.ParseDecoratedNKey([]byte(creds))
	if err != nil {
		return nil, fmt.Errorf("creds: no seed section: %v", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, err
	}
	if pub != uc.Subject {
		return nil, fmt.Errorf("creds: the seed belongs to %s but the JWT subject is %s", pub, uc.Subject)
	}
	return uc, nil
}

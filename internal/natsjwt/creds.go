package natsjwt

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
)

// FormatCreds renders a user JWT and its seed as a .creds file, the format nats.go's
// UserCredentials, the nats CLI and nsc read. It refuses a seed that does not belong to
// the JWT's subject, so a mismatched pair never reaches a client.
func FormatCreds(userJWT, userSeed string) (string, error) {
	if _, err := ParseSeed(userSeed, KindUser); err != nil {
		return "", fmt.Errorf("user seed: %w", err)
	}
	out, err := jwt.FormatUserConfig(userJWT, []byte(userSeed))
	if err != nil {
		return "", fmt.Errorf("formatting creds: %w", err)
	}
	return string(out), nil
}

// NewUserCreds creates a fresh user key, signs the spec's user JWT for it and returns the
// public key, seed, JWT and creds. spec.PublicKey is ignored.
func NewUserCreds(spec UserSpec, signer *Signer) (public, seed, token, creds string, err error) {
	public, seed, err = NewKey(KindUser)
	if err != nil {
		return "", "", "", "", err
	}
	spec.PublicKey = public
	token, err = BuildUserJWT(spec, signer)
	if err != nil {
		return "", "", "", "", err
	}
	creds, err = FormatCreds(token, seed)
	if err != nil {
		return "", "", "", "", err
	}
	return public, seed, token, creds, nil
}

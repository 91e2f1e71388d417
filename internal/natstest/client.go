package natstest

import (
	"errors"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// ConnectCreds connects with the contents of a creds file (the decorated user JWT and seed
// that nsc and the provider write), without putting the secret on disk.
func ConnectCreds(url, creds string, opts ...nats.Option) (*nats.Conn, error) {
	userJWT, err := jwt.ParseDecoratedJWT([]byte(creds))
	if err != nil {
		return nil, fmt.Errorf("the creds do not contain a user JWT: %w", err)
	}
	kp, err := jwt.ParseDecoratedUserNKey([]byte(creds))
	if err != nil {
		// The parse error can echo part of the input; never repeat it, the input is a secret.
		return nil, errors.New("the creds do not contain a valid user seed (SU…)")
	}
	return connectKeyPair(url, userJWT, kp, opts)
}

// ConnectUser connects with a user JWT and the user's seed.
func ConnectUser(url, userJWT, userSeed string, opts ...nats.Option) (*nats.Conn, error) {
	kp, err := natsjwt.ParseSeed(userSeed, natsjwt.KindUser)
	if err != nil {
		return nil, fmt.Errorf("user seed: %w", err)
	}
	return connectKeyPair(url, userJWT, kp, opts)
}

// Creds formats a user JWT and seed as a creds file, the form clients and ConnectCreds take.
func Creds(userJWT, userSeed string) (string, error) {
	b, err := jwt.FormatUserConfig(userJWT, []byte(userSeed))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func connectKeyPair(url, userJWT string, kp nkeys.KeyPair, opts []nats.Option) (*nats.Conn, error) {
	all := append([]nats.Option{
		nats.UserJWT(
			func() (string, error) { return userJWT, nil },
			func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) },
		),
		// A refused test connection should fail at once, not retry in the background.
		nats.MaxReconnects(0),
	}, opts...)
	return nats.Connect(url, all...)
}

package resolver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/cabundle"
)

// ConnectOptions say how to reach the servers.
type ConnectOptions struct {
	// Servers are nats:// or tls:// URLs; nats.go tries them in random order.
	Servers []string
	// Creds is the content of a creds file of a system account user.
	Creds string
	// CAPEM holds the PEM certificates that sign the servers' TLS certificates. Empty uses
	// the system roots.
	CAPEM string
	// Timeout bounds the connection attempt. Default 10s.
	Timeout time.Duration
	// Name is the connection name the servers show. Default "natsping resolver push".
	Name string
}

// ValidateServerURL accepts the URLs Connect can use: nats:// or tls:// with a host and no
// credentials (the creds authenticate).
func ValidateServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if s := strings.ToLower(u.Scheme); s != "nats" && s != "tls" {
		return fmt.Errorf("%q has scheme %q; use nats://host:port, or tls://host:port for TLS", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host; write it as %s://host:port", raw, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%q carries credentials; remove them, the system user creds authenticate", u.Redacted())
	}
	return nil
}

// ParseCreds checks that creds hold a user JWT and a user seed, and returns them. Errors never
// repeat the input: it is a secret.
func ParseCreds(creds string) (userJWT, seed string, err error) {
	const fix = "pass the whole creds file, such as natsping_operator.system_user_creds"
	userJWT, err = jwt.ParseDecoratedJWT([]byte(creds))
	if err != nil || userJWT == "" {
		return "", "", errors.New("the creds do not contain a valid user JWT; " + fix)
	}
	// Without decoration ParseDecoratedJWT returns its input, which may be a bare seed: the
	// decode error is safe to show (it never quotes the token), the input is not.
	if _, err := jwt.DecodeUserClaims(userJWT); err != nil {
		return "", "", fmt.Errorf("the creds do not contain a valid user JWT (%v); %s", err, fix)
	}
	kp, err := jwt.ParseDecoratedUserNKey([]byte(creds))
	if err != nil {
		return "", "", errors.New("the creds do not contain a valid user seed (SU…)")
	}
	raw, err := kp.Seed()
	if err != nil {
		return "", "", errors.New("the creds do not contain a valid user seed (SU…)")
	}
	return userJWT, string(raw), nil
}

// Connect opens a connection for Push and Lookup. It does not reconnect: an operation that
// loses its connection fails, and the next one connects afresh.
func Connect(opts ConnectOptions) (*nats.Conn, error) {
	if len(opts.Servers) == 0 {
		return nil, errors.New("no server URL given")
	}
	for _, s := range opts.Servers {
		if err := ValidateServerURL(s); err != nil {
			return nil, err
		}
	}
	userJWT, seed, err := ParseCreds(opts.Creds)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Name == "" {
		opts.Name = "natsping resolver push"
	}
	nopts := []nats.Option{
		nats.Name(opts.Name),
		nats.UserJWTAndSeed(userJWT, seed),
		nats.Timeout(opts.Timeout),
		nats.NoReconnect(),
	}
	if opts.CAPEM != "" {
		// Only the bundle: these are your own servers, see cabundle.Only.
		pool, err := cabundle.Only(opts.CAPEM)
		if err != nil {
			return nil, err
		}
		nopts = append(nopts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	nc, err := nats.Connect(strings.Join(opts.Servers, ","), nopts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", strings.Join(opts.Servers, ", "), err)
	}
	return nc, nil
}

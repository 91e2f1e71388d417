package natsjwt

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// DefaultSystemAccountName and DefaultSystemUserName are the names nsc gives the system
// account and its user, so configs and dashboards written for nsc-made setups keep working.
const (
	DefaultSystemAccountName = "SYS"
	DefaultSystemUserName    = "sys"
)

// OperatorServiceURLSchemes are the schemes nats-io/jwt accepts in operator_service_urls.
var OperatorServiceURLSchemes = []string{"nats", "tls", "ws", "wss"}

// OperatorSpec is everything an operator JWT says about the operator.
type OperatorSpec struct {
	Name string
	// StrictSigningKeys makes servers reject account JWTs signed by the operator identity
	// key, so the identity seed can stay offline.
	StrictSigningKeys   bool
	AccountServerURL    string
	OperatorServiceURLs []string
	Tags                []string
	// Expires is the zero time for an operator that never expires.
	Expires time.Time
	// SigningKeys are operator public keys allowed to sign accounts (the current key and,
	// during a rotation grace period, the previous one).
	SigningKeys []string
	// SystemAccount is the public key of the system account.
	SystemAccount string
}

// Validate reports every problem of the spec in one error, each naming the field.
func (s OperatorSpec) Validate() error {
	var errs []error
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, errors.New("name: the operator name is empty; give the operator a name"))
	}
	if s.AccountServerURL != "" {
		if err := ValidateAccountServerURL(s.AccountServerURL); err != nil {
			errs = append(errs, fmt.Errorf("account_server_url: %w", err))
		}
	}
	for _, u := range s.OperatorServiceURLs {
		if err := ValidateOperatorServiceURL(u); err != nil {
			errs = append(errs, fmt.Errorf("operator_service_urls: %w", err))
		}
	}
	for _, k := range s.SigningKeys {
		if err := ValidatePublicKey(k, KindOperator); err != nil {
			errs = append(errs, fmt.Errorf("signing key: %w", err))
		}
	}
	if s.SystemAccount != "" {
		if err := ValidatePublicKey(s.SystemAccount, KindAccount); err != nil {
			errs = append(errs, fmt.Errorf("system account: %w", err))
		}
	}
	if s.StrictSigningKeys && len(s.SigningKeys) == 0 {
		errs = append(errs, errors.New("strict signing keys need at least one operator signing key, or nothing could sign accounts"))
	}
	return errors.Join(errs...)
}

// ValidateOperatorServiceURL accepts the URLs tools use to reach the servers of this
// operator: nats://, tls://, ws:// or wss:// with a host and no credentials or path.
func ValidateOperatorServiceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if !contains(OperatorServiceURLSchemes, strings.ToLower(u.Scheme)) {
		return fmt.Errorf("%q has scheme %q; use one of nats://, tls://, ws:// or wss://, e.g. \"tls://nats.example.com:4222\"", raw, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host; write it as %s://host:port", raw, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%q carries credentials; remove them, servers authenticate with JWTs", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q has a path; operator service URLs are host and port only", raw)
	}
	// nats-io/jwt is the final judge: its validator is what servers and nsc apply.
	return jwt.ValidateOperatorServiceURL(strings.TrimSuffix(raw, "/"))
}

// ValidateAccountServerURL accepts an http(s) URL with a host, as nsc push and account
// servers expect.
func ValidateAccountServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return fmt.Errorf("%q has scheme %q; the account server URL is http:// or https://, e.g. \"https://accounts.example.com/jwt/v1\"", raw, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	return nil
}

// BuildOperatorJWT signs the operator JWT with the operator identity key (operator JWTs
// are always self-signed).
func BuildOperatorJWT(spec OperatorSpec, identity *Signer) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	if identity == nil || identity.Kind != KindOperator {
		return "", errors.New("the operator JWT must be signed by an operator identity key")
	}
	c := jwt.NewOperatorClaims(identity.PublicKey)
	c.Name = spec.Name
	c.StrictSigningKeyUsage = spec.StrictSigningKeys
	c.AccountServerURL = spec.AccountServerURL
	c.OperatorServiceURLs = sortedList(trimSlashes(spec.OperatorServiceURLs))
	c.SigningKeys = sortedList(spec.SigningKeys)
	c.SystemAccount = spec.SystemAccount
	c.Tags = jwt.TagList(sortedList(spec.Tags))
	if !spec.Expires.IsZero() {
		c.Expires = spec.Expires.Unix()
	}
	return encode(c, identity)
}

func trimSlashes(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.TrimSuffix(s, "/")
	}
	return out
}

// SystemAccountSpec describes the system account the way nsc creates it.
type SystemAccountSpec struct {
	Name      string
	PublicKey string
	// SigningKey is the public key of the account signing key that signs system users.
	// nats-server refuses users signed by an account identity key when the operator uses
	// strict signing keys, so the system account always has one.
	SigningKey string
}

// BuildSystemAccountJWT signs the system account as nsc creates it: named, with one signing
// key, and with the per-account monitoring service and stream exports so accounts can
// import their own server statistics. signer is the operator signing key.
func BuildSystemAccountJWT(spec SystemAccountSpec, signer *Signer) (string, error) {
	if strings.TrimSpace(spec.Name) == "" {
		return "", errors.New("system account name is empty; give it a name such as \"SYS\"")
	}
	if err := ValidatePublicKey(spec.PublicKey, KindAccount); err != nil {
		return "", fmt.Errorf("system account: %w", err)
	}
	if err := ValidatePublicKey(spec.SigningKey, KindAccount); err != nil {
		return "", fmt.Errorf("system account signing key: %w", err)
	}
	if signer == nil || signer.Kind != KindOperator {
		return "", errors.New("the system account JWT must be signed by an operator key")
	}
	c := jwt.NewAccountClaims(spec.PublicKey)
	c.Name = spec.Name
	c.SigningKeys.Add(spec.SigningKey)
	c.Exports = jwt.Exports{
		&jwt.Export{
			Name:                 "account-monitoring-services",
			Subject:              "$SYS.REQ.ACCOUNT.*.*",
			Type:                 jwt.Service,
			ResponseType:         jwt.ResponseTypeStream,
			AccountTokenPosition: 4,
			Info: jwt.Info{
				Description: "Request account specific monitoring services for: SUBSZ, CONNZ, LEAFZ, JSZ and INFO",
				InfoURL:     "https://docs.nats.io/running-a-nats-service/configuration/sys_accounts",
			},
		},
		&jwt.Export{
			Name:                 "account-monitoring-streams",
			Subject:              "$SYS.ACCOUNT.*.>",
			Type:                 jwt.Stream,
			AccountTokenPosition: 3,
			Info: jwt.Info{
				Description: "Account specific monitoring stream",
				InfoURL:     "https://docs.nats.io/running-a-nats-service/configuration/sys_accounts",
			},
		},
	}
	return encode(c, signer)
}

// encode validates the claims as a server would and signs them.
func encode(c jwt.Claims, signer *Signer) (string, error) {
	vr := &jwt.ValidationResults{}
	c.Validate(vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return "", fmt.Errorf("the claims would be rejected by nats-server: %w", errors.Join(errs...))
	}
	token, err := c.Encode(signer.KeyPair())
	if err != nil {
		return "", fmt.Errorf("signing %s JWT: %w", c.ClaimType(), err)
	}
	return token, nil
}

// Why nats-server refuses an account JWT's issuer, as CheckAccountIssuer reports it.
var (
	// ErrIdentityUnderStrict: the operator identity key signed, but the operator requires
	// signing keys (strict_signing_key_usage).
	ErrIdentityUnderStrict = errors.New("the operator identity key signs, but the operator requires signing keys")
	// ErrNotOperatorKey: the key is neither the operator identity nor one of its signing keys.
	ErrNotOperatorKey = errors.New("the key is neither the operator identity nor one of its signing keys")
)

// CheckAccountIssuer applies nats-server's rule for who may issue account JWTs under op
// (jwt OperatorClaims.DidSign): a listed signing key always, the identity key only when the
// operator does not require signing keys. It is the one home of that rule: the account
// resource checks its signer with it while planning, the server config every account JWT.
func CheckAccountIssuer(op *jwt.OperatorClaims, issuer string) error {
	switch {
	case op.SigningKeys.Contains(issuer):
		return nil
	case issuer == op.Subject && op.StrictSigningKeyUsage:
		return ErrIdentityUnderStrict
	case issuer == op.Subject:
		return nil
	default:
		return ErrNotOperatorKey
	}
}

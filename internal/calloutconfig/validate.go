package calloutconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/nats-io/nkeys"
)

// ForbiddenAlgorithm reports why an algorithm can never be allowed (RFC 8725 §3.1, §3.2):
// "none" carries no signature and HS* would let anyone holding the public JWKS forge tokens.
func ForbiddenAlgorithm(alg string) (string, bool) {
	switch {
	case strings.EqualFold(alg, "none"):
		return "\"none\" tokens are unsigned", true
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return "HMAC algorithms use a shared secret, so a public-key issuer's tokens could be forged", true
	}
	return "", false
}

// Validate checks the document for anything the service could not act on safely. Every
// problem is reported, not just the first.
func (d *Document) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if d.Version != Version {
		add("version %d is not supported by this build (expected %d); render the config with a matching provider", d.Version, Version)
	}
	iss := d.Issuer
	if err := CheckIssuerURL(iss.URL, iss.AllowInsecureHTTP); err != nil {
		add("issuer.url: %v", err)
	}
	if len(iss.Audiences) == 0 {
		add("issuer.audiences: at least one audience is required, otherwise tokens minted for any client would be accepted")
	}
	if len(iss.Algorithms) == 0 {
		add("issuer.algorithms: at least one algorithm is required (PingOne signs with RS256)")
	}
	for _, alg := range iss.Algorithms {
		if why, bad := ForbiddenAlgorithm(alg); bad {
			add("issuer.algorithms: %q can never be allowed: %s", alg, why)
		}
	}
	if iss.MaxTokenLifetime <= 0 {
		add("issuer.max_token_lifetime must be positive")
	}
	if iss.ClockSkew < 0 {
		add("issuer.clock_skew must not be negative")
	}
	if iss.GroupsClaim == "" {
		add("issuer.groups_claim is required: PingOne has no default group claim")
	}
	if len(iss.NameClaims) == 0 {
		add("issuer.name_claims: at least one claim is required")
	}
	if iss.JWKSURL == "" && len(iss.PinnedJWKS) == 0 {
		add("issuer: either jwks_url or pinned_jwks is required")
	}
	if iss.JWKSURL != "" && len(iss.PinnedJWKS) == 0 {
		if err := CheckIssuerURL(iss.JWKSURL, iss.AllowInsecureHTTP); err != nil {
			add("issuer.jwks_url: %v", err)
		}
	}

	n := d.NATS
	if !nkeys.IsValidPublicAccountKey(n.CalloutAccount) {
		add("nats.callout_account must be an account public key (A…)")
	}
	if kp, err := nkeys.FromSeed([]byte(n.CalloutAccountSeed)); err != nil {
		add("nats.callout_account_seed is not a valid account seed")
	} else if pub, _ := kp.PublicKey(); !nkeys.IsValidPublicAccountKey(pub) {
		add("nats.callout_account_seed is not an account seed (SA…)")
	}
	if strings.TrimSpace(n.Creds) == "" {
		add("nats.creds is required: the callout service user's creds")
	}
	if n.XKeySeed != "" {
		if kp, err := nkeys.FromCurveSeed([]byte(n.XKeySeed)); err != nil {
			add("nats.xkey_seed is not a valid curve seed (SX…)")
		} else {
			kp.Wipe()
		}
	}
	if n.QueueGroup == "" {
		add("nats.queue_group is required so replicas share requests")
	}

	seen := map[string]bool{}
	for i, m := range d.Mappings {
		where := fmt.Sprintf("mappings[%d] (%s)", i, m.Name)
		if m.Name == "" {
			add("mappings[%d].name is required", i)
		} else if seen[m.Name] {
			add("%s: duplicate mapping name", where)
		}
		seen[m.Name] = true
		if len(m.Groups) == 0 {
			add("%s: at least one group is required", where)
		}
		for _, g := range m.Groups {
			if g.Name == "" && g.ID == "" {
				add("%s: a group needs a name or an id", where)
			}
		}
		if !nkeys.IsValidPublicAccountKey(m.Account) {
			add("%s: account must be an account public key (A…)", where)
		}
		if m.Role == "" {
			add("%s: role is required", where)
		}
		if kp, err := nkeys.FromSeed([]byte(m.RoleSigningKeySeed)); err != nil {
			add("%s: role_signing_key_seed is not a valid seed", where)
		} else if pub, _ := kp.PublicKey(); !nkeys.IsValidPublicAccountKey(pub) {
			add("%s: role_signing_key_seed is not an account signing key seed (SA…)", where)
		}
		if m.MaxSession <= 0 {
			add("%s: max_session must be positive", where)
		}
	}
	return errors.Join(errs...)
}

// CheckIssuerURL requires https, except http on a loopback host when explicitly allowed.
func CheckIssuerURL(raw string, allowInsecureHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL such as https://auth.pingone.com/<environment id>/as", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if !allowInsecureHTTP {
			return fmt.Errorf("%q uses plain http; use https (set allow_insecure_http only for a loopback test issuer)", raw)
		}
		if !IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("%q uses plain http on a non-loopback host; http is only ever allowed on 127.0.0.0/8, ::1 or localhost", raw)
		}
		return nil
	default:
		return fmt.Errorf("%q has scheme %q; the issuer must be https", raw, u.Scheme)
	}
}

// IsLoopbackHost reports whether host is localhost or a loopback IP literal.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package calloutconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/cabundle"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Validate checks the document for anything the service could not act on safely and for
// everything the provider refuses at plan time. Every problem is reported, not just the first.
func (d *Document) Validate() error {
	var errs []error
	if d.Version != Version {
		errs = append(errs, fmt.Errorf("version %d is not supported by this build (expected %d); render the config with a matching provider", d.Version, Version))
	}
	errs = append(errs, d.Issuer.Validate())
	errs = append(errs, d.NATS.Validate())
	errs = append(errs, d.Offboarding.Validate())
	if len(d.Mappings) == 0 {
		errs = append(errs, errors.New("mappings: at least one mapping is required; without one every client is refused"))
	}
	if d.ExpirySpreadPercent != nil {
		if err := CheckExpirySpreadPercent(*d.ExpirySpreadPercent); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]int{}
	for i, m := range d.Mappings {
		if first, dup := seen[m.Name]; dup && m.Name != "" {
			errs = append(errs, fmt.Errorf("mappings[%d] (%s): duplicate mapping name, also mappings[%d]", i, m.Name, first))
		}
		seen[m.Name] = i
		for _, c := range m.Claims {
			// The groups claim is the trust's; a mapping rule cannot know it, the document can.
			if d.Issuer.GroupsClaim != "" && c.Path == d.Issuer.GroupsClaim {
				errs = append(errs, fmt.Errorf("mappings[%d] (%s): claim %q is the trust's groups claim; use groups", i, m.Name, c.Path))
			}
		}
		if err := m.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("mappings[%d] (%s): %w", i, m.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the issuer section: the token policy and where keys come from.
func (iss Issuer) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := CheckIssuerURL(iss.URL, iss.AllowInsecureHTTP); err != nil {
		add("issuer.url: %v", err)
	}
	if len(iss.Audiences) == 0 {
		add("issuer.audiences: at least one audience is required, otherwise tokens minted for any client would be accepted")
	}
	for _, a := range iss.Audiences {
		if a == "" {
			add("issuer.audiences: an audience is empty; remove it")
		}
	}
	if len(iss.Algorithms) == 0 {
		add("issuer.algorithms: at least one algorithm is required (PingOne signs with RS256)")
	}
	for _, alg := range iss.Algorithms {
		if err := CheckAlgorithm(alg); err != nil {
			add("issuer.algorithms: %v", err)
		}
	}
	if err := TokenLifetimeBounds.Check("issuer.max_token_lifetime", iss.MaxTokenLifetime.Std()); err != nil {
		errs = append(errs, err)
	}
	if err := ClockSkewBounds.Check("issuer.clock_skew", iss.ClockSkew.Std()); err != nil {
		errs = append(errs, err)
	}
	for _, s := range iss.RequiredScopes {
		if err := CheckScope(s); err != nil {
			add("issuer.required_scopes: %v", err)
		}
	}
	for _, s := range ScopesBothRequiredAndForbidden(iss.RequiredScopes, iss.ForbiddenScopes) {
		add("issuer: scope %q is both required and forbidden, so no token could ever be accepted", s)
	}
	for _, s := range iss.ForbiddenScopes {
		if err := CheckScope(s); err != nil {
			add("issuer.forbidden_scopes: %v", err)
		}
	}
	if iss.GroupsClaim == "" {
		add("issuer.groups_claim is required: PingOne has no default group claim")
	} else if err := CheckClaimPath(iss.GroupsClaim); err != nil {
		add("issuer.groups_claim: %v", err)
	}
	if len(iss.NameClaims) == 0 {
		add("issuer.name_claims: at least one claim is required")
	}
	for i, c := range iss.NameClaims {
		if err := CheckClaimPath(c); err != nil {
			add("issuer.name_claims: %v", err)
		}
		if slices.Index(iss.NameClaims, c) != i {
			add("issuer.name_claims: %q is listed twice", c)
		}
	}
	switch {
	case len(iss.PinnedJWKS) > 0:
		if err := CheckPinnedJWKS(iss.PinnedJWKS); err != nil {
			add("issuer.pinned_jwks: %v", err)
		}
	case iss.JWKSURL == "":
		add("issuer: either jwks_url or pinned_jwks is required")
	default:
		if err := CheckIssuerURL(iss.JWKSURL, iss.AllowInsecureHTTP); err != nil {
			add("issuer.jwks_url: %v", err)
		}
	}
	if strings.TrimSpace(iss.CABundlePEM) != "" {
		if _, err := cabundle.Parse(iss.CABundlePEM); err != nil {
			add("issuer.ca_bundle_pem: %v", err)
		}
	}
	if err := JWKSRefreshBounds.Check("issuer.jwks_min_refresh_interval", iss.JWKSMinRefreshInterval.Std()); err != nil {
		errs = append(errs, err)
	}
	if in := iss.Introspection; in != nil {
		if err := CheckIntrospectionEndpoint(in.Endpoint, iss.AllowInsecureHTTP); err != nil {
			add("issuer.introspection.endpoint: %v", err)
		}
		if in.ClientID == "" || in.ClientSecret == "" {
			add("issuer.introspection: client_id and client_secret are required; the endpoint only answers authenticated clients")
		} else if err := CheckClientID(in.ClientID); err != nil {
			add("issuer.introspection.client_id: %v", err)
		}
		if err := IntrospectionReuseBounds.Check("issuer.introspection.reuse_for", in.ReuseFor.Std()); err != nil {
			errs = append(errs, err)
		}
		if err := CheckIntrospectionAuthMethod(in.AuthMethod); err != nil {
			add("issuer.introspection.auth_method: %v", err)
		}
	}
	return errors.Join(errs...)
}

// Validate checks how the service connects and what it signs with.
func (n NATS) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for i, raw := range n.URLs {
		// Checked before the shared URL rule, whose message would print a token-only user part.
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			add("nats.urls[%d] is not a URL; write it as nats://host:port", i)
			continue
		case u.User != nil:
			add("nats.urls[%d] carries credentials in its user part; remove them, the service authenticates with nats.creds", i)
			continue
		}
		if err := natsjwt.ValidateOperatorServiceURL(raw); err != nil {
			add("nats.urls[%d]: %v", i, err)
		}
	}
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
	if err := n.validateXKeySeeds(); err != nil {
		errs = append(errs, err)
	}
	if n.QueueGroup == "" {
		add("nats.queue_group is required so replicas share requests")
	} else if err := natsjwt.ValidateSubject(n.QueueGroup, natsjwt.SubjectOptions{}); err != nil {
		add("nats.queue_group: %v", err)
	}
	if n.AuditSubject != "" {
		if err := natsjwt.ValidateSubject(n.AuditSubject, natsjwt.SubjectOptions{}); err != nil {
			add("nats.audit_subject: %v", err)
		}
	}
	return errors.Join(errs...)
}

// Validate checks one mapping, as the trust does for each rule it is given and the service
// does before it signs anything with the role's key.
func (m Mapping) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.Name == "" {
		add("name is required")
	}
	if len(m.Groups) == 0 && len(m.ClientIDs) == 0 && len(m.Scopes) == 0 && len(m.Claims) == 0 {
		add("at least one condition is required (groups, client_ids, scopes or claims); a mapping without one would admit every token")
	}
	for i, id := range m.ClientIDs {
		if err := CheckClientID(id); err != nil {
			add("client_ids: %v", err)
		}
		if slices.Index(m.ClientIDs, id) != i {
			add("client_ids: %q is listed twice", id)
		}
	}
	for _, sc := range m.Scopes {
		if err := CheckScope(sc); err != nil {
			add("scopes: %v", err)
		}
	}
	paths := map[string]bool{}
	for _, c := range m.Claims {
		if err := CheckClaimCondition(c, ""); err != nil {
			add("claims: %v", err)
		}
		if paths[c.Path] {
			add("claims: %q has two conditions; list all its values in one", c.Path)
		}
		paths[c.Path] = true
	}
	for _, g := range m.Groups {
		if g.Name == "" && g.ID == "" {
			add("a group needs a name or an id")
		}
		for _, v := range []string{g.Name, g.ID} {
			if v != "" {
				if err := CheckGroup(v); err != nil {
					add("groups: %v", err)
				}
			}
		}
	}
	if !nkeys.IsValidPublicAccountKey(m.Account) {
		add("account must be an account public key (A…)")
	}
	if m.Role == "" {
		add("role is required")
	} else if err := natsjwt.ValidateRoleName(m.Role); err != nil {
		add("role: %v", err)
	}
	if err := checkRoleKey(m); err != nil {
		errs = append(errs, err)
	}
	if err := SessionBounds.Check("max_session", m.MaxSession.Std()); err != nil {
		errs = append(errs, err)
	}
	if err := m.validateRotation(); err != nil {
		errs = append(errs, err)
	}
	for _, t := range m.AllowedConnectionTypes {
		if !slices.Contains(natsjwt.ConnectionTypes, t) {
			add("allowed_connection_types: %q is not a connection type; use one of %s", t, strings.Join(natsjwt.ConnectionTypes, ", "))
		}
	}
	for _, t := range m.Tags {
		if err := CheckMappingTag(t); err != nil {
			add("tags: %v", err)
		}
	}
	return errors.Join(errs...)
}

// checkRoleKey requires the seed to be the role's scoped signing key: an account seed (SA…)
// whose public key is the declared role key and not the account's identity key. nats-server
// refuses users signed by any other key, so a mismatch would audit "allow" for connections
// that never happen.
func checkRoleKey(m Mapping) error {
	kp, err := nkeys.FromSeed([]byte(m.RoleSigningKeySeed))
	if err != nil {
		return errors.New("role_signing_key_seed is not a valid seed")
	}
	defer kp.Wipe()
	pub, _ := kp.PublicKey()
	switch {
	case !nkeys.IsValidPublicAccountKey(pub):
		return errors.New("role_signing_key_seed is not an account signing key seed (SA…)")
	case !nkeys.IsValidPublicAccountKey(m.RoleSigningKey):
		return fmt.Errorf("role_signing_key must be the public key (A…) of role %q's scoped signing key; render the rule again with natsping_role_mapping", m.Role)
	case pub != m.RoleSigningKey:
		return fmt.Errorf("role_signing_key_seed belongs to %s, not to role %q's signing key %s; the users it signed would be refused by nats-server", pub, m.Role, m.RoleSigningKey)
	case pub == m.Account:
		return fmt.Errorf("role_signing_key_seed is the identity key of account %s, not a scoped signing key of role %q", m.Account, m.Role)
	}
	return nil
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

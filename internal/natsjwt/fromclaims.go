package natsjwt

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// The reverse of signing: specs read back from JWTs made elsewhere (nsc), so an imported
// resource's state says what its JWT says. Each function is the inverse of the rendering in
// account.go, exports.go, roles.go and permissions.go: rendering a spec read from claims gives
// the same claims (TestAccountSpecFromClaims_roundTrip).

// AccountFromClaims is an account JWT's content as a spec. Scoped signing keys become roles;
// unscoped ones are listed in SigningKeys. Ignored lists what the JWT carries that natsping does
// not model (and would drop when it re-signs the account).
type AccountFromClaims struct {
	Spec    AccountSpec
	Ignored []string
}

// AccountSpecFromClaims reads c. It fails for what cannot be represented without changing the
// account's meaning: a scoped signing key without a role name.
func AccountSpecFromClaims(c *jwt.AccountClaims) (AccountFromClaims, error) {
	s := AccountSpec{
		Name:        c.Name,
		Description: c.Description,
		InfoURL:     c.InfoURL,
		Tags:        append([]string(nil), c.Tags...),
	}
	sort.Strings(s.Tags)
	if c.Expires != 0 {
		s.Expires = time.Unix(c.Expires, 0).UTC()
	}
	l := c.Limits
	s.Limits = AccountLimits{
		Conn: limitFromJWT(l.Conn), LeafNodeConn: limitFromJWT(l.LeafNodeConn), Subs: limitFromJWT(l.Subs),
		Data: limitFromJWT(l.Data), Payload: limitFromJWT(l.Payload), Imports: limitFromJWT(l.Imports),
		Exports: limitFromJWT(l.Exports), DisallowBearer: l.DisallowBearer,
	}
	if !l.WildcardExports {
		s.Limits.WildcardExports = new(bool)
	}
	switch {
	case len(l.JetStreamTieredLimits) > 0:
		s.JetStream = &JetStreamSpec{Tiers: map[string]JetStreamLimits{}}
		for name, t := range l.JetStreamTieredLimits {
			s.JetStream.Tiers[name] = jetStreamFromJWT(t)
		}
	case l.JetStreamLimits.MemoryStorage != 0 || l.JetStreamLimits.DiskStorage != 0:
		// Both storages at 0 is how an account JWT says JetStream is disabled.
		s.JetStream = &JetStreamSpec{JetStreamLimits: jetStreamFromJWT(l.JetStreamLimits)}
	}
	for _, e := range c.Exports {
		s.Exports = append(s.Exports, exportFromJWT(e))
	}
	for _, imp := range c.Imports {
		s.Imports = append(s.Imports, ImportSpec{
			Type: kindOf(imp.Type), Name: imp.Name, Subject: string(imp.Subject), Account: imp.Account,
			LocalSubject: string(imp.LocalSubject), Token: imp.Token, Share: imp.Share, AllowTrace: imp.AllowTrace,
		})
	}
	for _, key := range sortedKeys(c.SigningKeys) {
		scope, _ := c.SigningKeys.GetScope(key)
		us, ok := scope.(*jwt.UserScope)
		if !ok || us == nil {
			s.SigningKeys = append(s.SigningKeys, key)
			continue
		}
		if us.Role == "" {
			return AccountFromClaims{}, fmt.Errorf("scoped signing key %s has no role name; natsping names roles, give it one with "+
				"`nsc edit signing-key --account %s --sk %s --role <name>` and import again", key, c.Name, key)
		}
		perms, limits := permissionLimitsFromJWT(us.Template)
		s.Roles = append(s.Roles, RoleSpec{Name: us.Role, Description: us.Description, PublicKey: key, Permissions: perms, Limits: limits})
	}
	sort.Slice(s.Roles, func(i, j int) bool { return s.Roles[i].Name < s.Roles[j].Name })
	s.DefaultPermissions = PermissionsFromJWT(c.DefaultPermissions)
	if a := c.Authorization; len(a.AuthUsers) > 0 || len(a.AllowedAccounts) > 0 || a.XKey != "" {
		s.Authorization = &ExternalAuth{AuthUsers: a.AuthUsers, AllowedAccounts: a.AllowedAccounts, XKey: a.XKey}
	}
	s.RevokedUsers = RevocationsFromJWT(c.Revocations)

	var ignored []string
	if len(c.Mappings) > 0 {
		ignored = append(ignored, "subject mappings")
	}
	if c.Trace != nil {
		ignored = append(ignored, "message tracing")
	}
	if c.ClusterTraffic != "" {
		ignored = append(ignored, "cluster_traffic")
	}
	for _, e := range c.Exports {
		if e.Latency != nil {
			ignored = append(ignored, fmt.Sprintf("latency tracking of export %q", e.Subject))
		}
	}
	return AccountFromClaims{Spec: s, Ignored: ignored}, nil
}

func exportFromJWT(e *jwt.Export) ExportSpec {
	out := ExportSpec{
		Type: kindOf(e.Type), Subject: string(e.Subject), Name: e.Name, Description: e.Description,
		TokenRequired: e.TokenReq, ResponseThreshold: e.ResponseThreshold, AccountTokenPosition: e.AccountTokenPosition,
		Advertise: e.Advertise, AllowTrace: e.AllowTrace, RevokedActivations: RevocationsFromJWT(e.Revocations),
	}
	// Singleton is what an unset response type renders to.
	if e.Type == jwt.Service && e.ResponseType != jwt.ResponseTypeSingleton {
		out.ResponseType = string(e.ResponseType)
	}
	return out
}

func kindOf(t jwt.ExportType) string {
	switch t {
	case jwt.Stream:
		return KindStream
	case jwt.Service:
		return KindService
	default:
		return strings.ToLower(t.String())
	}
}

// limitFromJWT maps the JWT's -1 (unlimited) to nil, the unset limit.
func limitFromJWT(v int64) *int64 {
	if v == jwt.NoLimit {
		return nil
	}
	return Limit(v)
}

// zeroLimitFromJWT is limitFromJWT for the limits nats-io/jwt renders unlimited as 0.
func zeroLimitFromJWT(v int64) *int64 {
	if v <= 0 {
		return nil
	}
	return Limit(v)
}

func jetStreamFromJWT(l jwt.JetStreamLimits) JetStreamLimits {
	return JetStreamLimits{
		MemoryStorage: limitFromJWT(l.MemoryStorage), DiskStorage: limitFromJWT(l.DiskStorage),
		Streams: limitFromJWT(l.Streams), Consumer: limitFromJWT(l.Consumer),
		MaxAckPending:        zeroLimitFromJWT(l.MaxAckPending),
		MemoryMaxStreamBytes: zeroLimitFromJWT(l.MemoryMaxStreamBytes),
		DiskMaxStreamBytes:   zeroLimitFromJWT(l.DiskMaxStreamBytes),
		MaxBytesRequired:     l.MaxBytesRequired,
	}
}

// PermissionsFromJWT is the reverse of Permissions.ToJWT.
func PermissionsFromJWT(p jwt.Permissions) Permissions {
	out := Permissions{
		PubAllow: sortedList(p.Pub.Allow), PubDeny: sortedList(p.Pub.Deny),
		SubAllow: sortedList(p.Sub.Allow), SubDeny: sortedList(p.Sub.Deny),
	}
	if p.Resp != nil {
		out.Response = &ResponsePermission{MaxMsgs: p.Resp.MaxMsgs, Expires: p.Resp.Expires}
	}
	return out
}

// permissionLimitsFromJWT is the reverse of UserPermissionLimits.
func permissionLimitsFromJWT(u jwt.UserPermissionLimits) (Permissions, UserLimits) {
	unset := func(v int64) int64 {
		if v == jwt.NoLimit {
			return 0
		}
		return v
	}
	return PermissionsFromJWT(u.Permissions), UserLimits{
		Subs: unset(u.Subs), Data: unset(u.Data), Payload: unset(u.Payload), Bearer: u.BearerToken,
		AllowedConnectionTypes: sortedList(u.AllowedConnectionTypes), SourceNetworks: sortedList(u.Src),
	}
}

// UserFromClaims is a user JWT's content as a spec, plus how it was signed.
type UserFromClaims struct {
	Spec UserSpec
	// Issuer is the key that signed the JWT; IssuerAccount is set when a signing key signed.
	Issuer, IssuerAccount string
	// Scoped reports a JWT without permissions of its own, as role-signed users are.
	Scoped bool
}

// UserSpecFromClaims reads a user JWT.
func UserSpecFromClaims(c *jwt.UserClaims) UserFromClaims {
	perms, limits := permissionLimitsFromJWT(c.UserPermissionLimits)
	account := c.IssuerAccount
	if account == "" {
		account = c.Issuer
	}
	spec := UserSpec{Name: c.Name, PublicKey: c.Subject, Account: account, Permissions: perms, Limits: limits, Tags: sortedList(c.Tags)}
	if c.Expires != 0 {
		spec.Expires = time.Unix(c.Expires, 0).UTC()
	}
	return UserFromClaims{Spec: spec, Issuer: c.Issuer, IssuerAccount: c.IssuerAccount, Scoped: c.HasEmptyPermissions()}
}

// RoleOfKey names the role (scoped signing key) key is in account c, or "" for an unscoped key
// or the identity.
func RoleOfKey(c *jwt.AccountClaims, key string) string {
	if c == nil {
		return ""
	}
	if scope, ok := c.SigningKeys.GetScope(key); ok {
		if us, ok := scope.(*jwt.UserScope); ok && us != nil {
			return us.Role
		}
	}
	return ""
}

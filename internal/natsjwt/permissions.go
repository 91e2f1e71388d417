package natsjwt

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// Permissions are the publish/subscribe rules of a user, an account's default user
// permissions, or a role's template.
type Permissions struct {
	PubAllow []string
	PubDeny  []string
	SubAllow []string
	SubDeny  []string
	// Response, when set, lets a subscriber reply to reply subjects it received
	// without a publish permission for them.
	Response *ResponsePermission
}

// ResponsePermission bounds how many replies, for how long, a request handler may send.
type ResponsePermission struct {
	MaxMsgs int
	Expires time.Duration
}

// UserLimits are the per-connection limits and restrictions carried next to permissions.
// Zero values of Subs/Data/Payload mean "not set" and become -1 (unlimited) in the JWT.
type UserLimits struct {
	Subs                   int64
	Data                   int64
	Payload                int64
	Bearer                 bool
	AllowedConnectionTypes []string
	SourceNetworks         []string
}

// ConnectionTypes lists the values nats-server accepts in allowed_connection_types.
var ConnectionTypes = []string{
	jwt.ConnectionTypeStandard, jwt.ConnectionTypeWebsocket, jwt.ConnectionTypeLeafnode,
	jwt.ConnectionTypeLeafnodeWS, jwt.ConnectionTypeMqtt, jwt.ConnectionTypeMqttWS, jwt.ConnectionTypeInProcess,
}

// Validate reports every malformed subject and impossible value. templates allows role
// template functions such as {{tag(team)}}, which only scoped signing keys may use.
func (p Permissions) Validate(templates bool) error {
	var errs []error
	check := func(field string, subjects []string, queue bool) {
		seen := map[string]bool{}
		for _, s := range subjects {
			if err := ValidateSubject(s, SubjectOptions{Wildcards: true, Templates: templates, Queue: queue}); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", field, err))
			}
			if seen[s] {
				errs = append(errs, fmt.Errorf("%s: subject %q is listed twice", field, s))
			}
			seen[s] = true
		}
	}
	check("pub_allow", p.PubAllow, false)
	check("pub_deny", p.PubDeny, false)
	check("sub_allow", p.SubAllow, true)
	check("sub_deny", p.SubDeny, true)
	if r := p.Response; r != nil {
		if r.MaxMsgs < 0 {
			errs = append(errs, fmt.Errorf("response.max_msgs is %d; use a positive number of replies, or 0 for the server default", r.MaxMsgs))
		}
		if r.Expires < 0 {
			errs = append(errs, fmt.Errorf("response.ttl is %s; use a positive duration such as \"1s\"", r.Expires))
		}
	}
	return errors.Join(errs...)
}

// IsEmpty reports whether no rule is set.
func (p Permissions) IsEmpty() bool {
	return len(p.PubAllow)+len(p.PubDeny)+len(p.SubAllow)+len(p.SubDeny) == 0 && p.Response == nil
}

// Validate reports impossible limits, unknown connection types and malformed networks.
func (l UserLimits) Validate() error {
	var errs []error
	for name, v := range map[string]int64{"max_subscriptions": l.Subs, "max_data": l.Data, "max_payload": l.Payload} {
		if v < -1 {
			errs = append(errs, fmt.Errorf("%s is %d; use a positive number, or -1 (or leave it unset) for unlimited", name, v))
		}
	}
	for _, ct := range l.AllowedConnectionTypes {
		if !contains(ConnectionTypes, ct) {
			errs = append(errs, fmt.Errorf("allowed_connection_types: %q is not a connection type; use one of %s", ct, strings.Join(ConnectionTypes, ", ")))
		}
	}
	for _, cidr := range l.SourceNetworks {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			if net.ParseIP(cidr) == nil {
				errs = append(errs, fmt.Errorf("source_networks: %q is neither a CIDR (10.0.0.0/8) nor an IP address", cidr))
			}
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// ToJWT renders permissions into nats-io/jwt's form with sorted, de-duplicated lists so the
// same input always signs to the same claims.
func (p Permissions) ToJWT() jwt.Permissions {
	var out jwt.Permissions
	out.Pub.Allow = sortedList(p.PubAllow)
	out.Pub.Deny = sortedList(p.PubDeny)
	out.Sub.Allow = sortedList(p.SubAllow)
	out.Sub.Deny = sortedList(p.SubDeny)
	if p.Response != nil {
		out.Resp = &jwt.ResponsePermission{MaxMsgs: p.Response.MaxMsgs, Expires: p.Response.Expires}
	}
	return out
}

// UserPermissionLimits combines permissions and limits as user JWTs and role templates carry them.
func UserPermissionLimits(p Permissions, l UserLimits) jwt.UserPermissionLimits {
	var out jwt.UserPermissionLimits
	out.Permissions = p.ToJWT()
	out.Subs = orUnlimited(l.Subs)
	out.Data = orUnlimited(l.Data)
	out.Payload = orUnlimited(l.Payload)
	out.BearerToken = l.Bearer
	if len(l.AllowedConnectionTypes) > 0 {
		out.AllowedConnectionTypes = sortedList(l.AllowedConnectionTypes)
	}
	if len(l.SourceNetworks) > 0 {
		out.Src = jwt.CIDRList(sortedList(l.SourceNetworks))
	}
	return out
}

func orUnlimited(v int64) int64 {
	if v == 0 {
		return jwt.NoLimit
	}
	return v
}

func sortedList(in []string) jwt.StringList {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

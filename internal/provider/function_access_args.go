package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/natsping/terraform-provider-natsping/internal/access"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// The access functions take dynamic arguments because a Terraform object parameter has no
// optional attributes: `{ pub_allow = ["a"] }` would be refused for lacking pub_deny.

// plainValue turns a Terraform value into nil, string, *big.Float, bool, []any or
// map[string]any, so both permission shapes can be read with one set of rules.
func plainValue(v tftypes.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsKnown() {
		return nil, errors.New("the value is not known yet")
	}
	t := v.Type()
	switch {
	case t.Is(tftypes.String):
		var s string
		err := v.As(&s)
		return s, err
	case t.Is(tftypes.Number):
		var n big.Float
		err := v.As(&n)
		return &n, err
	case t.Is(tftypes.Bool):
		var b bool
		err := v.As(&b)
		return b, err
	case t.Is(tftypes.Object{}), t.Is(tftypes.Map{}):
		var m map[string]tftypes.Value
		if err := v.As(&m); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			pv, err := plainValue(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = pv
		}
		return out, nil
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}), t.Is(tftypes.Tuple{}):
		var l []tftypes.Value
		if err := v.As(&l); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(l))
		for _, e := range l {
			pv, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, pv)
		}
		return out, nil
	}
	return nil, fmt.Errorf("values of type %s are not supported", t)
}

func dynamicObject(ctx context.Context, d types.Dynamic, what string) (map[string]any, error) {
	if d.IsNull() || d.IsUnderlyingValueNull() {
		return nil, fmt.Errorf("%s is null; pass an object", what)
	}
	tv, err := d.UnderlyingValue().ToTerraformValue(ctx)
	if err != nil {
		return nil, err
	}
	pv, err := plainValue(tv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	m, ok := pv.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object, not %s", what, tv.Type().String())
	}
	return m, nil
}

func plainStrings(v any, field string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of strings", field)
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be a list of strings; one element is %v", field, e)
		}
		out = append(out, s)
	}
	return out, nil
}

func wholeNumber(v any, field string) (int64, error) {
	n, ok := v.(*big.Float)
	if !ok {
		return 0, fmt.Errorf("%s must be a number", field)
	}
	i, acc := n.Int64()
	if acc != big.Exact {
		return 0, fmt.Errorf("%s must be a whole number, not %s", field, n.Text('g', -1))
	}
	return i, nil
}

var (
	providerPermissionKeys = []string{"pub_allow", "pub_deny", "sub_allow", "sub_deny", "response"}
	jwtPermissionKeys      = []string{"pub", "sub", "resp"}
)

func hasAny(m map[string]any, keys []string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { _, ok := m[k]; return ok })
}

// permissionsArg reads a permissions argument in any of the forms a configuration has at
// hand: the provider's permissions attribute, a JWT's permissions (claims.nats of a decoded
// user JWT, or an account's default_permissions), or decode_jwt's whole result for a user.
func permissionsArg(ctx context.Context, d types.Dynamic) (access.Permissions, error) {
	m, err := dynamicObject(ctx, d, "permissions")
	if err != nil {
		return access.Permissions{}, err
	}
	if claims, ok := m["claims"].(map[string]any); ok {
		if typ, _ := m["type"].(string); typ != "" && typ != "user" {
			return access.Permissions{}, fmt.Errorf("this is a decoded %s JWT; only a user JWT carries permissions (for an account's defaults pass claims.nats.default_permissions)", typ)
		}
		nats, _ := claims["nats"].(map[string]any)
		if nats == nil {
			return access.Permissions{}, errors.New("the decoded JWT has no nats claims")
		}
		m = nats
	}
	return permissionsFromObject(m, false)
}

// permissionsFromObject reads either form; templates admits role template entries, which
// only a role's permissions may hold.
func permissionsFromObject(m map[string]any, templates bool) (access.Permissions, error) {
	var (
		p   natsjwt.Permissions
		err error
	)
	switch {
	case hasAny(m, providerPermissionKeys) && hasAny(m, jwtPermissionKeys):
		return access.Permissions{}, errors.New("permissions mix the provider's attributes (pub_allow, …) with a JWT's (pub, sub, resp); use one form")
	case hasAny(m, jwtPermissionKeys):
		// claims.nats also holds limits, tags and the claim version; only these three matter.
		p, err = jwtFormPermissions(m)
	default:
		p, err = providerFormPermissions(m)
	}
	if err != nil {
		return access.Permissions{}, err
	}
	for _, l := range [][]string{p.PubAllow, p.PubDeny, p.SubAllow, p.SubDeny} {
		for _, s := range l {
			if !templates && strings.Contains(s, "{{") {
				return access.Permissions{}, fmt.Errorf("entry %q is a role template, which the server expands per user; use role_allows with the account JWT, the role and a person", s)
			}
		}
	}
	if err := p.Validate(templates); err != nil {
		return access.Permissions{}, err
	}
	return access.FromJWT(p.ToJWT()), nil
}

func providerFormPermissions(m map[string]any) (natsjwt.Permissions, error) {
	var p natsjwt.Permissions
	for _, k := range sortedKeys(m) {
		if !slices.Contains(providerPermissionKeys, k) {
			return p, fmt.Errorf("unknown permissions attribute %q; use %s (or a JWT's pub, sub and resp)", k, strings.Join(providerPermissionKeys, ", "))
		}
	}
	var err error
	lists := []struct {
		key string
		dst *[]string
	}{{"pub_allow", &p.PubAllow}, {"pub_deny", &p.PubDeny}, {"sub_allow", &p.SubAllow}, {"sub_deny", &p.SubDeny}}
	for _, l := range lists {
		if *l.dst, err = plainStrings(m[l.key], l.key); err != nil {
			return p, err
		}
	}
	if m["response"] == nil {
		return p, nil
	}
	r, ok := m["response"].(map[string]any)
	if !ok {
		return p, errors.New("response must be an object with max_msgs and ttl")
	}
	p.Response = &natsjwt.ResponsePermission{MaxMsgs: 1}
	for _, k := range sortedKeys(r) {
		switch k {
		case "max_msgs":
			if r[k] == nil {
				continue
			}
			n, err := wholeNumber(r[k], "response.max_msgs")
			if err != nil {
				return p, err
			}
			p.Response.MaxMsgs = int(n)
		case "ttl":
			if r[k] == nil {
				continue
			}
			s, ok := r[k].(string)
			if !ok {
				return p, errors.New("response.ttl must be a duration string such as \"5s\"")
			}
			if p.Response.Expires, err = time.ParseDuration(s); err != nil {
				return p, fmt.Errorf("response.ttl: %w", err)
			}
		default:
			return p, fmt.Errorf("unknown response attribute %q; use max_msgs and ttl", k)
		}
	}
	return p, nil
}

func jwtFormPermissions(m map[string]any) (natsjwt.Permissions, error) {
	var p natsjwt.Permissions
	for _, side := range []string{"pub", "sub"} {
		if m[side] == nil {
			continue
		}
		s, ok := m[side].(map[string]any)
		if !ok {
			return p, fmt.Errorf("%s must be an object with allow and deny", side)
		}
		for _, k := range sortedKeys(s) {
			if k != "allow" && k != "deny" {
				return p, fmt.Errorf("unknown attribute %s.%s; a JWT's %s has allow and deny", side, k, side)
			}
		}
		allow, err := plainStrings(s["allow"], side+".allow")
		if err != nil {
			return p, err
		}
		deny, err := plainStrings(s["deny"], side+".deny")
		if err != nil {
			return p, err
		}
		if side == "pub" {
			p.PubAllow, p.PubDeny = allow, deny
		} else {
			p.SubAllow, p.SubDeny = allow, deny
		}
	}
	if m["resp"] == nil {
		return p, nil
	}
	r, ok := m["resp"].(map[string]any)
	if !ok {
		return p, errors.New("resp must be an object with max and ttl")
	}
	p.Response = &natsjwt.ResponsePermission{}
	for _, k := range sortedKeys(r) {
		if r[k] == nil {
			continue
		}
		n, err := wholeNumber(r[k], "resp."+k)
		if err != nil {
			return p, err
		}
		switch k {
		case "max":
			p.Response.MaxMsgs = int(n)
		case "ttl":
			// A JWT carries the reply window in nanoseconds.
			p.Response.Expires = time.Duration(n)
		default:
			return p, fmt.Errorf("unknown attribute resp.%s; a JWT's resp has max and ttl", k)
		}
	}
	return p, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// opArg reads "pub" or "sub" and the optional queue group; on error, at is the offset of the
// argument at fault from op (0 op, 2 queue).
func opArg(op string, queue []string) (o access.Op, q string, at int64, err error) {
	if len(queue) > 1 {
		return 0, "", 2, fmt.Errorf("at most one queue group may follow the subject, got %d", len(queue))
	}
	if len(queue) == 1 {
		if q = queue[0]; q == "" {
			return 0, "", 2, errors.New("the queue group is empty; leave it out for a plain subscription")
		}
	}
	switch op {
	case "pub":
		if q != "" {
			return 0, "", 2, errors.New("a queue group applies to subscriptions only; use op \"sub\"")
		}
		return access.Publish, "", 0, nil
	case "sub":
		return access.Subscribe, q, 0, nil
	}
	return 0, "", 0, fmt.Errorf("op is %q; use \"pub\" or \"sub\"", op)
}

// identityArg reads the person a role template is expanded for, as the user JWT the callout
// issues would carry them.
func identityArg(ctx context.Context, d types.Dynamic) (access.Identity, error) {
	m, err := dynamicObject(ctx, d, "identity")
	if err != nil {
		return access.Identity{}, err
	}
	var id access.Identity
	for _, k := range sortedKeys(m) {
		switch k {
		case "name":
			s, ok := m[k].(string)
			if !ok || s == "" {
				return id, errors.New("identity.name must be a non-empty string (the user JWT's name)")
			}
			id.Name = s
		case "subject":
			if m[k] == nil {
				continue
			}
			s, ok := m[k].(string)
			if !ok {
				return id, errors.New("identity.subject must be a string (the user's public nkey)")
			}
			id.UserKey = s
		case "tags":
			if id.Tags, err = plainStrings(m[k], "identity.tags"); err != nil {
				return id, err
			}
			for _, t := range id.Tags {
				if !strings.Contains(t, ":") {
					return id, fmt.Errorf("identity tag %q has no value; write tags as \"key:value\", as the user JWT carries them", t)
				}
			}
		default:
			return id, fmt.Errorf("unknown identity attribute %q; use name, subject and tags", k)
		}
	}
	if id.Name == "" {
		return id, errors.New("identity needs a name (the user JWT's name, which {{name()}} expands to)")
	}
	return id, nil
}

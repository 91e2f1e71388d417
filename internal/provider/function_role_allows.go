package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/access"
)

var _ function.Function = (*roleAllowsFunction)(nil)

// NewRoleAllowsFunction is provider::natsping::role_allows: the same check for a role, whose
// template nats-server expands per user, so the answer depends on who the person is.
func NewRoleAllowsFunction() function.Function { return &roleAllowsFunction{} }

type roleAllowsFunction struct{}

func (f *roleAllowsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "role_allows"
}

func (f *roleAllowsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Whether a role lets a given person publish or subscribe",
		MarkdownDescription: "Returns `true` when a user of `role` (a scoped signing key of `account`) with `identity` " +
			"may `pub` or `sub` on `subject`. The role's template is expanded for the identity as the server does " +
			"(`{{name()}}`, `{{tag(x)}}`, `{{subject()}}`, `{{account-name()}}`, `{{account-tag(x)}}`; an allow entry " +
			"with a missing tag is dropped), and a template without rules gives the account's default permissions. " +
			"When the server would refuse the user's connection (a deny entry with a missing tag, an invalid expanded " +
			"subject) the function fails, naming the entry; wrap it in `can()` to assert that. An account JWT's " +
			"signature is verified." + accessFunctionsNote,
		Parameters: []function.Parameter{
			function.DynamicParameter{
				Name: "account",
				MarkdownDescription: "The account JWT (`natsping_account.<name>.jwt`), or the account's configuration as an " +
					"object `{ name, roles, default_permissions, tags, public_key }` built from the resource's attributes " +
					"(only `name` and `roles` are required). The configuration is known while planning, the JWT of a " +
					"changed account only after apply, so pass the configuration for a precondition that must fail the plan.",
			},
			function.StringParameter{Name: "role", MarkdownDescription: "The role name, as in the account's `roles`."},
			function.DynamicParameter{
				Name: "identity",
				MarkdownDescription: "The person as their user JWT would carry them: `name` (required; the callout's user " +
					"name), `tags` (list of `\"key:value\"`, e.g. the mapping's tags and `role:<role>`), `subject` (the " +
					"user's public nkey, only for `{{subject()}}`).",
			},
			function.StringParameter{Name: "op", MarkdownDescription: "`pub` or `sub`."},
			function.StringParameter{Name: "subject", MarkdownDescription: "The subject to publish to (one literal subject) or subscribe to (wildcards allowed)."},
		},
		VariadicParameter: queueParameter,
		Return:            function.BoolReturn{},
	}
}

func (f *roleAllowsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var (
		role, op, subject string
		account, identity types.Dynamic
		queue             []string
	)
	if resp.Error = function.ConcatFuncErrors(req.Arguments.Get(ctx, &account, &role, &identity, &op, &subject, &queue)); resp.Error != nil {
		return
	}
	acc, err := accountArg(ctx, account)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	r, ok := acc.roles[role]
	if !ok {
		resp.Error = function.NewArgumentFuncError(1, acc.missingRole(role))
		return
	}
	id, err := identityArg(ctx, identity)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(2, err.Error())
		return
	}
	id.AccountName, id.AccountKey, id.AccountTags = acc.name, acc.key, acc.tags
	p, err := access.ForUser(r.template, acc.defaults, id)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf("nats-server refuses the connection of this user of role %q: %v", role, err))
		return
	}
	resp.Error = decide(ctx, resp, p, 3, op, subject, queue)
}

// accountRoles is what a role check reads from an account: its roles' templates by name,
// its default permissions and what the account template functions expand to.
type accountRoles struct {
	name, key string
	tags      []string
	roles     map[string]accountRole
	defaults  access.Permissions
}

// accountRole is a role's template and the limits its users get, as the account JWT
// carries them (-1: unlimited).
type accountRole struct {
	template            access.Permissions
	subs, data, payload int64
	bearer              bool
	connTypes, networks []string
}

func (a accountRoles) missingRole(role string) string {
	if len(a.roles) == 0 {
		return fmt.Sprintf("account %s has no roles", a.name)
	}
	return fmt.Sprintf("account %s has no role %q; its roles are %s", a.name, role, strings.Join(sortedKeys(a.roles), ", "))
}

func accountArg(ctx context.Context, d types.Dynamic) (accountRoles, error) {
	if s, ok := d.UnderlyingValue().(types.String); ok {
		ac, err := decodeAccountJWT(s.ValueString())
		if err != nil {
			return accountRoles{}, err
		}
		return accountFromJWT(ac), nil
	}
	m, err := dynamicObject(ctx, d, "account")
	if err != nil {
		return accountRoles{}, fmt.Errorf("%v (the account JWT, or an object with name and roles)", err)
	}
	return accountFromConfig(m)
}

func decodeAccountJWT(token string) (*jwt.AccountClaims, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("the account JWT is empty; pass natsping_account.<name>.jwt")
	}
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, fmt.Errorf("not a validly signed account JWT: %v", err)
	}
	return ac, nil
}

func accountFromJWT(ac *jwt.AccountClaims) accountRoles {
	a := accountRoles{
		name: ac.Name, key: ac.Subject, tags: ac.Tags,
		roles:    map[string]accountRole{},
		defaults: access.FromJWT(ac.DefaultPermissions),
	}
	for _, scope := range ac.SigningKeys {
		if us, ok := scope.(*jwt.UserScope); ok {
			t := us.Template
			a.roles[us.Role] = accountRole{
				template: access.FromJWT(t.Permissions),
				subs:     t.Subs, data: t.Data, payload: t.Payload, bearer: t.BearerToken,
				connTypes: slices.Sorted(slices.Values(t.AllowedConnectionTypes)),
				networks:  slices.Sorted(slices.Values(t.Src)),
			}
		}
	}
	return a
}

var accountConfigKeys = []string{"default_permissions", "name", "public_key", "roles", "tags"}

// accountFromConfig reads an object of the natsping_account attributes that decide access.
// Keys are strict so that the whole resource (which holds seeds) is refused rather than
// quietly accepted.
func accountFromConfig(m map[string]any) (accountRoles, error) {
	a := accountRoles{roles: map[string]accountRole{}}
	for _, k := range sortedKeys(m) {
		v := m[k]
		var err error
		switch k {
		case "name":
			s, ok := v.(string)
			if !ok || s == "" {
				return a, errors.New("account name must be a non-empty string")
			}
			a.name = s
		case "public_key":
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return a, errors.New("account public_key must be a string")
			}
			a.key = s
		case "tags":
			a.tags, err = plainStrings(v, "account tags")
		case "default_permissions":
			if v == nil {
				continue
			}
			dm, ok := v.(map[string]any)
			if !ok {
				return a, errors.New("account default_permissions must be an object")
			}
			if a.defaults, err = permissionsFromObject(dm, false); err != nil {
				err = fmt.Errorf("default_permissions: %w", err)
			}
		case "roles":
			err = a.readRoles(v)
		default:
			return a, fmt.Errorf("unknown account attribute %q; use %s (never the whole resource, which holds seeds)", k, strings.Join(accountConfigKeys, ", "))
		}
		if err != nil {
			return a, err
		}
	}
	if a.name == "" {
		return a, errors.New("the account object needs a name ({{account-name()}} expands to it)")
	}
	return a, nil
}

func (a *accountRoles) readRoles(v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return errors.New("account roles must be a list of objects with name and permissions")
	}
	for i, e := range list {
		r, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("roles[%d] must be an object with name and permissions", i)
		}
		name, _ := r["name"].(string)
		if name == "" {
			return fmt.Errorf("roles[%d] has no name", i)
		}
		if _, dup := a.roles[name]; dup {
			return fmt.Errorf("role %q is listed twice", name)
		}
		ar, err := roleFromConfig(name, r)
		if err != nil {
			return err
		}
		a.roles[name] = ar
	}
	return nil
}

// roleFromConfig reads one entry of natsping_account.roles; description and unknown
// attributes say nothing about access.
func roleFromConfig(name string, r map[string]any) (accountRole, error) {
	ar := accountRole{subs: -1, data: -1, payload: -1}
	if pm, ok := r["permissions"].(map[string]any); ok {
		var err error
		if ar.template, err = permissionsFromObject(pm, true); err != nil {
			return ar, fmt.Errorf("role %q permissions: %w", name, err)
		}
	} else if r["permissions"] != nil {
		return ar, fmt.Errorf("role %q permissions must be an object", name)
	}
	for _, f := range []struct {
		key string
		dst *int64
	}{{"max_data", &ar.data}, {"max_payload", &ar.payload}, {"max_subscriptions", &ar.subs}} {
		if r[f.key] == nil {
			continue
		}
		n, err := wholeNumber(r[f.key], fmt.Sprintf("role %q %s", name, f.key))
		if err != nil {
			return ar, err
		}
		if n != 0 {
			*f.dst = n
		}
	}
	if b, ok := r["bearer"].(bool); ok {
		ar.bearer = b
	}
	var err error
	if ar.connTypes, err = plainStrings(r["allowed_connection_types"], fmt.Sprintf("role %q allowed_connection_types", name)); err != nil {
		return ar, err
	}
	if ar.networks, err = plainStrings(r["source_networks"], fmt.Sprintf("role %q source_networks", name)); err != nil {
		return ar, err
	}
	slices.Sort(ar.connTypes)
	slices.Sort(ar.networks)
	return ar, nil
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ function.Function = (*accessViewFunction)(nil)

// NewAccessViewFunction is provider::natsping::access_view. It exists beside the data
// source because Terraform defers reading a data source whose own arguments reference a
// resource with pending changes, and whether a reference through locals escapes that is the
// CLI's choice; a function is always evaluated in the plan.
func NewAccessViewFunction() function.Function { return &accessViewFunction{} }

type accessViewFunction struct{}

func (f *accessViewFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "access_view"
}

func (f *accessViewFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The access review table of the natsping_access_view data source, in the plan",
		MarkdownDescription: "Returns the markdown table of `natsping_access_view` (one row per mapping: who, account, " +
			"role, the role's permissions in template form, limits) for the same `accounts` and `mappings`. Terraform " +
			"and OpenTofu read a data source whose own arguments reference a resource with pending changes only at " +
			"apply; a function is evaluated while planning whatever its arguments reference, so an `output` of it " +
			"shows a changed role or mapping in the plan. Needs Terraform 1.8 or OpenTofu 1.7 or later.",
		Parameters: []function.Parameter{
			function.DynamicParameter{
				Name:                "accounts",
				MarkdownDescription: "List of account JWTs or account objects `{ name, public_key, tags, roles, default_permissions }`.",
			},
			function.DynamicParameter{
				Name: "mappings",
				MarkdownDescription: "List of mapping objects with `natsping_role_mapping`'s non-secret attributes: `name`, " +
					"`role`, `account` or `account_name`, and optionally `groups`, `client_ids`, `scopes`, `claims`, `tags`, " +
					"`priority`, `max_session`, `allowed_connection_types`.",
			},
		},
		Return: function.StringReturn{},
	}
}

func (f *accessViewFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var accountsArg, mappingsArg types.Dynamic
	if resp.Error = function.ConcatFuncErrors(req.Arguments.Get(ctx, &accountsArg, &mappingsArg)); resp.Error != nil {
		return
	}
	accounts, err := accessViewAccounts(ctx, accountsArg)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	mappings, err := plainMappings(ctx, mappingsArg)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(1, err.Error())
		return
	}
	entries := make([]accessViewEntry, 0, len(mappings))
	for i, m := range mappings {
		e, field, err := accessViewEntryFor(m, accounts)
		if err != nil {
			resp.Error = function.NewArgumentFuncError(1, fmt.Sprintf("mappings[%d].%s: %v", i, field, err))
			return
		}
		entries = append(entries, e)
	}
	sortAccessEntries(entries)
	resp.Error = resp.Result.Set(ctx, accessViewMarkdown(entries))
}

var mappingKeys = []string{"account", "account_name", "allowed_connection_types", "claims", "client_ids", "groups",
	"max_session", "name", "priority", "role", "scopes", "tags"}

func plainMappings(ctx context.Context, d types.Dynamic) ([]viewMapping, error) {
	if d.IsNull() || d.IsUnderlyingValueNull() {
		return nil, errors.New("mappings is null; pass a list of mapping objects")
	}
	tv, err := d.UnderlyingValue().ToTerraformValue(ctx)
	if err != nil {
		return nil, err
	}
	pv, err := plainValue(tv)
	if err != nil {
		return nil, err
	}
	list, ok := pv.([]any)
	if !ok {
		return nil, fmt.Errorf("mappings must be a list of objects, not %s", tv.Type())
	}
	out := make([]viewMapping, 0, len(list))
	seen := map[string]bool{}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("mappings[%d] must be an object", i)
		}
		vm, err := plainMapping(m)
		if err != nil {
			return nil, fmt.Errorf("mappings[%d]: %w", i, err)
		}
		if seen[vm.name] {
			return nil, fmt.Errorf("mappings[%d]: mapping %q is listed twice; mapping names are unique within a trust", i, vm.name)
		}
		seen[vm.name] = true
		out = append(out, vm)
	}
	return out, nil
}

func plainMapping(m map[string]any) (viewMapping, error) {
	var vm viewMapping
	str := func(k string) (string, error) {
		if m[k] == nil {
			return "", nil
		}
		s, ok := m[k].(string)
		if !ok {
			return "", fmt.Errorf("%s must be a string", k)
		}
		return s, nil
	}
	for _, secret := range []string{"rule", "signer"} {
		if _, ok := m[secret]; ok {
			return vm, fmt.Errorf("mapping attribute %q holds the role's signing seed and must not reach the view; pass only %s", secret, strings.Join(mappingKeys, ", "))
		}
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(mappingKeys, k) {
			return vm, fmt.Errorf("unknown mapping attribute %q; use %s", k, strings.Join(mappingKeys, ", "))
		}
	}
	var err error
	// Fixed order, so the same input always reports the same first error.
	for _, f := range []struct {
		k   string
		dst *string
	}{{"account", &vm.account}, {"account_name", &vm.accountName}, {"max_session", &vm.maxSession}, {"name", &vm.name}, {"role", &vm.role}} {
		if *f.dst, err = str(f.k); err != nil {
			return vm, err
		}
	}
	if vm.name == "" || vm.role == "" {
		return vm, errors.New("a mapping needs name and role")
	}
	for _, f := range []struct {
		k   string
		dst *[]string
	}{{"allowed_connection_types", &vm.connTypes}, {"client_ids", &vm.clientIDs}, {"groups", &vm.groups}, {"scopes", &vm.scopes}, {"tags", &vm.tags}} {
		if *f.dst, err = plainStrings(m[f.k], f.k); err != nil {
			return vm, err
		}
	}
	if m["priority"] != nil {
		if vm.priority, err = wholeNumber(m["priority"], "priority"); err != nil {
			return vm, err
		}
	}
	if m["claims"] != nil {
		cm, ok := m["claims"].(map[string]any)
		if !ok {
			return vm, errors.New("claims must be a map of claim path to values")
		}
		vm.claims = map[string][]string{}
		for _, k := range sortedKeys(cm) {
			if vm.claims[k], err = plainStrings(cm[k], "claims."+k); err != nil {
				return vm, err
			}
		}
	}
	return vm, nil
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/natsping/terraform-provider-natsping/internal/access"
)

// accessViewAccounts reads the accounts list: each entry an account JWT or an account's
// configuration object, in the same forms as role_allows takes.
func accessViewAccounts(ctx context.Context, d types.Dynamic) ([]accountRoles, error) {
	if d.IsNull() || d.IsUnderlyingValueNull() {
		return nil, errors.New("accounts is null; pass a list of account JWTs or account objects")
	}
	tv, err := d.UnderlyingValue().ToTerraformValue(ctx)
	if err != nil {
		return nil, err
	}
	t := tv.Type()
	if !t.Is(tftypes.List{}) && !t.Is(tftypes.Tuple{}) && !t.Is(tftypes.Set{}) {
		return nil, fmt.Errorf("accounts must be a list, not %s", t)
	}
	var elems []tftypes.Value
	if err := tv.As(&elems); err != nil {
		return nil, err
	}
	out := make([]accountRoles, 0, len(elems))
	for i, e := range elems {
		pv, err := plainValue(e)
		if err != nil {
			return nil, fmt.Errorf("accounts[%d]: %w", i, err)
		}
		var a accountRoles
		switch v := pv.(type) {
		case string:
			ac, err := decodeAccountJWT(v)
			if err != nil {
				return nil, fmt.Errorf("accounts[%d]: %w", i, err)
			}
			a = accountFromJWT(ac)
		case map[string]any:
			if a, err = accountFromConfig(v); err != nil {
				return nil, fmt.Errorf("accounts[%d]: %w", i, err)
			}
		default:
			return nil, fmt.Errorf("accounts[%d] must be an account JWT or an object with name and roles", i)
		}
		for _, b := range out {
			if b.name == a.name || (a.key != "" && b.key == a.key) {
				return nil, fmt.Errorf("accounts[%d]: account %s is listed twice", i, a.name)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// viewMapping is one mapping's non-secret attributes, from the data source's mappings or the
// access_view function's argument.
type viewMapping struct {
	name, account, accountName, role, maxSession string
	groups, clientIDs, scopes, tags, connTypes   []string
	claims                                       map[string][]string
	priority                                     int64
}

// accessViewEntryFor joins one mapping to its account and role; on error field names the
// mapping attribute at fault.
func accessViewEntryFor(in viewMapping, accounts []accountRoles) (accessViewEntry, string, error) {
	var (
		acc   *accountRoles
		field string
	)
	switch {
	case in.account != "":
		field = "account"
		for i := range accounts {
			if accounts[i].key == in.account {
				acc = &accounts[i]
			}
		}
		if acc == nil {
			return accessViewEntry{}, field, fmt.Errorf("no account in accounts has public key %s; pass its JWT, or its configuration with public_key", in.account)
		}
	case in.accountName != "":
		field = "account_name"
		for i := range accounts {
			if accounts[i].name == in.accountName {
				acc = &accounts[i]
			}
		}
		if acc == nil {
			return accessViewEntry{}, field, fmt.Errorf("no account in accounts is named %q", in.accountName)
		}
	default:
		return accessViewEntry{}, "account", errors.New("give the mapping's account (public key) or account_name")
	}
	role, ok := acc.roles[in.role]
	if !ok {
		return accessViewEntry{}, "role", errors.New(acc.missingRole(in.role))
	}
	perms, defaults := role.template, false
	if perms.IsEmpty() {
		perms, defaults = acc.defaults, true
	}
	e := accessViewEntry{
		Mapping:                in.name,
		Priority:               in.priority,
		Account:                acc.name,
		AccountKey:             stringOrNull(acc.key),
		Role:                   in.role,
		Groups:                 sortedCopy(in.groups),
		ClientIDs:              sortedCopy(in.clientIDs),
		Scopes:                 sortedCopy(in.scopes),
		Claims:                 map[string][]string{},
		Tags:                   sortedCopy(in.tags),
		MaxSession:             stringOrNull(in.maxSession),
		AllowedConnectionTypes: sortedCopy(in.connTypes),
		AccountDefaults:        defaults,
		Permissions: accessViewPermissions{
			PubAllow: sortedCopy(perms.PubAllow),
			PubDeny:  sortedCopy(perms.PubDeny),
			SubAllow: sortedCopy(perms.SubAllow),
			SubDeny:  sortedCopy(perms.SubDeny),
			Response: types.StringNull(),
		},
		RoleLimits: accessViewLimits{
			MaxSubscriptions:       role.subs,
			MaxData:                role.data,
			MaxPayload:             role.payload,
			Bearer:                 role.bearer,
			AllowedConnectionTypes: sortedCopy(role.connTypes),
			SourceNetworks:         sortedCopy(role.networks),
		},
	}
	for k, v := range in.claims {
		e.Claims[k] = sortedCopy(v)
	}
	if r := perms.Responses; r != nil {
		e.Permissions.Response = types.StringValue(responseText(r))
	}
	return e, "", nil
}

// responseText shows the server's effective values, so an unset max or ttl reads as what
// the server applies.
func responseText(r *access.ResponsePermission) string {
	maxMsgs, ttl := r.MaxMsgs, r.Expires
	if maxMsgs == 0 {
		maxMsgs = access.DefaultResponseMaxMsgs
	}
	if ttl == 0 {
		ttl = access.DefaultResponseExpires
	}
	return "max " + strconv.Itoa(maxMsgs) + ", ttl " + ttl.String()
}

func sortedCopy(in []string) []string {
	out := append([]string{}, in...)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortAccessEntries(entries []accessViewEntry) {
	slices.SortFunc(entries, func(a, b accessViewEntry) int {
		return cmpStrings([]string{a.Account, a.Role, a.Mapping}, []string{b.Account, b.Role, b.Mapping})
	})
}

func cmpStrings(a, b []string) int {
	for i := range a {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// accessViewMarkdown renders the entries as a table for a pull request or a wiki page.
func accessViewMarkdown(entries []accessViewEntry) string {
	var b strings.Builder
	b.WriteString("| Mapping | Who | Account | Role | Publish | Subscribe | Limits |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, e := range entries {
		cells := []string{
			mdText(e.Mapping) + priorityText(e.Priority),
			whoText(e),
			mdText(e.Account),
			mdText(e.Role) + map[bool]string{true: " (account defaults)"}[e.AccountDefaults],
			rulesText(e.Permissions.PubAllow, e.Permissions.PubDeny, e.Permissions.Response.ValueString()),
			rulesText(e.Permissions.SubAllow, e.Permissions.SubDeny, ""),
			limitsText(e),
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

func priorityText(p int64) string {
	if p == 0 {
		return ""
	}
	return " (priority " + strconv.FormatInt(p, 10) + ")"
}

func whoText(e accessViewEntry) string {
	var parts []string
	add := func(label string, values []string) {
		if len(values) > 0 {
			parts = append(parts, label+" "+mdCodes(values))
		}
	}
	add("groups", e.Groups)
	add("clients", e.ClientIDs)
	add("scopes", e.Scopes)
	for _, k := range sortedKeys(e.Claims) {
		add("claim "+mdCode(k)+" in", e.Claims[k])
	}
	if len(parts) == 0 {
		return "anyone the trust admits"
	}
	return strings.Join(parts, "; ")
}

func rulesText(allow, deny []string, response string) string {
	var parts []string
	switch {
	case len(allow) > 0:
		parts = append(parts, "allow "+mdCodes(allow))
	case response != "":
		parts = append(parts, "replies only")
	default:
		parts = append(parts, "any")
	}
	if len(deny) > 0 {
		parts = append(parts, "deny "+mdCodes(deny))
	}
	if response != "" && len(allow) > 0 {
		parts = append(parts, "replies ("+response+")")
	} else if response != "" {
		parts[0] += " (" + response + ")"
	}
	return strings.Join(parts, "; ")
}

func limitsText(e accessViewEntry) string {
	var parts []string
	if e.MaxSession.ValueString() != "" {
		parts = append(parts, "session "+mdText(e.MaxSession.ValueString()))
	}
	l := e.RoleLimits
	for _, n := range []struct {
		label string
		v     int64
	}{{"subs", l.MaxSubscriptions}, {"data", l.MaxData}, {"payload", l.MaxPayload}} {
		if n.v >= 0 {
			parts = append(parts, n.label+" "+strconv.FormatInt(n.v, 10))
		}
	}
	if l.Bearer {
		parts = append(parts, "bearer")
	}
	if ct, restricted := connectionTypes(e); restricted && len(ct) == 0 {
		parts = append(parts, "types: none (the mapping and the role share no connection type)")
	} else if restricted {
		parts = append(parts, "types "+mdCodes(ct))
	}
	if len(l.SourceNetworks) > 0 {
		parts = append(parts, "networks "+mdCodes(l.SourceNetworks))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// connectionTypes is what a user of the mapping may connect with: the mapping and the role
// can each restrict it, and both apply.
func connectionTypes(e accessViewEntry) (allowed []string, restricted bool) {
	m, r := e.AllowedConnectionTypes, e.RoleLimits.AllowedConnectionTypes
	switch {
	case len(m) == 0:
		return r, len(r) > 0
	case len(r) == 0:
		return m, true
	}
	for _, t := range m {
		if slices.Contains(r, t) {
			allowed = append(allowed, t)
		}
	}
	return allowed, true
}

func mdCodes(values []string) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = mdCode(v)
	}
	return strings.Join(out, ", ")
}

// mdCode keeps '*' and '>' from being read as emphasis or quotes, and '|' from ending the cell.
func mdCode(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "\\|")
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

func mdText(s string) string {
	r := strings.NewReplacer("\n", " ", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

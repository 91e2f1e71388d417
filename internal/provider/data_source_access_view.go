package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSource = (*accessViewDataSource)(nil)

// NewAccessViewDataSource renders who gets which role with which permissions, from public
// and non-secret inputs only, so the whole view shows in a plan instead of "(sensitive value)".
func NewAccessViewDataSource() datasource.DataSource { return &accessViewDataSource{} }

type accessViewDataSource struct{}

type accessViewModel struct {
	Accounts types.Dynamic         `tfsdk:"accounts"`
	Mappings []accessViewMappingIn `tfsdk:"mappings"`
	Entries  []accessViewEntry     `tfsdk:"entries"`
	Markdown types.String          `tfsdk:"markdown"`
}

type accessViewMappingIn struct {
	Name                   types.String `tfsdk:"name"`
	Account                types.String `tfsdk:"account"`
	AccountName            types.String `tfsdk:"account_name"`
	Role                   types.String `tfsdk:"role"`
	Groups                 types.Set    `tfsdk:"groups"`
	ClientIDs              types.Set    `tfsdk:"client_ids"`
	Scopes                 types.Set    `tfsdk:"scopes"`
	Claims                 types.Map    `tfsdk:"claims"`
	Tags                   types.Set    `tfsdk:"tags"`
	Priority               types.Int64  `tfsdk:"priority"`
	MaxSession             types.String `tfsdk:"max_session"`
	AllowedConnectionTypes types.Set    `tfsdk:"allowed_connection_types"`
}

type accessViewEntry struct {
	Mapping                string                `tfsdk:"mapping"`
	Priority               int64                 `tfsdk:"priority"`
	Account                string                `tfsdk:"account"`
	AccountKey             types.String          `tfsdk:"account_key"`
	Role                   string                `tfsdk:"role"`
	Groups                 []string              `tfsdk:"groups"`
	ClientIDs              []string              `tfsdk:"client_ids"`
	Scopes                 []string              `tfsdk:"scopes"`
	Claims                 map[string][]string   `tfsdk:"claims"`
	Tags                   []string              `tfsdk:"tags"`
	MaxSession             types.String          `tfsdk:"max_session"`
	AllowedConnectionTypes []string              `tfsdk:"allowed_connection_types"`
	AccountDefaults        bool                  `tfsdk:"account_defaults"`
	Permissions            accessViewPermissions `tfsdk:"permissions"`
	RoleLimits             accessViewLimits      `tfsdk:"role_limits"`
}

type accessViewPermissions struct {
	PubAllow []string     `tfsdk:"pub_allow"`
	PubDeny  []string     `tfsdk:"pub_deny"`
	SubAllow []string     `tfsdk:"sub_allow"`
	SubDeny  []string     `tfsdk:"sub_deny"`
	Response types.String `tfsdk:"response"`
}

type accessViewLimits struct {
	MaxSubscriptions       int64    `tfsdk:"max_subscriptions"`
	MaxData                int64    `tfsdk:"max_data"`
	MaxPayload             int64    `tfsdk:"max_payload"`
	Bearer                 bool     `tfsdk:"bearer"`
	AllowedConnectionTypes []string `tfsdk:"allowed_connection_types"`
	SourceNetworks         []string `tfsdk:"source_networks"`
}

func (d *accessViewDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_view"
}

func (d *accessViewDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	strs := func(desc string) schema.SetAttribute {
		return schema.SetAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: desc}
	}
	outList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: desc + " Sorted."}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An access review: for every role mapping, who it admits (groups, client ids, scopes, " +
			"claims), the account and role it grants and the role's permissions in template form " +
			"(`orders.{{name()}}.>`), with the role's limits, sorted and rendered as a markdown table. Its inputs are " +
			"public or non-secret (account JWTs or account configuration, and the mappings' plain attributes), so the " +
			"view is never sensitive and a plan shows how it changes. Pass the accounts' configuration rather than " +
			"their JWTs to see a changed role template in the plan: a changed account's JWT is known only after apply. " +
			"Build the inputs in `locals` as in the example: Terraform and OpenTofu read a data source whose own " +
			"arguments reference a resource with pending changes only at apply. `provider::natsping::access_view` " +
			"renders the same table from an expression.",
		Attributes: map[string]schema.Attribute{
			"accounts": schema.DynamicAttribute{
				Required: true,
				MarkdownDescription: "The accounts the mappings grant roles in: a list whose entries are account JWTs " +
					"(`natsping_account.<name>.jwt`) or objects `{ name, public_key, tags, roles, default_permissions }` " +
					"built from the account's attributes (never the whole resource, which holds seeds).",
			},
			"mappings": schema.ListNestedAttribute{
				Required: true,
				MarkdownDescription: "The mappings to review, from the non-secret attributes of `natsping_role_mapping` " +
					"(`name`, `account`, `role`, `groups`, …; never `signer` or `rule`). A mapping finds its account by " +
					"`account` (public key) or else by `account_name`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":                     schema.StringAttribute{Required: true, MarkdownDescription: "The mapping's name."},
					"account":                  schema.StringAttribute{Optional: true, MarkdownDescription: "The target account's public key (`natsping_role_mapping.<name>.account`)."},
					"account_name":             schema.StringAttribute{Optional: true, MarkdownDescription: "The target account's name, when `account` is not given."},
					"role":                     schema.StringAttribute{Required: true, MarkdownDescription: "The granted role (`natsping_role_mapping.<name>.role`)."},
					"groups":                   strs("Ping groups that meet the mapping's group condition."),
					"client_ids":               strs("Client ids that meet the mapping's client condition."),
					"scopes":                   strs("Scopes the token must all carry."),
					"claims":                   schema.MapAttribute{ElementType: types.SetType{ElemType: types.StringType}, Optional: true, MarkdownDescription: "Claim conditions: claim path → accepted values."},
					"tags":                     strs("Tags the mapping adds to admitted users."),
					"priority":                 schema.Int64Attribute{Optional: true, MarkdownDescription: "The mapping's priority. Default `0`."},
					"max_session":              schema.StringAttribute{Optional: true, MarkdownDescription: "The mapping's `max_session`."},
					"allowed_connection_types": strs("The mapping's connection types."),
				}},
			},
			"entries": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "One entry per mapping, sorted by account, role and mapping name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"mapping":                  schema.StringAttribute{Computed: true, MarkdownDescription: "Mapping name."},
					"priority":                 schema.Int64Attribute{Computed: true, MarkdownDescription: "Mapping priority."},
					"account":                  schema.StringAttribute{Computed: true, MarkdownDescription: "Account name."},
					"account_key":              schema.StringAttribute{Computed: true, MarkdownDescription: "Account public key, or null when the account's configuration gave none."},
					"role":                     schema.StringAttribute{Computed: true, MarkdownDescription: "Role name."},
					"groups":                   outList("Groups."),
					"client_ids":               outList("Client ids."),
					"scopes":                   outList("Required scopes."),
					"claims":                   schema.MapAttribute{Computed: true, ElementType: types.ListType{ElemType: types.StringType}, MarkdownDescription: "Claim conditions, values sorted."},
					"tags":                     outList("Tags added to admitted users."),
					"max_session":              schema.StringAttribute{Computed: true, MarkdownDescription: "The mapping's `max_session`, or null."},
					"allowed_connection_types": outList("The mapping's connection types (empty: any)."),
					"account_defaults": schema.BoolAttribute{
						Computed:            true,
						MarkdownDescription: "The role's template sets no rule, so its users get the account's default permissions, shown in `permissions`.",
					},
					"permissions": schema.SingleNestedAttribute{
						Computed:            true,
						MarkdownDescription: "What the role's users may do, in template form.",
						Attributes: map[string]schema.Attribute{
							"pub_allow": outList("Publish allow entries."),
							"pub_deny":  outList("Publish deny entries."),
							"sub_allow": outList("Subscribe allow entries."),
							"sub_deny":  outList("Subscribe deny entries."),
							"response":  schema.StringAttribute{Computed: true, MarkdownDescription: "`allow_responses` as `max <n>, ttl <duration>`, or null."},
						},
					},
					"role_limits": schema.SingleNestedAttribute{
						Computed:            true,
						MarkdownDescription: "The role's connection limits (`-1`: unlimited).",
						Attributes: map[string]schema.Attribute{
							"max_subscriptions":        schema.Int64Attribute{Computed: true, MarkdownDescription: "Subscriptions per connection."},
							"max_data":                 schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes of data."},
							"max_payload":              schema.Int64Attribute{Computed: true, MarkdownDescription: "Message payload bytes."},
							"bearer":                   schema.BoolAttribute{Computed: true, MarkdownDescription: "Bearer token users."},
							"allowed_connection_types": outList("Connection types (empty: any)."),
							"source_networks":          outList("Source networks (empty: any)."),
						},
					},
				}},
			},
			"markdown": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The entries as a markdown table, byte-stable for the same inputs.",
			},
		},
	}
}

func (d *accessViewDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m accessViewModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	accounts, err := accessViewAccounts(ctx, m.Accounts)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("accounts"), "Invalid accounts", err.Error())
		return
	}
	entries := make([]accessViewEntry, 0, len(m.Mappings))
	seen := map[string]bool{}
	for i, in := range m.Mappings {
		at := path.Root("mappings").AtListIndex(i)
		name := in.Name.ValueString()
		if seen[name] {
			resp.Diagnostics.AddAttributeError(at.AtName("name"), "Duplicate mapping", fmt.Sprintf("mapping %q is listed twice; mapping names are unique within a trust", name))
			continue
		}
		seen[name] = true
		e, attrName, err := accessViewEntryFor(in.plain(), accounts)
		if err != nil {
			resp.Diagnostics.AddAttributeError(at.AtName(attrName), "Invalid mapping", err.Error())
			continue
		}
		entries = append(entries, e)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	sortAccessEntries(entries)
	m.Entries = entries
	m.Markdown = types.StringValue(accessViewMarkdown(entries))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (in accessViewMappingIn) plain() viewMapping {
	claims := map[string][]string{}
	for k, v := range in.Claims.Elements() {
		s, _ := v.(types.Set)
		claims[k] = setStrings(s)
	}
	return viewMapping{
		name: in.Name.ValueString(), account: in.Account.ValueString(), accountName: in.AccountName.ValueString(),
		role: in.Role.ValueString(), maxSession: in.MaxSession.ValueString(), priority: in.Priority.ValueInt64(),
		groups: setStrings(in.Groups), clientIDs: setStrings(in.ClientIDs), scopes: setStrings(in.Scopes),
		tags: setStrings(in.Tags), connTypes: setStrings(in.AllowedConnectionTypes), claims: claims,
	}
}

func setStrings(s types.Set) []string {
	var out []string
	for _, e := range s.Elements() {
		if v, ok := e.(types.String); ok {
			out = append(out, v.ValueString())
		}
	}
	return out
}

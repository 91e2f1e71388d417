package provider

import (
	"context"
	"errors"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var (
	_ resource.ResourceWithConfigure      = (*roleMappingResource)(nil)
	_ resource.ResourceWithValidateConfig = (*roleMappingResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*roleMappingResource)(nil)
)

// NewRoleMappingResource is the natsping_role_mapping resource.
func NewRoleMappingResource() resource.Resource { return &roleMappingResource{} }

type roleMappingResource struct{ data *ProviderData }

type roleMappingModel struct {
	Name                   types.String `tfsdk:"name"`
	Signer                 types.String `tfsdk:"signer"`
	AccountName            types.String `tfsdk:"account_name"`
	Groups                 types.Set    `tfsdk:"groups"`
	Priority               types.Int64  `tfsdk:"priority"`
	MaxSession             types.String `tfsdk:"max_session"`
	AllowedConnectionTypes types.Set    `tfsdk:"allowed_connection_types"`
	Tags                   types.Set    `tfsdk:"tags"`
	ClientIDs              types.Set    `tfsdk:"client_ids"`
	Scopes                 types.Set    `tfsdk:"scopes"`
	Claims                 types.Map    `tfsdk:"claims"`

	Account         types.String `tfsdk:"account"`
	Role            types.String `tfsdk:"role"`
	ResolvedGroups  types.List   `tfsdk:"resolved_groups"`
	ResolvedClients types.List   `tfsdk:"resolved_clients"`
	Rule            types.String `tfsdk:"rule"`
}

// resolvedGroupAttrTypes is one element of resolved_groups.
var resolvedGroupAttrTypes = map[string]attr.Type{
	"value": types.StringType,
	"name":  types.StringType,
	"id":    types.StringType,
}

func (r *roleMappingResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role_mapping"
}

func (r *roleMappingResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *roleMappingResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Grants one role of one NATS account to the holders of Ping tokens that meet its " +
			"conditions: membership of one of its `groups`, one of its `client_ids` (services with client-credentials " +
			"tokens, or the application a person signed in through), all of its `scopes`, and every `claims` " +
			"condition (e.g. `acr` for step-up). Every condition given must hold; at least one is required. A token " +
			"without `sub` (a service) is admitted only by a mapping that lists its client id. The auth callout signs " +
			"each admitted user JWT with the role's scoped signing key, so nats-server applies the role's template " +
			"from the account JWT and nothing else.\n\n" +
			"With the provider's `pingone` block configured, every group is looked up in PingOne **while planning**: " +
			"an unknown group is an error, and a group renamed or deleted since the last apply shows as a planned " +
			"update of `resolved_groups` and `rule`, with a warning naming the group. Client ids are looked up the " +
			"same way (PingOne applications): unknown is an error, a deleted application shows in `resolved_clients`. " +
			"While PingOne cannot answer (network, 429, 5xx), entries resolved before keep their reviewed " +
			"resolution with a warning, so an outage does not block the plan; new entries still fail. " +
			"Without it nothing is checked: " +
			"values shaped like a UUID are matched as group ids, all others as group names.\n\n" +
			"The mapping is handed to `natsping_trust.role_mappings` through `rule`, which contains the role's signing " +
			"seed: protect the state.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Mapping name, unique within a trust. Appears in audit lines and as the user tag " +
					"`mapping:<name>`.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"signer": schema.StringAttribute{
				Required:  true,
				Sensitive: true,
				MarkdownDescription: "The role to grant: one of `natsping_account.<name>.role_signers[\"<role>\"]`. It " +
					"must be a role signer; an account signer or a raw seed carries no role template and is refused.",
				Validators: []validator.String{validSigner(natsjwt.KindAccount)},
			},
			"account_name": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Name of the target account, written to audit lines; clients may also pass it as " +
					"their connect `user` to pick this account.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"groups": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Ping group names or ids. A person in any of them meets this condition. " +
					"Names must match exactly, including case, as they appear in the token's groups claim.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(checkString("Invalid group", "must be a group name or id without "+
						"leading or trailing spaces", calloutconfig.CheckGroup)),
				},
			},
			"priority": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(0),
				MarkdownDescription: "When a person matches several mappings, the highest priority wins (ties: the " +
					"lowest name). Default `0`.",
			},
			"max_session": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(calloutconfig.ShortDuration(calloutconfig.DefaultSession)),
				MarkdownDescription: "Longest lifetime of a NATS user admitted by this mapping, as a Go duration; the " +
					"callout also caps it at the Ping token's expiry, and nats-server disconnects the client then. " +
					durationRangeDoc(calloutconfig.SessionBounds, calloutconfig.DefaultSession),
				Validators: []validator.String{durationWithin(calloutconfig.SessionBounds)},
			},
			"allowed_connection_types": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Restricts the mapping to these connection types: " +
					"`" + strings.Join(natsjwt.ConnectionTypes, "`, `") + "`. Unset: any.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(natsjwt.ConnectionTypes...))},
			},
			"tags": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Lower-case `key:value` tags added to admitted users; role templates read them " +
					"with `{{tag(key)}}`. Values are one subject token (letters, digits, `_`, `-`). The keys `" +
					strings.Join(calloutconfig.ReservedTagKeys(), "`, `") + "` are set by the callout on every " +
					"admitted user and cannot be used.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(
					checkString("Invalid tag", "must be a lower-case key:value tag whose value is a single subject token",
						func(tag string) error {
							err := calloutconfig.CheckMappingTag(tag)
							if reserved := (*calloutconfig.ReservedTagError)(nil); errors.As(err, &reserved) {
								return summarized{"Reserved tag key", err}
							}
							return err
						}))},
			},
			"client_ids": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "OAuth client ids (PingOne application ids, PingFederate client ids). A token " +
					"whose `client_id` is one of them meets this condition. With PingOne configured an application " +
					"name is accepted too and resolved to its id. Services (client-credentials tokens, no `sub`) are " +
					"tagged `ping-client:<client id>` for role templates.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(
					// Names (PingOne only) may hold spaces; the resolved id is checked with
					// calloutconfig.CheckClientID when the rule is rendered.
					checkString("Invalid client id", "must be a client id or application name without leading or "+
						"trailing spaces", calloutconfig.CheckClientIDOrName))},
			},
			"scopes": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Scopes the token must all carry (`scope` or `scp`), on top of the trust's " +
					"`required_scopes`.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(
					checkString("Invalid scope", "must be a scope token (no spaces or quotes)", calloutconfig.CheckScope))},
			},
			"claims": schema.MapAttribute{
				ElementType: types.SetType{ElemType: types.StringType},
				Optional:    true,
				MarkdownDescription: "Conditions on other claims: a claim name or dot path → accepted values, e.g. " +
					"`{ acr = [\"Multi_Factor\"] }` or `{ amr = [\"mfa\"] }`. A string claim must equal a value, a " +
					"string array claim must contain one, any other JSON value must equal a value as compact JSON " +
					"(`\"3\"`, `\"true\"`). An absent claim never meets the condition. `iss`, `aud`, `exp`, `iat`, " +
					"`nbf`, `jti`, `client_id`, `scope` and `scp` are refused: the trust's policy or another condition " +
					"owns them.",
				Validators: []validator.Map{mapvalidator.SizeAtLeast(1), mapvalidator.KeysAre(
					checkString("Invalid claim condition", "must be a claim name or dot path", func(p string) error {
						return calloutconfig.CheckClaimCondition(calloutconfig.ClaimCondition{Path: p, Values: []string{"x"}}, "")
					}))},
			},
			"account": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Public key (`A…`) of the target account, taken from `signer` while planning.",
			},
			"role": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Name of the granted role, taken from `signer` while planning.",
			},
			"resolved_groups": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "Each entry of `groups` as the callout matches it, sorted by `value`. With PingOne " +
					"configured both `name` and `id` are filled in; a group deleted in PingOne keeps only its old `id`, " +
					"which no token can carry any more, so the mapping fails closed.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"value": schema.StringAttribute{Computed: true, MarkdownDescription: "The entry of `groups`."},
					"name":  schema.StringAttribute{Computed: true, MarkdownDescription: "Group name matched in tokens, or null."},
					"id":    schema.StringAttribute{Computed: true, MarkdownDescription: "Group id matched in tokens, or null."},
				}},
			},
			"resolved_clients": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "Each entry of `client_ids` as the callout matches it, sorted by `value`. With " +
					"PingOne configured `name` is the application's name; an application deleted in PingOne keeps only " +
					"its old `id` and a null `name`, and the plan says so.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"value": schema.StringAttribute{Computed: true, MarkdownDescription: "The entry of `client_ids`."},
					"id":    schema.StringAttribute{Computed: true, MarkdownDescription: "Client id matched in tokens."},
					"name":  schema.StringAttribute{Computed: true, MarkdownDescription: "Application name in PingOne, or null."},
				}},
			},
			"rule": schema.StringAttribute{
				Computed:  true,
				Sensitive: true,
				MarkdownDescription: "The mapping as compact JSON for `natsping_trust.role_mappings` (one entry of the " +
					"callout config's `mappings`). Contains the role's signing seed. Computed while planning, so a " +
					"change shows before apply.",
			},
		},
	}
}

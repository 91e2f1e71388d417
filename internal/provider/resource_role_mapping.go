package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
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

	Account        types.String `tfsdk:"account"`
	Role           types.String `tfsdk:"role"`
	ResolvedGroups types.List   `tfsdk:"resolved_groups"`
	Rule           types.String `tfsdk:"rule"`
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
		MarkdownDescription: "Grants one role of one NATS account to members of Ping groups. The auth callout signs each " +
			"admitted person's user JWT with the role's scoped signing key, so nats-server applies the role's template " +
			"from the account JWT and nothing else.\n\n" +
			"With the provider's `pingone` block configured, every group is looked up in PingOne **while planning**: " +
			"an unknown group is an error, and a group renamed or deleted since the last apply shows as a planned " +
			"update of `resolved_groups` and `rule`, with a warning naming the group. Without it nothing is checked: " +
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
				Required:    true,
				MarkdownDescription: "Ping group names or ids (at least one). A person in any of them gets the role. " +
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

// ValidateConfig refuses signers that carry no role, so `validate` already reports them.
func (r *roleMappingResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var signer types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("signer"), &signer)...)
	if signer.IsNull() || signer.IsUnknown() {
		return
	}
	roleSigner(signer.ValueString(), &resp.Diagnostics)
}

// roleSigner parses a signer and insists that it is a role. The message describes what was
// given by kind and owner, never by value.
func roleSigner(value string, diags *diag.Diagnostics) *natsjwt.Signer {
	s, err := natsjwt.ParseSigner(value, natsjwt.KindAccount)
	if err != nil {
		return nil // validSigner reports it with the attribute path
	}
	if s.Role != "" {
		return s
	}
	var given string
	switch {
	case s.Owner == "":
		given = fmt.Sprintf("a raw account seed (SA…, public key %s), which names no role", s.PublicKey)
	case s.IsIdentity():
		given = fmt.Sprintf("the account signer of account %s (its identity key)", s.Owner)
	default:
		given = fmt.Sprintf("an unscoped signing key (%s) of account %s", s.PublicKey, s.Owner)
	}
	diags.AddAttributeError(path.Root("signer"), "Not a role signer",
		"signer must be a role signer, such as natsping_account.<name>.role_signers[\"<role>\"]; the value given is "+
			given+". Users it signed would carry no role template, so the mapping could grant anything the key can sign.")
	return nil
}

// ModifyPlan computes everything while planning: the account and role from the signer, the
// groups as PingOne currently knows them, and the rule. Drift in PingOne (a renamed or deleted
// group) therefore shows as a planned update, not as a surprise during apply.
func (r *roleMappingResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	plan, state := planAndPriorState[roleMappingModel](ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	r.compute(ctx, &plan, state, true, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// compute fills account, role, resolved_groups and rule. Values already known in m (planned
// while planning) are kept during apply, so apply produces exactly what was reviewed.
func (r *roleMappingResource) compute(ctx context.Context, m, state *roleMappingModel, planning bool, diags *diag.Diagnostics) {
	var signer *natsjwt.Signer
	if m.Signer.IsUnknown() {
		m.Account, m.Role = types.StringUnknown(), types.StringUnknown()
	} else if signer = roleSigner(m.Signer.ValueString(), diags); signer != nil {
		m.Account, m.Role = types.StringValue(signer.Owner), types.StringValue(signer.Role)
	} else {
		return
	}

	if planning || m.ResolvedGroups.IsUnknown() || m.ResolvedGroups.IsNull() {
		groups, known := knownStrings(ctx, m.Groups, diags)
		if !known {
			m.ResolvedGroups = types.ListUnknown(types.ObjectType{AttrTypes: resolvedGroupAttrTypes})
		} else {
			var prior []resolvedGroup
			if state != nil {
				prior = resolvedGroupsFrom(state.ResolvedGroups)
			}
			resolved := r.resolveGroups(ctx, groups, prior, diags)
			if diags.HasError() {
				return
			}
			m.ResolvedGroups = resolvedGroupsValue(resolved)
		}
	}

	if signer == nil || m.ResolvedGroups.IsUnknown() || m.Name.IsUnknown() || m.AccountName.IsUnknown() ||
		m.Priority.IsUnknown() || m.MaxSession.IsUnknown() || m.AllowedConnectionTypes.IsUnknown() || m.Tags.IsUnknown() {
		m.Rule = types.StringUnknown()
		return
	}
	rule, err := m.rule(ctx, signer)
	if err != nil {
		diags.AddError("Cannot render the mapping rule", err.Error())
		return
	}
	m.Rule = types.StringValue(rule)
}

// rule renders the mapping as one compact calloutconfig.Mapping. Every list is sorted, so the
// same configuration always renders the same bytes and a second plan is empty.
func (m *roleMappingModel) rule(ctx context.Context, signer *natsjwt.Signer) (string, error) {
	session, err := time.ParseDuration(m.MaxSession.ValueString())
	if err != nil {
		return "", fmt.Errorf("max_session: %w", err)
	}
	var diags diag.Diagnostics
	conn, _ := knownStrings(ctx, m.AllowedConnectionTypes, &diags)
	tags, _ := knownStrings(ctx, m.Tags, &diags)
	if diags.HasError() {
		return "", fmt.Errorf("reading sets: %v", diags)
	}
	mapping := calloutconfig.Mapping{
		Name:                   m.Name.ValueString(),
		Priority:               int(m.Priority.ValueInt64()),
		Account:                signer.Owner,
		AccountName:            m.AccountName.ValueString(),
		Role:                   signer.Role,
		RoleSigningKey:         signer.PublicKey,
		RoleSigningKeySeed:     signer.Seed,
		MaxSession:             calloutconfig.Duration(session),
		AllowedConnectionTypes: conn,
		Tags:                   tags,
	}
	for _, g := range resolvedGroupsFrom(m.ResolvedGroups) {
		mapping.Groups = append(mapping.Groups, calloutconfig.Group{Name: g.Name, ID: g.ID})
	}
	// The callout refuses a document with a mapping that breaks a rule, so refuse it here first.
	if err := mapping.Validate(); err != nil {
		return "", err
	}
	out, err := json.Marshal(mapping)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

func (r *roleMappingResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.compute(ctx, &plan, nil, false, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read makes no network calls and returns the state unchanged. Group drift is computed in
// ModifyPlan so that it shows up as a planned change with a warning; refreshing it here would
// silently rewrite the state and leave the plan with nothing to show.
func (r *roleMappingResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *roleMappingResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state roleMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.compute(ctx, &plan, &state, false, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete has nothing to remove: the mapping exists only in this state and in the trust's config.
func (r *roleMappingResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// knownStrings reads a set of strings, sorted; known is false while the set or an element is unknown.
func knownStrings(ctx context.Context, set types.Set, diags *diag.Diagnostics) (out []string, known bool) {
	if set.IsUnknown() {
		return nil, false
	}
	if set.IsNull() {
		return nil, true
	}
	for _, e := range set.Elements() {
		if e.IsUnknown() {
			return nil, false
		}
	}
	diags.Append(set.ElementsAs(ctx, &out, false)...)
	sort.Strings(out)
	return out, true
}

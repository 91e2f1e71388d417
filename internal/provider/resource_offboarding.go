package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

var (
	_ resource.ResourceWithConfigure      = (*offboardingResource)(nil)
	_ resource.ResourceWithValidateConfig = (*offboardingResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*offboardingResource)(nil)
)

// NewOffboardingResource is the natsping_offboarding resource.
func NewOffboardingResource() resource.Resource { return &offboardingResource{} }

type offboardingResource struct{ data *ProviderData }

type offboardingModel struct {
	ID              types.String `tfsdk:"id"`
	Servers         types.List   `tfsdk:"servers"`
	SystemUserCreds types.String `tfsdk:"system_user_creds"`
	CalloutConfig   types.String `tfsdk:"callout_config"`
	CABundlePEM     types.String `tfsdk:"ca_bundle_pem"`
	Subjects        types.Set    `tfsdk:"subjects"`
	ClientIDs       types.Set    `tfsdk:"client_ids"`
	Mappings        types.Set    `tfsdk:"mappings"`
	Roles           types.Set    `tfsdk:"roles"`
	Cutoff          types.String `tfsdk:"cutoff"`
	Reason          types.String `tfsdk:"reason"`
	LastApply       types.Object `tfsdk:"last_apply"`
}

var offboardingLastApplyTypes = map[string]attr.Type{
	"at":      types.StringType,
	"closed":  types.Int64Type,
	"servers": types.Int64Type,
}

func (r *offboardingResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_offboarding"
}

func (r *offboardingResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *offboardingResource) now() time.Time { return r.data.now() }

func (r *offboardingResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = offboardingResourceSchema()
}

func offboardingResourceSchema() schema.Schema {
	entries := func(desc string, check validator.String) schema.SetAttribute {
		return schema.SetAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: desc,
			Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(check)}}
	}
	return schema.Schema{
		MarkdownDescription: "Offboards now: revokes Ping subjects (people), service client ids, whole mappings and whole " +
			"roles from a cutoff time, and closes their live NATS connections on every server.\n\n" +
			"Ping tokens stay valid until their `exp`, so a person removed from a Ping group could keep connecting with " +
			"a token issued before. Apply writes one entry per revoked identity, mapping or role into the key-value " +
			"bucket of the trust's `offboarding` block, which every callout replica watches: from then on the callout " +
			"refuses tokens issued before `cutoff` (`iat` earlier, or no `iat`) that match an entry, with the audit " +
			"reason `offboarded`. Then it lists the connections of every server (`$SYS.REQ.SERVER.PING.CONNZ`), closes " +
			"those the callout admitted for a revoked identity, mapping or role (`$SYS.REQ.SERVER.<id>.KICK`), and keeps " +
			"looking for a short settle period: a connection that comes back means a callout is not enforcing, which " +
			"the apply reports as a warning. Other connections, static users included, are never touched.\n\n" +
			"Removing an entry, or destroying the resource, deletes its bucket key: new tokens of that identity are " +
			"admitted again. Refresh reads the bucket: an entry missing there is planned to be written again.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Random identifier set at creation.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"servers": schema.ListAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: "URLs of the NATS servers (`nats://host:port` or `tls://host:port`); one is enough, " +
					"CONNZ and KICK reach every server of the cluster through it.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(
					validURL(resolver.ValidateServerURL, "a nats:// or tls:// URL"))},
			},
			"system_user_creds": schema.StringAttribute{
				Required: true, Sensitive: true,
				MarkdownDescription: "Creds of a system account user, normally `natsping_operator.<name>.system_user_creds`: " +
					"listing and closing connections are system account requests.",
				Validators: []validator.String{checkString("Invalid creds", "must be the content of a creds file (a user JWT and its seed)",
					func(s string) error { _, _, err := resolver.ParseCreds(s); return err })},
			},
			"callout_config": schema.StringAttribute{
				Required: true, Sensitive: true,
				MarkdownDescription: "The trust's `callout_config` (`natsping_trust.<name>.callout_config`), with `offboarding` " +
					"set on the trust. It names the bucket, holds the callout service user the bucket is written as, and " +
					"lists the mappings: `mappings` and `roles` are checked against it while planning, and only users the " +
					"callout admitted through them (signed by a role key of a mapped account) are closed.",
				Validators: []validator.String{checkString("Invalid callout config", "must be a natsping_trust callout_config",
					func(s string) error { _, err := calloutconfig.Parse([]byte(s)); return err })},
			},
			"ca_bundle_pem": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "PEM certificates of the CAs that sign the servers' TLS certificates, replacing the " +
					"system roots (as `natsping_resolver_push.ca_bundle_pem`).",
				Validators: []validator.String{validCABundle()},
			},
			"subjects": entries("Ping subjects (`sub`) of people to offboard, exactly as tokens carry them (PingOne: the user id).",
				checkString("Invalid subject", "must be a token's sub", func(s string) error {
					return offboard.Entry{Kind: offboard.KindSubject, Value: s}.Validate()
				})),
			"client_ids": entries("OAuth client ids of services (client-credentials tokens, which carry no `sub`) to offboard. "+
				"A person's token issued through the same application is not affected.",
				checkString("Invalid client id", "must be an OAuth client id", calloutconfig.CheckClientID)),
			"mappings": entries("Names of role mappings whose users are all offboarded; each must be a mapping of the trust. "+
				"A token whose best mapping is revoked is refused, even if a lower-priority mapping would admit it.",
				notBlank()),
			"roles": entries("Roles whose users are all offboarded, whatever mapping chose them, as `\"<account>/<role>\"` "+
				"(the account's name or public key), e.g. `\"ORDERS/reader\"`; each must be granted by a mapping of the trust.",
				checkString("Invalid role", "must be <account>/<role>", offboard.CheckRoleRef)),
			"cutoff": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Tokens issued before this time (RFC 3339) are refused. Unset: the time of the apply " +
					"that created the resource or last changed its entries (rounded up to the next second), kept in the " +
					"state, so an entry added later never re-admits tokens issued before it was added. At most " +
					calloutconfig.ShortDuration(offboard.MaxFutureCutoff) + " in the future: a later cutoff would refuse every " +
					"token until then, fresh ones included.",
				Validators: []validator.String{checkString("Invalid cutoff", "must be an RFC 3339 time", func(s string) error {
					_, err := time.Parse(time.RFC3339, s)
					return err
				})},
			},
			"reason": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Why, for the bucket entries (the audit line names the entry and its cutoff, not the reason).",
			},
			"last_apply": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "What the last apply did on the servers.",
				Attributes: map[string]schema.Attribute{
					"at":      schema.StringAttribute{Computed: true, MarkdownDescription: "When the bucket was written (RFC 3339)."},
					"closed":  schema.Int64Attribute{Computed: true, MarkdownDescription: "How many live connections were closed."},
					"servers": schema.Int64Attribute{Computed: true, MarkdownDescription: "How many servers answered the connection listing."},
				},
			},
		},
	}
}

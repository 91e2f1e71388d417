package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

var (
	_ resource.ResourceWithConfigure      = (*resolverPushResource)(nil)
	_ resource.ResourceWithValidateConfig = (*resolverPushResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*resolverPushResource)(nil)
)

// NewResolverPushResource is the natsping_resolver_push resource.
func NewResolverPushResource() resource.Resource { return &resolverPushResource{} }

type resolverPushResource struct{ data *ProviderData }

const defaultResolverPushTimeout = "10s"

type resolverPushModel struct {
	ID              types.String `tfsdk:"id"`
	Servers         types.List   `tfsdk:"servers"`
	SystemUserCreds types.String `tfsdk:"system_user_creds"`
	Accounts        types.Map    `tfsdk:"accounts"`
	CABundlePEM     types.String `tfsdk:"ca_bundle_pem"`
	Timeout         types.String `tfsdk:"timeout"`
	OperatorSigner  types.String `tfsdk:"operator_signer"`
	OperatorJWT     types.String `tfsdk:"operator_jwt"`
	LastPush        types.Object `tfsdk:"last_push"`
}

var lastPushTypes = map[string]attr.Type{
	"at":       types.StringType,
	"accounts": types.Int64Type,
	"servers":  types.Int64Type,
}

func (r *resolverPushResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_resolver_push"
}

func (r *resolverPushResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *resolverPushResource) now() time.Time {
	return r.data.now()
}

func (r *resolverPushResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = resolverPushResourceSchema()
}

func resolverPushResourceSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Keeps the account JWTs of live `nats-server` **full resolvers** (`resolver { type: full }`) " +
			"in sync with Terraform, the way `nsc push` does, but pipelined (thousands of accounts per second instead of " +
			"about one) and with drift in the plan.\n\n" +
			"Create and update push, with `$SYS.REQ.CLAIMS.UPDATE`, every account whose JWT differs from the state, and " +
			"wait until every full resolver of the cluster has confirmed it. An account the servers would refuse, or one " +
			"signed by a key the servers' operator does not list, is not sent and fails the apply with its reason.\n\n" +
			"**Drift:** refresh looks every account up on the live servers (`$SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP`) and " +
			"records what they actually hold: an account pushed out of band shows its live JWT, an account the servers " +
			"lack disappears from `accounts`. The plan then shows an in-place update that pushes the configured JWTs again. " +
			"When the servers cannot be reached, refresh warns and keeps the last known state, so an outage never blocks " +
			"a plan; drift is detected on the next refresh that reaches them.\n\n" +
			"**Deleting:** with `operator_signer` set, an account removed from `accounts` is deleted from the servers on " +
			"apply, and destroying this resource deletes every account it holds, with an operator-signed " +
			"`$SYS.REQ.CLAIMS.DELETE` request. The servers honour it only with `allow_delete: true` in their full resolver " +
			"(`allow_delete = true` in the `resolver` block of `natsping_server_config`); a server that refuses fails the " +
			"apply, naming the account and the server, and the account stays in the state so the next apply retries. " +
			"Without `operator_signer`, removing an account or destroying the resource leaves the servers alone: the " +
			"account stays usable there.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier derived from `servers` at creation.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"servers": schema.ListAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "URLs of the servers to connect to: `nats://host:port`, or `tls://host:port` for TLS. " +
					"One is enough; the request reaches every full resolver of the cluster through it. Changing the list " +
					"pushes every account again, since the state describes what the previous servers held.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(
					validURL(resolver.ValidateServerURL, "a nats:// or tls:// URL"))},
			},
			"system_user_creds": schema.StringAttribute{
				Required:  true,
				Sensitive: true,
				MarkdownDescription: "Creds of a user of the operator's system account, normally " +
					"`natsping_operator.<name>.system_user_creds`. Only the system account may use `$SYS` subjects.",
				Validators: []validator.String{checkString("Invalid creds", "must be the content of a creds file (a user JWT and its seed)",
					func(s string) error { _, _, err := resolver.ParseCreds(s); return err })},
			},
			"accounts": schema.MapAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "Account public key → account JWT, e.g. `{ (natsping_account.orders.public_key) = " +
					"natsping_account.orders.jwt }`. Each JWT must be an account JWT for the key it is listed under. " +
					"After a refresh this holds what the servers hold.",
				Validators: []validator.Map{mapvalidator.KeysAre(validPublicKey(natsjwt.KindAccount))},
			},
			"operator_signer": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "The operator's signer, normally `natsping_operator.<name>.signer`, or a raw operator " +
					"seed (`SO…`: the identity seed, or a signing key's). Set, it turns on deleting accounts from the " +
					"servers (see above); it must be the operator the servers trust or one of its signing keys, and an " +
					"operator with strict signing keys accepts only a signing key. Unset, nothing is ever deleted.",
				Validators: []validator.String{validSigner(natsjwt.KindOperator)},
			},
			"operator_jwt": resolverPushOperatorJWTAttribute(),
			"ca_bundle_pem": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "PEM certificates of the CAs that sign the servers' TLS certificates. Unset: the " +
					"system's trusted roots. Set: these CAs only, replacing the system roots, because the servers are " +
					"yours and no public CA should vouch for them (`natsping_trust.ca_bundle_pem` instead adds to the " +
					"system roots, since Ping issuers sit behind public CAs). Setting it turns TLS on for `nats://` URLs too.",
				Validators: []validator.String{validCABundle()},
			},
			"timeout": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(defaultResolverPushTimeout),
				MarkdownDescription: "How long to wait to connect, and for every full resolver to answer one push or lookup " +
					"(Go duration). Default `\"" + defaultResolverPushTimeout + "\"`.",
				Validators: []validator.String{validDuration(100 * time.Millisecond)},
			},
			"last_push": schema.SingleNestedAttribute{
				Computed: true,
				MarkdownDescription: "What the last apply that pushed anything did. It changes only when an apply has " +
					"accounts to push, never on refresh.",
				Attributes: map[string]schema.Attribute{
					"at":       schema.StringAttribute{Computed: true, MarkdownDescription: "When (RFC 3339)."},
					"accounts": schema.Int64Attribute{Computed: true, MarkdownDescription: "How many accounts were pushed."},
					"servers":  schema.Int64Attribute{Computed: true, MarkdownDescription: "How many full resolvers the push went to."},
				},
			},
		},
	}
}

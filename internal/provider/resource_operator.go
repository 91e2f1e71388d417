package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var (
	_ resource.ResourceWithConfigure   = (*operatorResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*operatorResource)(nil)
	_ resource.ResourceWithImportState = (*operatorResource)(nil)
)

// NewOperatorResource is the natsping_operator resource.
func NewOperatorResource() resource.Resource { return &operatorResource{} }

type operatorResource struct{ data *ProviderData }

const defaultSigningKeyGracePeriod = "24h"

type operatorModel struct {
	ID                      types.String      `tfsdk:"id"`
	Name                    types.String      `tfsdk:"name"`
	StrictSigningKeys       types.Bool        `tfsdk:"strict_signing_keys"`
	AccountServerURL        types.String      `tfsdk:"account_server_url"`
	OperatorServiceURLs     types.List        `tfsdk:"operator_service_urls"`
	Tags                    types.Set         `tfsdk:"tags"`
	ExpiresAt               timetypes.RFC3339 `tfsdk:"expires_at"`
	SystemAccountName       types.String      `tfsdk:"system_account_name"`
	SystemUserName          types.String      `tfsdk:"system_user_name"`
	SigningKeyRotation      types.Map         `tfsdk:"signing_key_rotation"`
	SigningKeyGracePeriod   types.String      `tfsdk:"signing_key_grace_period"`
	PublicKey               types.String      `tfsdk:"public_key"`
	Seed                    types.String      `tfsdk:"seed"`
	JWT                     types.String      `tfsdk:"jwt"`
	SigningKey              types.String      `tfsdk:"signing_key"`
	SigningKeySeed          types.String      `tfsdk:"signing_key_seed"`
	SigningKeyCreatedAt     timetypes.RFC3339 `tfsdk:"signing_key_created_at"`
	PreviousSigningKey      types.String      `tfsdk:"previous_signing_key"`
	Signer                  types.String      `tfsdk:"signer"`
	SystemAccountPublicKey  types.String      `tfsdk:"system_account_public_key"`
	SystemAccountSeed       types.String      `tfsdk:"system_account_seed"`
	SystemAccountSigningKey types.String      `tfsdk:"system_account_signing_key"`
	SystemAccountSigner     types.String      `tfsdk:"system_account_signer"`
	SystemAccountJWT        types.String      `tfsdk:"system_account_jwt"`
	SystemUserPublicKey     types.String      `tfsdk:"system_user_public_key"`
	SystemUserSeed          types.String      `tfsdk:"system_user_seed"`
	SystemUserCreds         types.String      `tfsdk:"system_user_creds"`
}

func (r *operatorResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_operator"
}

func (r *operatorResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *operatorResource) now() time.Time {
	return r.data.now()
}

func (r *operatorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = operatorResourceSchema()
}

func operatorResourceSchema() schema.Schema {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	computed := func(desc string, sensitive bool, mods []planmodifier.String) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Sensitive: sensitive, MarkdownDescription: desc, PlanModifiers: mods}
	}
	return schema.Schema{
		MarkdownDescription: "A NATS operator for decentralized (JWT) authentication, created together with its system " +
			"account (`SYS`) and system user, as `nsc add operator --sys --generate-signing-key` would. The operator " +
			"identity key, one operator signing key, the system account keys and the system user key are generated on " +
			"create and kept; changing any input re-signs the JWTs in place. Accounts are signed with the operator " +
			"**signing key** (see `signer`), so the identity seed can stay out of day-to-day use.\n\n" +
			"**Rotating the signing key:** change any value in `signing_key_rotation`. The plan then shows the new " +
			"`signing_key`, the public key the apply will sign with (`signing_key_seed` and `signer` change with it, " +
			"shown as sensitive), and every `natsping_account` using `signer` is re-signed in the same apply, its " +
			"`issuer` showing the new key. The next key is generated one apply ahead and kept in the resource's private " +
			"state, which is what lets the plan name it; it is known only after apply when the keepers themselves are " +
			"unknown while planning, or for an operator last applied by a provider version that prepared no key. " +
			"The previous key stays listed in the operator JWT for `signing_key_grace_period`, so account JWTs already " +
			"pushed to servers stay valid until the new ones are deployed; once the grace period is over, the next plan " +
			"drops it (an in-place update). If the state itself may have leaked, rotate twice with " +
			"`signing_key_grace_period = \"0s\"` (the first rotation moves to the key prepared in that state), or " +
			"rather replace the operator: the state also holds its identity and system account seeds.\n\n" +
			"**Security notice:** seeds, signers and creds are stored unencrypted in the state. Protect the state " +
			"accordingly, or keep the operator in a separate state that only a few people can read.",
		Attributes: map[string]schema.Attribute{
			"id": computed("The operator public key.", false, keep),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Operator name, shown by servers and tools. Changing it re-signs the operator JWT in place.",
				Validators: []validator.String{notBlank()},
			},
			"strict_signing_keys": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "When `true` (the default), servers accept only account JWTs signed by an operator " +
					"signing key, and only user JWTs signed by an account signing key or role (never by an account " +
					"identity key).",
			},
			"account_server_url": schema.StringAttribute{
				Optional: true, MarkdownDescription: "URL of an account server (`http://` or `https://`), for tools such as `nsc push`.",
				Validators: []validator.String{validURL(natsjwt.ValidateAccountServerURL, "an http:// or https:// URL")},
			},
			"operator_service_urls": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "NATS URLs of this operator's servers, for tools: `nats://`, `tls://`, `ws://` or `wss://`, host and port only.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(
					validURL(natsjwt.ValidateOperatorServiceURL, "a nats://, tls://, ws:// or wss:// URL"))},
			},
			"tags": schema.SetAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Tags recorded in the operator JWT."},
			"expires_at": schema.StringAttribute{
				CustomType: timetypes.RFC3339Type{}, Optional: true,
				MarkdownDescription: "When the operator JWT expires (RFC 3339, e.g. `2030-01-01T00:00:00Z`); must be in the future. Unset: never.",
			},
			"system_account_name": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(natsjwt.DefaultSystemAccountName),
				MarkdownDescription: "Name of the system account. Default `SYS`. Changing it **replaces the operator** (all keys).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(replaceUnlessImported,
					"Changing the system account name replaces the operator.", "Changing the system account name replaces the operator.")},
				Validators: []validator.String{notBlank()},
			},
			"system_user_name": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(natsjwt.DefaultSystemUserName),
				MarkdownDescription: "Name of the system user. Default `sys`. Changing it re-signs `system_user_creds` in place.",
				Validators:          []validator.String{notBlank()},
			},
			"signing_key_rotation": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Arbitrary key/value pairs; changing any of them generates a new operator signing key " +
					"(like `keepers` of the random provider, e.g. `{ generation = \"2\" }` or a `time_rotating` id). " +
					"Changing it after an import records the values without rotating.",
			},
			"signing_key_grace_period": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(defaultSigningKeyGracePeriod),
				MarkdownDescription: "How long after a rotation the previous signing key stays in the operator JWT, as a " +
					"Go duration. Default `\"24h\"`; `\"0s\"` drops it at once.",
				Validators: []validator.String{validDuration(0)},
			},
			"public_key":       computed("Operator identity public key (`O…`).", false, keep),
			"seed":             computed("Operator identity seed (`SO…`). Only needed to re-sign the operator JWT.", true, keep),
			"jwt":              computed("Operator JWT, self-signed. Re-signed whenever an input changes.", false, nil),
			"signing_key":      computed("Public key of the current operator signing key.", false, nil),
			"signing_key_seed": computed("Seed of the current operator signing key.", true, nil),
			"signing_key_created_at": schema.StringAttribute{
				CustomType: timetypes.RFC3339Type{}, Computed: true,
				MarkdownDescription: "When the current signing key was generated (RFC 3339); the grace period of the previous key counts from here.",
			},
			"previous_signing_key": computed("Public key of the previous signing key while it is still listed in the operator JWT (grace period), otherwise null.", false, nil),
			"signer": computed("The operator signer to pass to `natsping_account.operator_signer`: the current signing key, "+
				"tagged with the operator it signs for.", true, nil),
			"system_account_public_key":  computed("System account public key (`A…`).", false, keep),
			"system_account_seed":        computed("System account identity seed (`SA…`).", true, keep),
			"system_account_signing_key": computed("Public key of the system account's signing key, which signs system users.", false, keep),
			"system_account_signer":      computed("Signer for more system users: pass it to `natsping_user.signer`.", true, keep),
			"system_account_jwt":         computed("System account JWT, signed by the operator signing key; re-signed when the signing key rotates.", false, nil),
			"system_user_public_key":     computed("System user public key (`U…`).", false, keep),
			"system_user_seed":           computed("System user seed (`SU…`).", true, keep),
			"system_user_creds":          computed("System user creds file (JWT and seed), as `nats --creds` and nats.go's `UserCredentials` read it.", true, nil),
		},
	}
}

// replaceUnlessImported keeps an imported operator (whose state has no system account name
// yet) from being replaced on the first apply after the import.
func replaceUnlessImported(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull()
}

package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var (
	_ resource.ResourceWithConfigure  = (*userResource)(nil)
	_ resource.ResourceWithModifyPlan = (*userResource)(nil)
)

// NewUserResource is the natsping_user resource.
func NewUserResource() resource.Resource { return &userResource{} }

type userResource struct{ data *ProviderData }

// userInputsModel is what natsping_user and the ephemeral natsping_user_creds share.
type userInputsModel struct {
	Name        types.String `tfsdk:"name"`
	Signer      types.String `tfsdk:"signer"`
	Account     types.String `tfsdk:"account"`
	Permissions types.Object `tfsdk:"permissions"`
	userLimitsModel
	Tags      types.Set         `tfsdk:"tags"`
	ExpiresAt timetypes.RFC3339 `tfsdk:"expires_at"`
}

// userSigningModel holds the values derived from the signer alone, known at plan time.
type userSigningModel struct {
	Issuer        types.String `tfsdk:"issuer"`
	IssuerAccount types.String `tfsdk:"issuer_account"`
	Role          types.String `tfsdk:"role"`
}

type userModel struct {
	userInputsModel
	userSigningModel
	ID        types.String `tfsdk:"id"`
	PublicKey types.String `tfsdk:"public_key"`
	Seed      types.String `tfsdk:"seed"`
	JWT       types.String `tfsdk:"jwt"`
	Creds     types.String `tfsdk:"creds"`
}

func (r *userResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_user"
}

func (r *userResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *userResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = userResourceSchema()
}

const userSignerDoc = "Signs the user JWT: the `signer` of a `natsping_account` or one of its `role_signers`, the " +
	"`system_account_signer` of a `natsping_operator`, or a raw account seed (`SA…`) as nsc keeps them. A role signer " +
	"makes the user **scoped**: its permissions and limits come from the role's template, so `permissions` and the " +
	"limit attributes must be unset. Under a strict operator (`strict_signing_keys`, the default) nats-server refuses " +
	"users signed by an account *identity* key: use a role or signing key signer there. Changing the signer re-signs " +
	"the JWT, and the plan shows the new `issuer`."

// userInputAttributes are the inputs shared with the ephemeral natsping_user_creds.
func userInputAttributes() map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{
		"name": schema.StringAttribute{
			Required: true, MarkdownDescription: "User name, shown by nats-server as the connection's user. Changing it re-signs the JWT in place.",
			Validators: []validator.String{notBlank()},
		},
		"signer": schema.StringAttribute{
			Required: true, Sensitive: true, MarkdownDescription: userSignerDoc,
			Validators: []validator.String{validSigner(natsjwt.KindAccount)},
		},
		"account": schema.StringAttribute{
			Optional: true, Computed: true,
			MarkdownDescription: "Public key (`A…`) of the account the user belongs to. Computed from the signer; " +
				"required only when the signer is a raw signing-key seed. When both are known they must agree.",
			Validators: []validator.String{validPublicKey(natsjwt.KindAccount)},
		},
		"permissions": permissionsAttribute("Publish/subscribe permissions of the user. Unset: everything the account allows. "+
			"Must be unset for role signers.", false),
		"tags": schema.SetAttribute{
			ElementType: types.StringType, Optional: true,
			MarkdownDescription: "Tags such as `team:blue`; role templates read them with `{{tag(team)}}`.",
		},
		"expires_at": schema.StringAttribute{
			CustomType: timetypes.RFC3339Type{}, Optional: true,
			MarkdownDescription: "When the user JWT expires (RFC 3339); must be in the future. The server closes the " +
				"connection then. Unset: never.",
		},
	}
	for k, v := range userLimitAttributes() {
		attrs[k] = v
	}
	return attrs
}

func userSigningAttributes(attrs map[string]schema.Attribute) {
	attrs["issuer"] = schema.StringAttribute{Computed: true,
		MarkdownDescription: "Public key that signs the JWT (the account, its signing key or the role key), computed from `signer` while planning."}
	attrs["issuer_account"] = schema.StringAttribute{Computed: true,
		MarkdownDescription: "The account named in the JWT's `issuer_account` when a signing key or role signs; null when the account identity key signs."}
	attrs["role"] = schema.StringAttribute{Computed: true,
		MarkdownDescription: "Name of the role whose template applies to the user, or null for unscoped signers."}
}

func userResourceSchema() schema.Schema {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	attrs := userInputAttributes()
	userSigningAttributes(attrs)
	attrs["id"] = schema.StringAttribute{Computed: true, MarkdownDescription: "The user public key.", PlanModifiers: keep}
	attrs["public_key"] = schema.StringAttribute{Computed: true, MarkdownDescription: "User public key (`U…`), generated on create and kept.", PlanModifiers: keep}
	attrs["seed"] = schema.StringAttribute{Computed: true, Sensitive: true, MarkdownDescription: "User seed (`SU…`).", PlanModifiers: keep}
	attrs["jwt"] = schema.StringAttribute{Computed: true, MarkdownDescription: "User JWT; re-signed whenever an input changes."}
	attrs["creds"] = schema.StringAttribute{Computed: true, Sensitive: true,
		MarkdownDescription: "Creds file (JWT and seed) as `nats --creds` and nats.go's `UserCredentials` read it."}
	return schema.Schema{
		MarkdownDescription: "A NATS user: a key generated on create and kept, and a user JWT signed by an account, one of " +
			"its signing keys or one of its roles. Every input change re-signs the JWT in place; nothing but " +
			"replacing the resource changes the key. For short-lived credentials that never reach the state, use the " +
			"ephemeral `natsping_user_creds`.\n\n**Security notice:** `seed` and `creds` are stored unencrypted in the state.",
		Attributes: attrs,
	}
}

func (r *userResource) now() time.Time {
	return r.data.now()
}

func (in *userInputsModel) spec(ctx context.Context) (natsjwt.UserSpec, diag.Diagnostics) {
	var diags diag.Diagnostics
	var perms natsjwt.Permissions
	switch {
	case !valueFullyKnown(ctx, in.Permissions):
		// Only while planning: a permissions object, or a part of it, that is not known yet.
		diags.AddError("Unknown input", "The permissions are not known yet.")
	case !in.Permissions.IsNull():
		var m permissionsModel
		diags.Append(in.Permissions.As(ctx, &m, basetypes.ObjectAsOptions{})...)
		p, d := m.toDomain(ctx)
		diags.Append(d...)
		perms = p
	}
	limits, d := in.userLimitsModel.toDomain(ctx)
	diags.Append(d...)
	spec := natsjwt.UserSpec{
		Name: in.Name.ValueString(), Account: in.Account.ValueString(),
		Permissions: perms, Limits: limits, Tags: stringElements(ctx, in.Tags, &diags),
	}
	if !in.ExpiresAt.IsNull() && !in.ExpiresAt.IsUnknown() {
		spec.Expires, d = in.ExpiresAt.ValueRFC3339Time()
		diags.Append(d...)
	}
	for _, v := range []interface{ IsUnknown() bool }{in.Name, in.Account, in.Tags, in.ExpiresAt, in.MaxSubscriptions, in.MaxData,
		in.MaxPayload, in.Bearer, in.AllowedConnectionTypes, in.SourceNetworks} {
		if v.IsUnknown() {
			diags.AddError("Unknown input", "An input is not known yet.")
		}
	}
	return spec, diags
}

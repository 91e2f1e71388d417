package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var (
	_ resource.Resource                   = (*accountResource)(nil)
	_ resource.ResourceWithConfigure      = (*accountResource)(nil)
	_ resource.ResourceWithValidateConfig = (*accountResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*accountResource)(nil)
)

// NewAccountResource manages a NATS account: its identity key, its roles (scoped signing
// keys) and its JWT signed by the operator.
func NewAccountResource() resource.Resource { return &accountResource{} }

type accountResource struct {
	data *ProviderData
}

func (r *accountResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_account"
}

func (r *accountResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *accountResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = accountResourceSchema()
	resp.Schema.Attributes = withNestedTypes(resp.Schema.Attributes)
}

func accountLimit(desc string) schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional:            true,
		MarkdownDescription: desc + " `-1` or unset means unlimited; `0` allows none.",
		Validators:          []validator.Int64{int64validator.AtLeast(-1)},
	}
}

func accountJetStreamLimitAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"memory_storage":          accountLimit("Bytes of memory storage across all streams."),
		"disk_storage":            accountLimit("Bytes of disk storage across all streams."),
		"max_streams":             accountLimit("Number of streams."),
		"max_consumers":           accountLimit("Number of consumers."),
		"max_ack_pending":         accountLimit("Maximum pending acknowledgements per consumer."),
		"memory_max_stream_bytes": accountLimit("Maximum bytes of one memory-backed stream."),
		"disk_max_stream_bytes":   accountLimit("Maximum bytes of one disk-backed stream."),
		"max_bytes_required": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "Every stream must declare `max_bytes`. Default `false`.",
		},
	}
}

func accountResourceSchema() schema.Schema {
	jsAttrs := accountJetStreamLimitAttributes()
	jsAttrs["tiers"] = schema.MapNestedAttribute{
		Optional: true,
		MarkdownDescription: "Limits per replication tier, keyed `R1` … `R5` (the stream replica count). Tiered and " +
			"untiered limits are mutually exclusive: with `tiers`, leave the limits above unset.",
		NestedObject: schema.NestedAttributeObject{Attributes: accountJetStreamLimitAttributes()},
		Validators:   []validator.Map{mapvalidator.SizeAtLeast(1), mapvalidator.KeysAre(validTier())},
	}
	roleAttrs := userLimitAttributes()
	roleAttrs["name"] = schema.StringAttribute{
		Required: true,
		MarkdownDescription: "Role name, unique within the account: 1-64 letters, digits, `_`, `-` or `.`. It keys the " +
			"role's signing key in `role_keys` and `role_signers`; renaming a role gives it a new key.",
		Validators: []validator.String{validRoleName()},
	}
	roleAttrs["description"] = schema.StringAttribute{Optional: true, MarkdownDescription: "What the role is for."}
	roleAttrs["key_rotation"] = keyRotationAttribute("the role's scoped signing key", roleGraceDoc)
	roleAttrs["permissions"] = permissionsAttribute("The role's permission template. Subjects may use `{{name()}}`, "+
		"`{{subject()}}`, `{{account-name()}}`, `{{account-subject()}}`, `{{tag(x)}}` and `{{account-tag(x)}}`, which "+
		"nats-server fills in from the user and account JWTs.", true)

	return schema.Schema{
		MarkdownDescription: "A NATS account: an identity key, roles (scoped signing keys whose permission templates " +
			"nats-server enforces for every user a role signs), and the account JWT signed by an operator signer.\n\n" +
			"Keys are generated on create and kept; the JWT is re-signed whenever an input changes, so a plan shows " +
			"`jwt` as known after apply exactly then. Role keys follow role names: adding a role adds one key, removing " +
			"a role drops its key, and the other keys never change. Seeds and signers are stored in the state: protect it.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Account name, shown by nats-server and tools. Changing it re-signs the JWT in place.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"description": schema.StringAttribute{Optional: true, MarkdownDescription: "Free-text description carried in the JWT."},
			"info_url": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Absolute URL with more information about the account.",
			},
			"operator_signer": schema.StringAttribute{
				Required:  true,
				Sensitive: true,
				MarkdownDescription: "Signs the account JWT: the `signer` output of `natsping_operator` (an operator " +
					"signing key), or a raw operator seed (`SO…`). Changing it re-signs the JWT and shows the new `issuer` " +
					"in the plan.",
				Validators: []validator.String{validSigner(natsjwt.KindOperator)},
			},
			"operator_jwt": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: accountOperatorJWTDescription,
			},
			"tags": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Lower-case tags such as `team:blue`; role templates read them with " +
					"`{{account-tag(team)}}`.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1)},
			},
			"expires_at": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				Optional:            true,
				MarkdownDescription: "RFC 3339 time after which the account JWT is invalid; must be in the future. Default: never expires.",
			},
			"limits": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Account-wide limits. Unset means unlimited.",
				Attributes: map[string]schema.Attribute{
					"max_connections":   accountLimit("Client connections."),
					"max_leaf_nodes":    accountLimit("Leaf node connections."),
					"max_subscriptions": accountLimit("Subscriptions across all connections."),
					"max_data":          accountLimit("Bytes of data in flight."),
					"max_payload":       accountLimit("Message payload in bytes."),
					"max_imports":       accountLimit("Number of imports."),
					"max_exports":       accountLimit("Number of exports."),
					"allow_wildcard_exports": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "Exports may use wildcards. Default `true`.",
					},
					"disallow_bearer": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "Reject user JWTs that are bearer tokens. Default `false`.",
					},
				},
			},
			"jetstream": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Enables JetStream for the account; without this block JetStream is disabled. " +
					"Unset limits are unlimited, so `jetstream = {}` enables it without limits.",
				Attributes: jsAttrs,
			},
			"exports": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Streams and services this account offers to other accounts.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject:        schema.NestedAttributeObject{Attributes: accountExportAttributes()},
			},
			"imports": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Streams and services of other accounts brought into this one.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject:        schema.NestedAttributeObject{Attributes: accountImportAttributes()},
			},
			"signing_keys": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Extra unscoped signing keys (account public keys, `A…`) whose holders may sign " +
					"users with any permissions. Roles get their keys automatically; list only keys managed elsewhere.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validPublicKey(natsjwt.KindAccount))},
			},
			"default_permissions": permissionsAttribute("Permissions for users of this account whose JWT carries none.", false),
			"roles": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "Roles: scoped signing keys. A user signed by a role's key (for example by the auth " +
					"callout) gets exactly the role's permissions and limits; nats-server applies them, the user JWT " +
					"carries none. Role names must be unique.",
				Validators:   []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{Attributes: roleAttrs},
			},
			"authorization": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Makes this the auth-callout account: nats-server sends every connection of this " +
					"account (except `auth_users`) to the callout service.",
				Attributes: map[string]schema.Attribute{
					"auth_users": schema.SetAttribute{
						ElementType:         types.StringType,
						Optional:            true,
						MarkdownDescription: "User public keys (`U…`) that bypass the callout: the callout service's own user. Required to enable auth callout.",
						Validators:          []validator.Set{setvalidator.ValueStringsAre(validPublicKey(natsjwt.KindUser))},
					},
					"allowed_accounts": schema.SetAttribute{
						ElementType: types.StringType,
						Optional:    true,
						MarkdownDescription: "Account public keys (`A…`) the callout may place users in, or `[\"*\"]` for any. " +
							"Needs `auth_users`.",
						Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.Any(
							stringvalidator.OneOf("*"), validPublicKey(natsjwt.KindAccount)))},
					},
					"xkey": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "The callout's curve public key (`X…`); nats-server then encrypts requests to it.",
						Validators:          []validator.String{validPublicKey(natsjwt.KindCurve)},
					},
				},
			},
			"revoked_users":               accountRevokedUsersAttribute(),
			"revoke_all_users_before":     accountRevokeAllUsersBeforeAttribute(),
			"signing_key_rotation":        keyRotationAttribute("the account's unscoped signing key (`signing_key`, `signer`)", signingKeyGraceDoc),
			"signing_key_rotation_status": rotationStatusAttribute("Where the rotation of `signing_key` stands; null without `signing_key_rotation`."),
			"role_key_rotations": schema.MapNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Role name → where the rotation of the role's key stands, for roles with `key_rotation`.",
				NestedObject:        schema.NestedAttributeObject{Attributes: rotationStatusAttributes()},
			},
			"public_key": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The account's public key (`A…`), generated on create and kept.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"seed": schema.StringAttribute{
				Computed:            true,
				Sensitive:           true,
				MarkdownDescription: "The account's identity seed (`SA…`). Secret.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"signer": schema.StringAttribute{
				Computed:  true,
				Sensitive: true,
				MarkdownDescription: "The account's unscoped signing key (`signing_key`) as a signer, for " +
					"`natsping_user.signer`: users it signs get their own permissions. It is a signing key rather " +
					"than the identity key because operators with `strict_signing_keys` (the default) refuse users " +
					"signed by an account identity. Secret.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"signing_key": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Public key (`A…`) of the account's unscoped signing key, listed in the account JWT; generated on create and kept.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"issuer": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Public key of the operator key that signs the JWT, computed from `operator_signer` " +
					"while planning, so a change of signer is visible in the plan.",
			},
			"jwt": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The signed account JWT; re-signed whenever an input changes.",
			},
			"role_keys": schema.MapAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "Role name → the role's signing key (`A…`).",
			},
			"role_signers": schema.MapAttribute{
				ElementType: types.StringType,
				Computed:    true,
				Sensitive:   true,
				MarkdownDescription: "Role name → the role's signer, for `natsping_role_mapping` and `natsping_user`: " +
					"users it signs get the role's template. Secret.",
			},
		},
	}
}

func accountExportAttributes() map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{
		"type": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "`stream` or `service`.",
			Validators:          []validator.String{stringvalidator.OneOf(natsjwt.ExportKinds...)},
		},
		"subject": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Exported subject; wildcards allowed unless `limits.allow_wildcard_exports` is false.",
			Validators:          []validator.String{validSubject(natsjwt.SubjectOptions{Wildcards: true})},
		},
		"name":        schema.StringAttribute{Optional: true, MarkdownDescription: "Name of the export."},
		"description": schema.StringAttribute{Optional: true, MarkdownDescription: "Description of the export."},
		"token_required": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "Private export: importers need an activation token from this account. Default `false`.",
		},
		"response_type": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Services only: `Singleton` (default), `Stream` or `Chunked`.",
			Validators:          []validator.String{stringvalidator.OneOf(natsjwt.ResponseTypes...)},
		},
		"response_threshold": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Services only: how long the service may take to respond, as a Go duration (`\"5s\"`).",
			Validators:          []validator.String{validDuration(0)},
		},
		"account_token_position": schema.Int64Attribute{
			Optional: true,
			MarkdownDescription: "1-based position of a `*` token in `subject` that must equal the importing account's " +
				"public key.",
			Validators: []validator.Int64{int64validator.AtLeast(1)},
		},
		"advertise":   schema.BoolAttribute{Optional: true, MarkdownDescription: "Advertise the export to tools. Default `false`."},
		"allow_trace": schema.BoolAttribute{Optional: true, MarkdownDescription: "Services only: let message traces cross into the service. Default `false`."},
	}
	accountExportRevocationAttributes(attrs)
	return attrs
}

func accountImportAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"type": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "`stream` or `service`, as exported.",
			Validators:          []validator.String{stringvalidator.OneOf(natsjwt.ExportKinds...)},
		},
		"name": schema.StringAttribute{Optional: true, MarkdownDescription: "Name of the import."},
		"subject": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "The exporting account's subject (or a subject within it).",
			Validators:          []validator.String{validSubject(natsjwt.SubjectOptions{Wildcards: true})},
		},
		"account": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Public key (`A…`) of the exporting account.",
			Validators:          []validator.String{validPublicKey(natsjwt.KindAccount)},
		},
		"local_subject": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Subject inside this account, if different; `$1`, `$2` refer to the `*` tokens of " +
				"`subject`. Default: same as `subject`.",
		},
		"token": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Activation token (JWT) for a private export, issued by the exporting account for " +
				"this account. Checked while planning: it must decode, name both accounts and cover `subject`.",
		},
		"activation_signer": schema.StringAttribute{
			Optional:  true,
			Sensitive: true,
			MarkdownDescription: "Instead of `token`: the exporting account's `signer` output. The activation token is " +
				"then issued for this account at apply, which avoids the cycle a `token` naming this account's " +
				"`public_key` would create in one configuration.",
			Validators: []validator.String{validSigner(natsjwt.KindAccount)},
		},
		"share":       schema.BoolAttribute{Optional: true, MarkdownDescription: "Services only: share client information with the service for latency tracking. Default `false`."},
		"allow_trace": schema.BoolAttribute{Optional: true, MarkdownDescription: "Streams only: let message traces cross in. Default `false`."},
	}
}

// accountRoleKeys reads role keys and seeds back from role_signers in state, by name.
func accountRoleKeys(ctx context.Context, signers types.Map, owner string) (map[string]natsjwt.RoleKey, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := map[string]natsjwt.RoleKey{}
	for name, v := range stringMap(ctx, signers, &diags) {
		s, err := natsjwt.ParseSigner(v, natsjwt.KindAccount)
		if err != nil || s.Owner != owner || s.Role != name {
			diags.AddError("Corrupt role signer in state",
				"The stored signer of role "+name+" does not belong to this account. This is always a bug in the provider.")
			continue
		}
		out[name] = natsjwt.RoleKey{PublicKey: s.PublicKey, Seed: s.Seed}
	}
	return out, diags
}

// accountRoleMaps renders role keys as the role_keys and role_signers attributes.
func accountRoleMaps(owner string, keys map[string]natsjwt.RoleKey, diags *diag.Diagnostics) (types.Map, types.Map) {
	pubs := make(map[string]attr.Value, len(keys))
	signers := make(map[string]attr.Value, len(keys))
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		k := keys[name]
		s, err := natsjwt.NewSigner(owner, name, k.Seed, natsjwt.KindAccount)
		if err != nil {
			diags.AddError("Cannot encode role signer", "Role "+name+": "+err.Error()+". This is always a bug in the provider.")
			continue
		}
		pubs[name] = types.StringValue(k.PublicKey)
		signers[name] = types.StringValue(natsjwt.EncodeSigner(s))
	}
	return types.MapValueMust(types.StringType, pubs), types.MapValueMust(types.StringType, signers)
}

package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
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
				Validators: []validator.String{natsURLValidator{check: natsjwt.ValidateAccountServerURL, desc: "an http:// or https:// URL"}},
			},
			"operator_service_urls": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "NATS URLs of this operator's servers, for tools: `nats://`, `tls://`, `ws://` or `wss://`, host and port only.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(
					natsURLValidator{check: natsjwt.ValidateOperatorServiceURL, desc: "a nats://, tls://, ws:// or wss:// URL"})},
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

func (r *operatorResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy: nothing to plan
	}
	var plan operatorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *operatorModel
	if !req.State.Raw.IsNull() {
		state = &operatorModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	checkExpiresAt(plan.ExpiresAt, stateExpires(state), r.now(), path.Root("expires_at"), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if state == nil {
		plan.PreviousSigningKey = types.StringNull()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	grace, err := time.ParseDuration(plan.SigningKeyGracePeriod.ValueString())
	graceUnknown := plan.SigningKeyGracePeriod.IsUnknown() || err != nil
	imported := state.JWT.IsNull()
	// Keepers or a grace period not known yet are decided in the final plan at apply; every
	// value they decide is unknown here, since Terraform rejects a final plan that changes a
	// value this plan promised.
	keepersUnknown := !imported && !mapFullyKnown(plan.SigningKeyRotation)
	rotate := !imported && (keepersUnknown || !keepersEqual(plan.SigningKeyRotation, state.SigningKeyRotation))
	resign := false
	if rotate {
		if keepersUnknown {
			// Whether the key changes at all is decided in the final plan.
			plan.SigningKey, plan.SigningKeySeed, plan.Signer = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		} else {
			planRotationKey(ctx, &plan, req.Private, &resp.Diagnostics)
		}
		plan.SigningKeyCreatedAt = timetypes.NewRFC3339Unknown()
		switch {
		case keepersUnknown || graceUnknown:
			plan.PreviousSigningKey = types.StringUnknown()
		case grace > 0:
			plan.PreviousSigningKey = state.SigningKey
		default:
			plan.PreviousSigningKey = types.StringNull()
		}
		plan.SystemAccountJWT = types.StringUnknown()
		resign = true
	} else {
		plan.SigningKey, plan.SigningKeySeed, plan.Signer = state.SigningKey, state.SigningKeySeed, state.Signer
		plan.SigningKeyCreatedAt = state.SigningKeyCreatedAt
		plan.PreviousSigningKey = state.PreviousSigningKey
		if !state.PreviousSigningKey.IsNull() {
			created, d := state.SigningKeyCreatedAt.ValueRFC3339Time()
			switch {
			case graceUnknown && !d.HasError():
				plan.PreviousSigningKey = types.StringUnknown()
				resign = true
			case d.HasError() || !r.now().Before(created.Add(grace)):
				// Like tls_self_signed_cert's early renewal: time alone makes this plan an update.
				plan.PreviousSigningKey = types.StringNull()
				resign = true
			}
		}
		plan.SystemAccountJWT = state.SystemAccountJWT
		if imported {
			plan.SystemAccountJWT = types.StringUnknown()
		}
	}
	plan.SystemUserCreds = state.SystemUserCreds
	if imported || !plan.SystemUserName.Equal(state.SystemUserName) {
		plan.SystemUserCreds = types.StringUnknown()
	}
	if resign || imported {
		plan.JWT = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func stateExpires(state *operatorModel) timetypes.RFC3339 {
	if state == nil {
		return timetypes.NewRFC3339Null()
	}
	return state.ExpiresAt
}

// checkExpiresAt refuses an expiry in the past, but only when it is new or changed: an
// unchanged expiry that has since passed must not make every later plan fail.
func checkExpiresAt(planned, prior timetypes.RFC3339, now time.Time, p path.Path, diags *diag.Diagnostics) {
	if planned.IsNull() || planned.IsUnknown() || planned.Equal(prior) {
		return
	}
	t, d := planned.ValueRFC3339Time()
	if d.HasError() {
		return // the type's own validation reports malformed timestamps
	}
	if !t.After(now) {
		diags.AddAttributeError(p, "Expiry in the past",
			fmt.Sprintf("%s is not in the future (now is %s): a JWT that is already expired is refused by every server. "+
				"Set a later time, or remove expires_at for a JWT that never expires.", planned.ValueString(), now.UTC().Format(time.RFC3339)))
	}
}

// mapFullyKnown reports whether a map and all its elements are known.
func mapFullyKnown(m types.Map) bool {
	if m.IsUnknown() {
		return false
	}
	for _, v := range m.Elements() {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

func keepersEqual(a, b types.Map) bool {
	if len(a.Elements()) == 0 && len(b.Elements()) == 0 {
		return true // null and {} both mean "no keepers"
	}
	return a.Equal(b)
}

func (r *operatorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m operatorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	keys := []struct {
		kind      natsjwt.KeyKind
		pub, seed *types.String
		what      string
	}{
		{natsjwt.KindOperator, &m.PublicKey, &m.Seed, "operator identity"},
		{natsjwt.KindOperator, &m.SigningKey, &m.SigningKeySeed, "operator signing"},
		{natsjwt.KindAccount, &m.SystemAccountPublicKey, &m.SystemAccountSeed, "system account"},
		{natsjwt.KindUser, &m.SystemUserPublicKey, &m.SystemUserSeed, "system user"},
	}
	for _, k := range keys {
		pub, seed, err := natsjwt.NewKey(k.kind)
		if err != nil {
			resp.Diagnostics.AddError("Cannot generate the "+k.what+" key", err.Error())
			return
		}
		*k.pub, *k.seed = types.StringValue(pub), types.StringValue(seed)
	}
	sysSKPub, sysSKSeed, err := natsjwt.NewKey(natsjwt.KindAccount)
	if err != nil {
		resp.Diagnostics.AddError("Cannot generate the system account signing key", err.Error())
		return
	}
	m.SystemAccountSigningKey = types.StringValue(sysSKPub)
	m.SystemAccountSigner = types.StringValue(natsjwt.EncodeSigner(&natsjwt.Signer{Owner: m.SystemAccountPublicKey.ValueString(), Seed: sysSKSeed}))
	m.SigningKeyCreatedAt = timetypes.NewRFC3339TimeValue(r.now().UTC().Truncate(time.Second))
	m.PreviousSigningKey = types.StringNull()
	m.JWT, m.SystemAccountJWT, m.SystemUserCreds = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	r.sign(ctx, &m, &resp.Diagnostics)
	storeNextSigningKey(ctx, resp.Private, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Read returns the state as it is: every value is derived from the configuration and the
// kept keys, and there is no remote object whose drift could be detected. It never
// re-signs, so a refresh never changes a JWT.
func (r *operatorResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *operatorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m operatorModel
	var prior types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("signing_key"), &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A rotation uses up the prepared key; so does a state without one (imported, or made
	// before keys were prepared), which gets its first.
	if !m.SigningKey.Equal(prior) || loadNextSigningKey(ctx, req.Private, m.PublicKey.ValueString(), &resp.Diagnostics) == nil {
		storeNextSigningKey(ctx, resp.Private, &resp.Diagnostics)
	}
	if m.SigningKey.IsUnknown() {
		pub, seed, err := natsjwt.NewKey(natsjwt.KindOperator)
		if err != nil {
			resp.Diagnostics.AddError("Cannot generate the new operator signing key", err.Error())
			return
		}
		m.SigningKey, m.SigningKeySeed = types.StringValue(pub), types.StringValue(seed)
	}
	if m.SigningKeyCreatedAt.IsUnknown() {
		m.SigningKeyCreatedAt = timetypes.NewRFC3339TimeValue(r.now().UTC().Truncate(time.Second))
	}
	r.sign(ctx, &m, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete has nothing to do: the keys and JWTs exist only in the state. Servers keep trusting
// the operator until their configuration no longer lists its JWT.
func (r *operatorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// sign fills every JWT-derived value that the plan left unknown.
func (r *operatorResource) sign(ctx context.Context, m *operatorModel, diags *diag.Diagnostics) {
	identity, err := natsjwt.NewSigner("", "", m.Seed.ValueString(), natsjwt.KindOperator)
	if err != nil {
		diags.AddError("The operator seed in the state is unusable", err.Error()+" This is always a bug in the provider.")
		return
	}
	sk, err := natsjwt.NewSigner(identity.PublicKey, "", m.SigningKeySeed.ValueString(), natsjwt.KindOperator)
	if err != nil {
		diags.AddError("The operator signing key seed in the state is unusable", err.Error()+" This is always a bug in the provider.")
		return
	}
	m.ID = m.PublicKey
	m.Signer = types.StringValue(natsjwt.EncodeSigner(sk))
	if m.JWT.IsUnknown() {
		spec := natsjwt.OperatorSpec{
			Name:              m.Name.ValueString(),
			StrictSigningKeys: m.StrictSigningKeys.ValueBool(),
			AccountServerURL:  m.AccountServerURL.ValueString(),
			SigningKeys:       []string{sk.PublicKey},
			SystemAccount:     m.SystemAccountPublicKey.ValueString(),
		}
		if !m.PreviousSigningKey.IsNull() && !m.PreviousSigningKey.IsUnknown() {
			spec.SigningKeys = append(spec.SigningKeys, m.PreviousSigningKey.ValueString())
		}
		if !m.OperatorServiceURLs.IsNull() {
			diags.Append(m.OperatorServiceURLs.ElementsAs(ctx, &spec.OperatorServiceURLs, false)...)
		}
		spec.Tags = stringsFromSet(ctx, m.Tags, diags)
		if !m.ExpiresAt.IsNull() {
			var d diag.Diagnostics
			spec.Expires, d = m.ExpiresAt.ValueRFC3339Time()
			diags.Append(d...)
		}
		if diags.HasError() {
			return
		}
		token, err := natsjwt.BuildOperatorJWT(spec, identity)
		if err != nil {
			diags.AddError("Cannot sign the operator JWT", err.Error())
			return
		}
		m.JWT = types.StringValue(token)
	}
	if m.SystemAccountJWT.IsUnknown() {
		token, err := natsjwt.BuildSystemAccountJWT(natsjwt.SystemAccountSpec{
			Name: m.SystemAccountName.ValueString(), PublicKey: m.SystemAccountPublicKey.ValueString(),
			SigningKey: m.SystemAccountSigningKey.ValueString(),
		}, sk)
		if err != nil {
			diags.AddError("Cannot sign the system account JWT", err.Error())
			return
		}
		m.SystemAccountJWT = types.StringValue(token)
	}
	if m.SystemUserCreds.IsUnknown() {
		sysSigner, err := natsjwt.ParseSigner(m.SystemAccountSigner.ValueString(), natsjwt.KindAccount)
		if err != nil {
			diags.AddError("The system account signer in the state is unusable", err.Error()+" This is always a bug in the provider.")
			return
		}
		spec := natsjwt.UserSpec{Name: m.SystemUserName.ValueString(), PublicKey: m.SystemUserPublicKey.ValueString()}
		token, err := natsjwt.BuildUserJWT(spec, sysSigner)
		if err == nil {
			var creds string
			creds, err = natsjwt.FormatCreds(token, m.SystemUserSeed.ValueString())
			m.SystemUserCreds = types.StringValue(creds)
		}
		if err != nil {
			diags.AddError("Cannot sign the system user", err.Error())
			return
		}
	}
}

func (r *operatorResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m, err := operatorFromImportID(req.ID, r.now())
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	storeNextSigningKey(ctx, resp.Private, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// operatorFromImportID adopts existing keys, as nsc keeps them: the operator identity seed,
// then optionally its signing key seed (SO…), the system account seed and its signing key
// seed (SA…, in that order) and the system user seed (SU…), separated by commas. Keys not
// given are generated. The JWTs are left null, so the first plan after the import signs
// them with the configured values (an in-place update).
func operatorFromImportID(id string, now time.Time) (*operatorModel, error) {
	parts := strings.Split(id, ",")
	usage := "use \"<operator seed>[,<operator signing key seed>][,<system account seed>[,<system account signing key seed>]][,<system user seed>]\""
	identity, err := natsjwt.ParseSeed(parts[0], natsjwt.KindOperator)
	if err != nil {
		return nil, fmt.Errorf("the first part must be the operator identity seed: %v; %s", err, usage)
	}
	seeds := map[string]string{"op": strings.TrimSpace(parts[0])}
	for i, p := range parts[1:] {
		p = strings.TrimSpace(p)
		slot := ""
		switch {
		case strings.HasPrefix(p, "SO") && seeds["sk"] == "":
			slot = "sk"
		case strings.HasPrefix(p, "SA") && seeds["sys"] == "":
			slot = "sys"
		case strings.HasPrefix(p, "SA") && seeds["syssk"] == "":
			slot = "syssk"
		case strings.HasPrefix(p, "SU") && seeds["usr"] == "":
			slot = "usr"
		default:
			return nil, fmt.Errorf("part %d is not an expected seed (or repeats a kind); %s", i+2, usage)
		}
		seeds[slot] = p
	}
	m := &operatorModel{
		Name: types.StringNull(), StrictSigningKeys: types.BoolNull(), AccountServerURL: types.StringNull(),
		OperatorServiceURLs: types.ListNull(types.StringType), Tags: types.SetNull(types.StringType),
		ExpiresAt: timetypes.NewRFC3339Null(), SystemAccountName: types.StringNull(), SystemUserName: types.StringNull(),
		SigningKeyRotation: types.MapNull(types.StringType), SigningKeyGracePeriod: types.StringNull(),
		JWT: types.StringNull(), SystemAccountJWT: types.StringNull(), SystemUserCreds: types.StringNull(),
		PreviousSigningKey: types.StringNull(), SigningKeyCreatedAt: timetypes.NewRFC3339TimeValue(now.UTC().Truncate(time.Second)),
	}
	slots := []struct {
		name      string
		kind      natsjwt.KeyKind
		pub, seed *types.String
	}{
		{"sk", natsjwt.KindOperator, &m.SigningKey, &m.SigningKeySeed},
		{"sys", natsjwt.KindAccount, &m.SystemAccountPublicKey, &m.SystemAccountSeed},
		{"usr", natsjwt.KindUser, &m.SystemUserPublicKey, &m.SystemUserSeed},
	}
	pub, _ := identity.PublicKey()
	m.ID, m.PublicKey, m.Seed = types.StringValue(pub), types.StringValue(pub), types.StringValue(seeds["op"])
	for _, s := range slots {
		pub, seed, err := adoptOrCreate(seeds[s.name], s.kind)
		if err != nil {
			return nil, err
		}
		*s.pub, *s.seed = types.StringValue(pub), types.StringValue(seed)
	}
	sysSKPub, sysSKSeed, err := adoptOrCreate(seeds["syssk"], natsjwt.KindAccount)
	if err != nil {
		return nil, err
	}
	sk, _ := natsjwt.NewSigner(pub, "", m.SigningKeySeed.ValueString(), natsjwt.KindOperator)
	m.Signer = types.StringValue(natsjwt.EncodeSigner(sk))
	m.SystemAccountSigningKey = types.StringValue(sysSKPub)
	m.SystemAccountSigner = types.StringValue(natsjwt.EncodeSigner(&natsjwt.Signer{Owner: m.SystemAccountPublicKey.ValueString(), Seed: sysSKSeed}))
	return m, nil
}

func adoptOrCreate(seed string, kind natsjwt.KeyKind) (string, string, error) {
	if seed == "" {
		return natsjwt.NewKey(kind)
	}
	kp, err := natsjwt.ParseSeed(seed, kind)
	if err != nil {
		return "", "", err
	}
	pub, err := kp.PublicKey()
	return pub, seed, err
}

func notBlank() validator.String {
	return stringvalidator.RegexMatches(regexp.MustCompile(`\S`), "must not be empty or blank")
}

// natsURLValidator runs one of natsjwt's URL checks at plan time, with the attribute path.
type natsURLValidator struct {
	check func(string) error
	desc  string
}

func (v natsURLValidator) Description(context.Context) string { return "must be " + v.desc }
func (v natsURLValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v natsURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid URL", err.Error())
	}
}

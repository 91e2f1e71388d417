package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

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
	clearNSCImport(ctx, resp.Private, &resp.Diagnostics)
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
		spec.OperatorServiceURLs = stringElements(ctx, m.OperatorServiceURLs, diags)
		spec.Tags = stringElements(ctx, m.Tags, diags)
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

// operatorFromImportID reads the older seed-list import ID (see ImportState): the operator identity seed,
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

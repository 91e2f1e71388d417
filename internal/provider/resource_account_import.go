package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var _ resource.ResourceWithImportState = (*accountResource)(nil)

// importedOperatorKey is the private state that records, for an account imported from an nsc
// store, the operator that issued it, so the plan can refuse a signer of another operator.
const importedOperatorKey = "nsc_import_operator"

type importedOperator struct {
	Name string   `json:"name"`
	Keys []string `json:"keys"` // identity first, then signing keys
}

// ImportState adopts an account JWT made elsewhere (nsc) by its path; the seeds are looked up
// in the nsc keystore by public key, so the import ID holds no secret. The state is the JWT's
// claims, the JWT is kept as it is: the next plan is empty when the configuration says what the
// JWT says, and re-signs only when an input differs.
func (r *accountResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m, op, warnings, err := accountFromNSC(ctx, req.ID, natsjwt.NSCDefaultKeystore())
	if err != nil {
		resp.Diagnostics.AddError("Cannot import the account", err.Error())
		return
	}
	for _, w := range warnings {
		resp.Diagnostics.AddWarning("Claims natsping does not manage", w)
	}
	if op != nil {
		raw, err := json.Marshal(op)
		if err != nil {
			resp.Diagnostics.AddError("Cannot record the issuing operator", err.Error()+". This is always a bug in the provider.")
			return
		}
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedOperatorKey, raw)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// accountFromNSC reads the account JWT at jwtPath and its seeds from ks into a model.
func accountFromNSC(ctx context.Context, jwtPath string, ks natsjwt.NSCKeystore) (*accountResourceModel, *importedOperator, []string, error) {
	if strings.TrimSpace(jwtPath) == "" {
		return nil, nil, nil, errors.New("the import ID is empty; give the path of the account JWT, e.g. ~/.local/share/nats/nsc/stores/<operator>/accounts/<name>/<name>.jwt")
	}
	token, err := natsjwt.ReadJWTFile(jwtPath)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s is not a valid account JWT (%v); import accounts by the path of their JWT", jwtPath, err)
	}
	read, err := natsjwt.AccountSpecFromClaims(c)
	if err != nil {
		return nil, nil, nil, err
	}
	spec := read.Spec
	var warnings []string
	if len(read.Ignored) > 0 {
		warnings = append(warnings, fmt.Sprintf("Account %q carries %s, which natsping does not model: they stay in the imported JWT, "+
			"but the first change that re-signs the account drops them.", c.Name, strings.Join(read.Ignored, ", ")))
	}
	seedOf := func(pub, what string) (string, error) {
		seed, err := ks.Seed(pub)
		if err != nil {
			return "", fmt.Errorf("account %q: the %s: %w", c.Name, what, err)
		}
		return seed, nil
	}
	seed, err := seedOf(c.Subject, "identity key "+c.Subject)
	if err != nil {
		return nil, nil, nil, err
	}
	// natsping signs users with one unscoped signing key (the signer output); the first one whose
	// seed is at hand becomes it, the others stay listed in signing_keys.
	var signing *natsjwt.Signer
	var extra []string
	for _, k := range spec.SigningKeys {
		if signing == nil {
			if s, err := ks.Seed(k); err == nil {
				if signing, err = natsjwt.NewSigner(c.Subject, "", s, natsjwt.KindAccount); err != nil {
					return nil, nil, nil, err
				}
				continue
			}
		}
		extra = append(extra, k)
	}
	if signing == nil {
		return nil, nil, nil, fmt.Errorf("account %q has no unscoped signing key whose seed is in the keystore %s (looked for %s); natsping signs "+
			"users with one, because strict operators refuse users signed by the account identity. Add one with "+
			"`nsc edit account %s --sk generate`, or point %s at the keystore holding its seed, and import again",
			c.Name, ks.Dir, strings.Join(quoteAll(spec.SigningKeys), ", "), c.Name, natsjwt.NSCKeystoreEnv)
	}
	spec.SigningKeys = extra
	roles := map[string]natsjwt.RoleKey{}
	for _, role := range spec.Roles {
		s, err := seedOf(role.PublicKey, "key of role "+role.Name)
		if err != nil {
			return nil, nil, nil, err
		}
		roles[role.Name] = natsjwt.RoleKey{PublicKey: role.PublicKey, Seed: s}
	}

	var diags diag.Diagnostics
	m := accountModelFromSpec(ctx, spec, &diags)
	if diags.HasError() {
		return nil, nil, nil, fmt.Errorf("account %q: %v", c.Name, diags.Errors())
	}
	m.PublicKey, m.Seed = types.StringValue(c.Subject), types.StringValue(seed)
	m.Signer, m.SigningKey = types.StringValue(natsjwt.EncodeSigner(signing)), types.StringValue(signing.PublicKey)
	m.Issuer, m.JWT = types.StringValue(c.Issuer), types.StringValue(token)
	m.RoleKeys, m.RoleSigners = accountRoleMaps(c.Subject, roles, &diags)
	if diags.HasError() {
		return nil, nil, nil, fmt.Errorf("account %q: %v", c.Name, diags.Errors())
	}

	// The operator signer comes from the configuration; when the issuing key's seed is in the
	// keystore the state holds it in the form the configuration most likely passes (the
	// operator's signer output for a signing key, the raw seed for the identity), so a matching
	// configuration plans no change. Otherwise the first plan only sets operator_signer.
	op, err := natsjwt.NSCStoreOperator(jwtPath)
	if err != nil {
		return nil, nil, nil, err
	}
	var issuing *importedOperator
	m.OperatorSigner, m.OperatorJWT = types.StringNull(), types.StringNull()
	if op != nil {
		if natsjwt.CheckAccountIssuer(op, c.Issuer) != nil && c.Issuer != op.Subject {
			return nil, nil, nil, fmt.Errorf("account %q was signed by %s, which is neither operator %q (%s) of its store nor one of its signing keys",
				c.Name, c.Issuer, op.Name, op.Subject)
		}
		issuing = &importedOperator{Name: op.Name, Keys: append([]string{op.Subject}, op.SigningKeys...)}
	}
	if opSeed, err := ks.Seed(c.Issuer); err == nil {
		value := opSeed
		if op != nil && c.Issuer != op.Subject {
			s, err := natsjwt.NewSigner(op.Subject, "", opSeed, natsjwt.KindOperator)
			if err != nil {
				return nil, nil, nil, err
			}
			value = natsjwt.EncodeSigner(s)
		}
		m.OperatorSigner = types.StringValue(value)
	}
	return m, issuing, warnings, nil
}

// checkImportedOperator refuses, while planning an imported account, an operator_signer that
// belongs to another operator than the one whose store the account came from.
func checkImportedOperator(ctx context.Context, req resource.ModifyPlanRequest, signer types.String, diags *diag.Diagnostics) {
	if signer.IsNull() || signer.IsUnknown() {
		return
	}
	raw, d := req.Private.GetKey(ctx, importedOperatorKey)
	diags.Append(d...)
	var op importedOperator
	if len(raw) == 0 || json.Unmarshal(raw, &op) != nil || len(op.Keys) == 0 {
		return
	}
	s, err := natsjwt.ParseSigner(signer.ValueString(), natsjwt.KindOperator)
	if err != nil || slices.Contains(op.Keys, s.PublicKey) {
		return
	}
	signingKeys := "it has none"
	if len(op.Keys) > 1 {
		signingKeys = strings.Join(op.Keys[1:], ", ")
	}
	diags.AddAttributeError(path.Root("operator_signer"), "Signer of another operator",
		fmt.Sprintf("This account was imported from the store of operator %q (%s), but operator_signer signs with %s, which is "+
			"neither that operator nor one of its signing keys (%s). Servers trusting %q would refuse the re-signed account. "+
			"Pass a signing key of operator %q (its natsping_operator signer, or its seed from the nsc keystore), or import "+
			"the account from the store of the operator this signer belongs to.",
			op.Name, op.Keys[0], s.PublicKey, signingKeys, op.Name, op.Name))
}

// keepIfOnlySignerForm keeps the imported JWT when the plan differs from the state in
// operator_signer and operator_jwt alone and the signer is the key that signed the JWT: the
// same key would sign the same claims, so there is nothing to re-sign.
func keepIfOnlySignerForm(req resource.ModifyPlanRequest, plan, state *accountResourceModel) bool {
	if plan.OperatorSigner.IsUnknown() || plan.OperatorSigner.IsNull() {
		return false
	}
	s, err := natsjwt.ParseSigner(plan.OperatorSigner.ValueString(), natsjwt.KindOperator)
	if err != nil || s.PublicKey != state.Issuer.ValueString() {
		return false
	}
	var planned, prior map[string]tftypes.Value
	if req.Plan.Raw.As(&planned) != nil || req.State.Raw.As(&prior) != nil {
		return false
	}
	for name, a := range req.Plan.Schema.GetAttributes() {
		if name == "operator_jwt" || name == "operator_signer" || (a.IsComputed() && !a.IsOptional()) {
			continue
		}
		if !planned[name].Equal(prior[name]) {
			return false
		}
	}
	return true
}

// accountModelFromSpec renders a spec read from claims as the resource's input attributes,
// with unset (null) values wherever the JWT holds the default, so a configuration that leaves
// defaults unset plans no change.
func accountModelFromSpec(ctx context.Context, s natsjwt.AccountSpec, diags *diag.Diagnostics) *accountResourceModel {
	attrs := accountResourceSchema().Attributes
	objType := func(name string) map[string]attr.Type {
		return attrs[name].GetType().(basetypes.ObjectType).AttrTypes
	}
	elemType := func(name string) attr.Type {
		return attrs[name].GetType().(basetypes.ListType).ElemType
	}
	object := func(name string, v any) types.Object {
		o, d := types.ObjectValueFrom(ctx, objType(name), v)
		diags.Append(d...)
		return o
	}
	m := &accountResourceModel{
		Name: types.StringValue(s.Name), Description: stringOrNull(s.Description), InfoURL: stringOrNull(s.InfoURL),
		Tags: setOrNull(s.Tags), SigningKeys: setOrNull(s.SigningKeys),
		ExpiresAt: timetypes.NewRFC3339Null(),
		Limits:    types.ObjectNull(objType("limits")), JetStream: types.ObjectNull(objType("jetstream")),
		Exports: types.ListNull(elemType("exports")), Imports: types.ListNull(elemType("imports")),
		DefaultPermissions: types.ObjectNull(objType("default_permissions")), Roles: types.ListNull(elemType("roles")),
		Authorization:      types.ObjectNull(objType("authorization")),
		SigningKeyRotation: types.ObjectNull(objType("signing_key_rotation")),
		// An imported JWT rotates nothing until the configuration declares a rotation.
		SigningKeyRotationStatus: types.ObjectNull(rotationStatusAttrTypes),
		RoleKeyRotations:         types.MapNull(rotationStatusType),
	}
	if !s.Expires.IsZero() {
		m.ExpiresAt = timetypes.NewRFC3339TimeValue(s.Expires)
	}
	if l := s.Limits; l != (natsjwt.AccountLimits{}) {
		lm := accountLimitsModel{
			MaxConnections: int64OrNull(l.Conn), MaxLeafNodes: int64OrNull(l.LeafNodeConn), MaxSubscriptions: int64OrNull(l.Subs),
			MaxData: int64OrNull(l.Data), MaxPayload: int64OrNull(l.Payload), MaxImports: int64OrNull(l.Imports),
			MaxExports: int64OrNull(l.Exports), AllowWildcardExports: types.BoolNull(), DisallowBearer: trueOrNull(l.DisallowBearer),
		}
		if l.WildcardExports != nil {
			lm.AllowWildcardExports = types.BoolValue(*l.WildcardExports)
		}
		m.Limits = object("limits", lm)
	}
	if js := s.JetStream; js != nil {
		tierType := objType("jetstream")["tiers"].(basetypes.MapType).ElemType
		jm := accountJetStreamModel{accountJetStreamTierModel: tierModel(js.JetStreamLimits), Tiers: types.MapNull(tierType)}
		if len(js.Tiers) > 0 {
			tiers := map[string]accountJetStreamTierModel{}
			for name, t := range js.Tiers {
				tiers[name] = tierModel(t)
			}
			var d diag.Diagnostics
			jm.Tiers, d = types.MapValueFrom(ctx, tierType, tiers)
			diags.Append(d...)
		}
		m.JetStream = object("jetstream", jm)
	}
	if len(s.Exports) > 0 {
		var list []accountExportModel
		for _, e := range s.Exports {
			em := accountExportModel{
				Type: types.StringValue(e.Type), Subject: types.StringValue(e.Subject), Name: stringOrNull(e.Name),
				Description: stringOrNull(e.Description), TokenRequired: trueOrNull(e.TokenRequired), ResponseType: stringOrNull(e.ResponseType),
				ResponseThreshold: types.StringNull(), AccountTokenPosition: types.Int64Null(),
				Advertise: trueOrNull(e.Advertise), AllowTrace: trueOrNull(e.AllowTrace),
			}
			if e.ResponseThreshold != 0 {
				em.ResponseThreshold = types.StringValue(e.ResponseThreshold.String())
			}
			if e.AccountTokenPosition != 0 {
				em.AccountTokenPosition = types.Int64Value(int64(e.AccountTokenPosition))
			}
			em.RevokedActivations, em.RevokeAllActivations = revocationsToModel(e.RevokedActivations)
			list = append(list, em)
		}
		m.Exports = listFrom(ctx, elemType("exports"), list, diags)
	}
	if len(s.Imports) > 0 {
		var list []accountImportModel
		for _, imp := range s.Imports {
			list = append(list, accountImportModel{
				Type: types.StringValue(imp.Type), Name: stringOrNull(imp.Name), Subject: types.StringValue(imp.Subject),
				Account: types.StringValue(imp.Account), LocalSubject: stringOrNull(imp.LocalSubject), Token: stringOrNull(imp.Token),
				ActivationSigner: types.StringNull(), Share: trueOrNull(imp.Share), AllowTrace: trueOrNull(imp.AllowTrace),
			})
		}
		m.Imports = listFrom(ctx, elemType("imports"), list, diags)
	}
	if p := permissionsToModel(s.DefaultPermissions); p != nil {
		m.DefaultPermissions = object("default_permissions", p)
	}
	if len(s.Roles) > 0 {
		roleType := elemType("roles").(basetypes.ObjectType)
		var list []accountRoleModel
		for _, r := range s.Roles {
			l := limitsToModel(r.Limits)
			rm := accountRoleModel{
				Name: types.StringValue(r.Name), Description: stringOrNull(r.Description),
				Permissions:      types.ObjectNull(roleType.AttrTypes["permissions"].(basetypes.ObjectType).AttrTypes),
				KeyRotation:      types.ObjectNull(roleType.AttrTypes["key_rotation"].(basetypes.ObjectType).AttrTypes),
				MaxSubscriptions: l.MaxSubscriptions, MaxData: l.MaxData, MaxPayload: l.MaxPayload, Bearer: l.Bearer,
				AllowedConnectionTypes: l.AllowedConnectionTypes, SourceNetworks: l.SourceNetworks,
			}
			if p := permissionsToModel(r.Permissions); p != nil {
				var d diag.Diagnostics
				rm.Permissions, d = types.ObjectValueFrom(ctx, roleType.AttrTypes["permissions"].(basetypes.ObjectType).AttrTypes, p)
				diags.Append(d...)
			}
			list = append(list, rm)
		}
		m.Roles = listFrom(ctx, roleType, list, diags)
	}
	if a := s.Authorization; a != nil {
		m.Authorization = object("authorization", accountAuthorizationModel{
			AuthUsers: setOrNull(a.AuthUsers), AllowedAccounts: setOrNull(a.AllowedAccounts), XKey: stringOrNull(a.XKey),
		})
	}
	m.RevokedUsers, m.RevokeAllUsers = revocationsToModel(s.RevokedUsers)
	return m
}

func tierModel(l natsjwt.JetStreamLimits) accountJetStreamTierModel {
	return accountJetStreamTierModel{
		MemoryStorage: int64OrNull(l.MemoryStorage), DiskStorage: int64OrNull(l.DiskStorage), MaxStreams: int64OrNull(l.Streams),
		MaxConsumers: int64OrNull(l.Consumer), MaxAckPending: int64OrNull(l.MaxAckPending),
		MemoryMaxStreamBytes: int64OrNull(l.MemoryMaxStreamBytes), DiskMaxStreamBytes: int64OrNull(l.DiskMaxStreamBytes),
		MaxBytesRequired: trueOrNull(l.MaxBytesRequired),
	}
}

func listFrom[T any](ctx context.Context, elem attr.Type, v []T, diags *diag.Diagnostics) types.List {
	l, d := types.ListValueFrom(ctx, elem, v)
	diags.Append(d...)
	return l
}

func int64OrNull(v *int64) types.Int64 {
	if v == nil {
		return types.Int64Null()
	}
	return types.Int64Value(*v)
}

// trueOrNull is how an optional flag that defaults to false appears when it was left unset.
func trueOrNull(b bool) types.Bool {
	if !b {
		return types.BoolNull()
	}
	return types.BoolValue(true)
}

func setOrNull(values []string) types.Set {
	if len(values) == 0 {
		return types.SetNull(types.StringType)
	}
	return stringSet(values)
}

// permissionsToModel is nil for no rules, the way an unset permissions attribute reads.
func permissionsToModel(p natsjwt.Permissions) *permissionsModel {
	if p.IsEmpty() {
		return nil
	}
	m := &permissionsModel{PubAllow: setOrNull(p.PubAllow), PubDeny: setOrNull(p.PubDeny), SubAllow: setOrNull(p.SubAllow), SubDeny: setOrNull(p.SubDeny)}
	if r := p.Response; r != nil {
		m.Response = &responseModel{MaxMsgs: types.Int64Null(), TTL: types.StringNull()}
		if r.MaxMsgs != 1 {
			m.Response.MaxMsgs = types.Int64Value(int64(r.MaxMsgs))
		}
		if r.Expires != 0 {
			m.Response.TTL = types.StringValue(r.Expires.String())
		}
	}
	return m
}

func limitsToModel(l natsjwt.UserLimits) userLimitsModel {
	n := func(v int64) types.Int64 {
		if v == 0 {
			return types.Int64Null()
		}
		return types.Int64Value(v)
	}
	return userLimitsModel{
		MaxSubscriptions: n(l.Subs), MaxData: n(l.Data), MaxPayload: n(l.Payload), Bearer: trueOrNull(l.Bearer),
		AllowedConnectionTypes: setOrNull(l.AllowedConnectionTypes), SourceNetworks: setOrNull(l.SourceNetworks),
	}
}

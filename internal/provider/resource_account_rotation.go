package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Rotation of an account's role keys (roles[*].key_rotation) and unscoped signing key
// (signing_key_rotation). Each rotating key has a successor prepared one apply ahead in the
// private state and listed in the account JWT (a role's with the role's template), so
// servers trust it before the callout or a natsping_user signs with it. The role's signer
// carries the rotation's period and grace, which is how a role mapping, downstream, refuses
// a max_session longer than the grace without a reference back to the account.

const (
	roleGraceDoc = "It must cover the longest `max_session` of the role mappings granting the role (they refuse a " +
		"longer one), so no user is cut off when the old key is dropped."
	signingKeyGraceDoc = "Users signed by the old key (`natsping_user` with `signer`) must get their re-signed creds " +
		"within it."
	accountSigningKeySlot = "signing_key"
)

func roleKeySlot(role string) string { return "role:" + role }

// roleKeyOverlap and signingKeyOverlap list the successor and previous keys the account JWT
// carries beside the current ones; unknown values (a plan before apply) are left out.
func (m accountResourceModel) roleKeyOverlap(ctx context.Context, role string, diags *diag.Diagnostics) []string {
	if m.RoleKeyRotations.IsNull() || m.RoleKeyRotations.IsUnknown() {
		return nil
	}
	return rotationStatusFrom(ctx, m.RoleKeyRotations.Elements()[role], diags).overlap()
}

func (m accountResourceModel) signingKeyOverlap(ctx context.Context, diags *diag.Diagnostics) []string {
	return rotationStatusFrom(ctx, m.SigningKeyRotationStatus, diags).overlap()
}

func (s *rotationStatusModel) overlap() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, k := range []types.String{s.NextKey, s.PreviousKey} {
		if !k.IsNull() && !k.IsUnknown() {
			out = append(out, k.ValueString())
		}
	}
	return out
}

// accountRolesByName decodes the configured roles; known is false while the list is unknown.
func accountRolesByName(ctx context.Context, roles types.List, diags *diag.Diagnostics) (map[string]accountRoleModel, bool) {
	if roles.IsUnknown() {
		return nil, false
	}
	out := map[string]accountRoleModel{}
	for _, e := range roles.Elements() {
		obj, ok := e.(types.Object)
		if !ok || obj.IsUnknown() {
			return nil, false
		}
		var r accountRoleModel
		diags.Append(obj.As(ctx, &r, basetypes.ObjectAsOptions{})...)
		if r.Name.IsUnknown() {
			return nil, false
		}
		out[r.Name.ValueString()] = r
	}
	return out, true
}

// rotationDueInState reports, for a plan that changes nothing in the configuration, whether
// time alone rotates a key or drops a previous one, so ModifyPlan does not take its shortcut.
func (r *accountResource) rotationDueInState(ctx context.Context, req resource.ModifyPlanRequest) bool {
	// Most accounts rotate nothing; the raw value answers that without decoding the state.
	var top map[string]tftypes.Value
	if req.State.Raw.IsNull() || req.State.Raw.As(&top) != nil ||
		(top["role_key_rotations"].IsNull() && top["signing_key_rotation_status"].IsNull()) {
		return false
	}
	var diags diag.Diagnostics
	var state accountResourceModel
	if req.State.Get(ctx, &state).HasError() {
		return false
	}
	roles := state.RoleKeyRotations
	now := r.data.now()
	due := func(policy types.Object, status attr.Value) bool {
		p := keyRotationFrom(ctx, policy, &diags)
		st := rotationStatusFrom(ctx, status, &diags)
		if p == nil || st == nil {
			return false
		}
		pol, _ := p.policy()
		created, err := time.Parse(time.RFC3339, st.CreatedAt.ValueString())
		return err == nil && natsjwt.DecideRotation(pol, natsjwt.KeySchedule{CreatedAt: created, HasPrevious: !st.PreviousKey.IsNull()}, false, now).Changes()
	}
	if due(state.SigningKeyRotation, state.SigningKeyRotationStatus) {
		return true
	}
	configured, _ := accountRolesByName(ctx, state.Roles, &diags)
	for name, st := range roles.Elements() {
		if due(configured[name].KeyRotation, st) {
			return true
		}
	}
	return false
}

// planKeyRotations sets the planned rotation statuses, role keys and signers and the
// account signing key, warning with every step; a rotation or drop re-signs the JWT. It
// returns rolePubs with the planned role keys, for validation.
func (r *accountResource) planKeyRotations(ctx context.Context, req resource.ModifyPlanRequest, plan, state *accountResourceModel,
	rolePubs map[string]string, diags *diag.Diagnostics) map[string]string {
	defer func() {
		for name, v := range plan.RoleKeys.Elements() {
			if k, ok := v.(types.String); ok && !k.IsUnknown() {
				rolePubs[name] = k.ValueString()
			} else {
				delete(rolePubs, name)
			}
		}
	}()
	prepared := loadPreparedKeys(ctx, req.Private, preparedAccountKeys, diags)
	owner := ""
	var priorRoles map[string]accountRoleModel
	var priorStatuses map[string]attr.Value
	if state != nil {
		owner = state.PublicKey.ValueString()
		priorRoles, _ = accountRolesByName(ctx, state.Roles, diags)
		priorStatuses = state.RoleKeyRotations.Elements()
	}
	account := plan.Name.ValueString()
	now := r.data.now()
	changed := false

	roles, known := accountRolesByName(ctx, plan.Roles, diags)
	if !known || plan.RoleKeys.IsUnknown() {
		plan.RoleKeyRotations = types.MapUnknown(rotationStatusType)
	} else {
		keys, signers := plan.RoleKeys.Elements(), plan.RoleSigners.Elements()
		statuses := map[string]attr.Value{}
		for i, name := range sortedRoleNames(roles) {
			role := roles[name]
			prior := rotationStatusFrom(ctx, priorStatuses[name], diags)
			if role.KeyRotation.IsNull() {
				if prior != nil {
					diags.AddAttributeWarning(path.Root("roles"), "Key rotation: role \""+name+"\" stops rotating",
						fmt.Sprintf("Without key_rotation the account JWT no longer lists the successor %s or a previous key "+
							"of role %q; nats-server closes the connections of users signed by a previous key that disappears.",
							prior.NextKey.ValueString(), name))
				}
				continue
			}
			cfg := keyRotationFrom(ctx, role.KeyRotation, diags)
			policy, policyKnown := keyRotationModel{}, false
			if cfg != nil {
				var p natsjwt.RotationPolicy
				p, policyKnown = cfg.policy()
				policy = *cfg
				if policyKnown {
					if err := p.Validate(); err != nil {
						diags.AddAttributeError(path.Root("roles").AtListIndex(roleIndex(plan.Roles, name, i)).AtName("key_rotation"),
							"Invalid key rotation", fmt.Sprintf("Role %q: %v", name, err))
						continue
					}
				}
			}
			if !policyKnown {
				statuses[name] = unknownRotationStatus().value(diags)
				keys[name], signers[name] = types.StringUnknown(), types.StringUnknown()
				changed = true
				continue
			}
			p, _ := policy.policy()
			var priorKeepers types.Map
			if pr, ok := priorRoles[name]; ok {
				if pk := keyRotationFrom(ctx, pr.KeyRotation, diags); pk != nil {
					priorKeepers = pk.Keepers
				}
			}
			current, _ := keys[name].(types.String)
			sp := planRotationSlot(rotationSlot{
				label: fmt.Sprintf("role %q of account %s", name, account), attr: path.Root("roles"),
				policy: p, keepers: policy.Keepers, priorKeepers: priorKeepers, prior: prior, currentPlanned: current,
				prepared: prepared.signer(roleKeySlot(name), owner, name, natsjwt.KindAccount, diags),
			}, now, diags)
			changed = changed || sp.changes
			statuses[name] = sp.status.value(diags)
			switch {
			case sp.rotateTo != nil:
				keys[name] = types.StringValue(sp.rotateTo.PublicKey)
				signers[name] = types.StringValue(encodeRoleSigner(sp.rotateTo, p))
			case sp.rotates:
				keys[name], signers[name] = types.StringUnknown(), types.StringUnknown()
			default:
				signers[name] = withSignerRotation(signers[name], p)
			}
		}
		plan.RoleKeys = types.MapValueMust(types.StringType, keys)
		plan.RoleSigners = types.MapValueMust(types.StringType, signers)
		plan.RoleKeyRotations = types.MapNull(rotationStatusType)
		if len(statuses) > 0 {
			plan.RoleKeyRotations = types.MapValueMust(rotationStatusType, statuses)
		}
	}

	plan.SigningKeyRotationStatus = types.ObjectNull(rotationStatusAttrTypes)
	if cfg := keyRotationFrom(ctx, plan.SigningKeyRotation, diags); cfg != nil || plan.SigningKeyRotation.IsUnknown() {
		p, policyKnown := natsjwt.RotationPolicy{}, false
		if cfg != nil {
			p, policyKnown = cfg.policy()
		}
		if policyKnown {
			if err := p.Validate(); err != nil {
				diags.AddAttributeError(path.Root("signing_key_rotation"), "Invalid key rotation", err.Error())
				return rolePubs
			}
		}
		if !policyKnown {
			plan.SigningKeyRotationStatus = types.ObjectUnknown(rotationStatusAttrTypes)
			plan.SigningKey, plan.Signer = types.StringUnknown(), types.StringUnknown()
			changed = true
		} else {
			var prior *rotationStatusModel
			var priorKeepers types.Map
			if state != nil {
				prior = rotationStatusFrom(ctx, state.SigningKeyRotationStatus, diags)
				if pk := keyRotationFrom(ctx, state.SigningKeyRotation, diags); pk != nil {
					priorKeepers = pk.Keepers
				}
			}
			sp := planRotationSlot(rotationSlot{
				label: "the signing key of account " + account, attr: path.Root("signing_key_rotation"),
				policy: p, keepers: cfg.Keepers, priorKeepers: priorKeepers, prior: prior, currentPlanned: plan.SigningKey,
				prepared: prepared.signer(accountSigningKeySlot, owner, "", natsjwt.KindAccount, diags),
				note: "natsping_user creds signed by the old key do not expire: hand out the re-signed creds before the " +
					"old key is dropped, when nats-server disconnects and refuses them.",
			}, now, diags)
			changed = changed || sp.changes
			plan.SigningKeyRotationStatus = sp.status.value(diags)
			switch {
			case sp.rotateTo != nil:
				plan.SigningKey = types.StringValue(sp.rotateTo.PublicKey)
				plan.Signer = types.StringValue(natsjwt.EncodeSigner(sp.rotateTo))
			case sp.rotates:
				plan.SigningKey, plan.Signer = types.StringUnknown(), types.StringUnknown()
			}
		}
	} else if state != nil && !state.SigningKeyRotationStatus.IsNull() {
		diags.AddAttributeWarning(path.Root("signing_key_rotation"), "Key rotation: the signing key of account "+account+" stops rotating",
			"Without signing_key_rotation the account JWT no longer lists the successor or a previous signing key; users "+
				"signed by a previous key are refused from now on.")
	}
	if changed {
		plan.JWT = types.StringUnknown()
	}
	return rolePubs
}

func sortedRoleNames(roles map[string]accountRoleModel) []string {
	names := make([]string, 0, len(roles))
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// roleIndex is the position of role name in the configured list, for error paths.
func roleIndex(roles types.List, name string, fallback int) int {
	for i, e := range roles.Elements() {
		if obj, ok := e.(types.Object); ok {
			if n, ok := obj.Attributes()["name"].(types.String); ok && n.ValueString() == name {
				return i
			}
		}
	}
	return fallback
}

func encodeRoleSigner(s *natsjwt.Signer, p natsjwt.RotationPolicy) string {
	c := *s
	c.Rotation = &natsjwt.SignerRotation{Period: p.Period, Grace: p.Grace}
	return natsjwt.EncodeSigner(&c)
}

// withSignerRotation re-encodes a known role signer with the role's rotation.
func withSignerRotation(v attr.Value, p natsjwt.RotationPolicy) attr.Value {
	str, ok := v.(types.String)
	if !ok || str.IsUnknown() || str.IsNull() {
		return v
	}
	s, err := natsjwt.ParseSigner(str.ValueString(), natsjwt.KindAccount)
	if err != nil {
		return v
	}
	return types.StringValue(encodeRoleSigner(s, p))
}

// applyKeyRotations runs before sign at create and update: it makes the planned successors
// the signing keys, generates the next successors, and fills the statuses (all but the keys
// of new roles, which finishKeyRotations sets once sign has made them).
func (r *accountResource) applyKeyRotations(ctx context.Context, in, out privateData, m *accountResourceModel,
	existing map[string]natsjwt.RoleKey, signing *natsjwt.Signer, pub string, diags *diag.Diagnostics) *natsjwt.Signer {
	prepared := preparedKeys{}
	if in != nil {
		prepared = loadPreparedKeys(ctx, in, preparedAccountKeys, diags)
	}
	now := r.data.now().UTC().Truncate(time.Second)
	roles, _ := accountRolesByName(ctx, m.Roles, diags)
	kept := preparedKeys{}
	statuses := map[string]attr.Value{}
	for name, st := range m.RoleKeyRotations.Elements() {
		status := rotationStatusFrom(ctx, st, diags)
		cfg := keyRotationFrom(ctx, roles[name].KeyRotation, diags)
		if status == nil || cfg == nil {
			continue
		}
		p, _ := cfg.policy()
		planned, _ := m.RoleSigners.Elements()[name].(types.String)
		switch s, err := natsjwt.ParseSigner(planned.ValueString(), natsjwt.KindAccount); {
		case planned.IsUnknown():
			delete(existing, name) // rotating to a key generated now
		case err == nil:
			existing[name] = natsjwt.RoleKey{PublicKey: s.PublicKey, Seed: s.Seed}
		}
		slot := roleKeySlot(name)
		if seed, ok := prepared[slot]; ok && !status.NextKey.IsUnknown() {
			kept[slot] = seed
		}
		filled, err := applyRotationStatus(*status, p, slot, kept, natsjwt.KindAccount, now)
		if err != nil {
			diags.AddError("Cannot generate the next key of role "+name, err.Error())
			return signing
		}
		statuses[name] = filled.value(diags)
	}
	if len(statuses) > 0 {
		m.RoleKeyRotations = types.MapValueMust(rotationStatusType, statuses)
	}
	if status := rotationStatusFrom(ctx, m.SigningKeyRotationStatus, diags); status != nil {
		cfg := keyRotationFrom(ctx, m.SigningKeyRotation, diags)
		p, _ := cfg.policy()
		switch planned, err := natsjwt.ParseSigner(m.Signer.ValueString(), natsjwt.KindAccount); {
		case m.Signer.IsUnknown():
			fresh, err := newAccountSigningKey(pub)
			if err != nil {
				diags.AddError("Cannot create the account signing key", err.Error())
				return signing
			}
			signing = fresh
		case err == nil && signing != nil && planned.PublicKey != signing.PublicKey:
			planned.Owner = pub
			signing = planned
		}
		if seed, ok := prepared[accountSigningKeySlot]; ok && !status.NextKey.IsUnknown() {
			kept[accountSigningKeySlot] = seed
		}
		filled, err := applyRotationStatus(*status, p, accountSigningKeySlot, kept, natsjwt.KindAccount, now)
		if err != nil {
			diags.AddError("Cannot generate the next account signing key", err.Error())
			return signing
		}
		m.SigningKeyRotationStatus = filled.value(diags)
	}
	storePrivateJSON(ctx, out, preparedAccountKeys, kept, diags)
	return signing
}

// finishKeyRotations runs after sign: the statuses name the keys sign kept or made, and the
// signers of rotating roles carry their rotation.
func finishKeyRotations(ctx context.Context, m *accountResourceModel, diags *diag.Diagnostics) {
	if !m.RoleKeyRotations.IsNull() {
		roles, _ := accountRolesByName(ctx, m.Roles, diags)
		statuses := m.RoleKeyRotations.Elements()
		signers := m.RoleSigners.Elements()
		for name, st := range statuses {
			status := rotationStatusFrom(ctx, st, diags)
			status.Key, _ = m.RoleKeys.Elements()[name].(types.String)
			statuses[name] = status.value(diags)
			if cfg := keyRotationFrom(ctx, roles[name].KeyRotation, diags); cfg != nil {
				p, _ := cfg.policy()
				signers[name] = withSignerRotation(signers[name], p)
			}
		}
		m.RoleKeyRotations = types.MapValueMust(rotationStatusType, statuses)
		m.RoleSigners = types.MapValueMust(types.StringType, signers)
	}
	if status := rotationStatusFrom(ctx, m.SigningKeyRotationStatus, diags); status != nil {
		status.Key = m.SigningKey
		m.SigningKeyRotationStatus = status.value(diags)
	}
}

package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Rotation of the trust's own keys, like the account's (key_rotation.go):
//
//   - signing_key_rotation: the callout account's signing key, which signs the callout user
//     and the sentinel. Its successor is listed in the callout account JWT one apply ahead; at
//     the rotation both users are re-signed with it and the old key stays listed for the
//     grace, so the old creds and the old default_sentinel keep working until the callout is
//     restarted and the servers reloaded with the new ones.
//   - xkey_rotation: the xkey the servers seal requests to. The callout document holds the
//     successor one apply ahead (nats.xkey_seeds) and the previous key through the grace, and
//     the callout opens a request with whichever key it was sealed to, so the switch of the
//     account JWT's authorization.xkey never breaks a connect, whichever is deployed first.

const (
	trustSigningGraceDoc = "The old callout user creds and sentinel stay valid for that long: restart the callout " +
		"with the new `callout_config` and reload the servers with the new `default_sentinel` within it."
	trustXKeyGraceDoc = "The callout keeps opening requests sealed to the old xkey for that long: deploy the new " +
		"callout account JWT to every server within it."
	trustSigningSlot  = "signing_key"
	trustXKeySlot     = "xkey"
	trustPrevXKeySlot = "xkey_previous"
)

// trustRotation is what a plan or apply decided, for the rest of the trust's code.
type trustRotation struct {
	// extraXKeySeeds go into the callout document's nats.xkey_seeds.
	extraXKeySeeds []string
	// pending is true while a value the callout config needs is only known at apply.
	pending bool
	// changed re-signs the callout account JWT.
	changed bool
}

func (m *trustModel) signingOverlap(ctx context.Context, diags *diag.Diagnostics) []string {
	return rotationStatusFrom(ctx, m.SigningKeyRotationStatus, diags).overlap()
}

// planTrustRotations plans both rotations and warns with every step.
func (r *trustResource) planTrustRotations(ctx context.Context, req resource.ModifyPlanRequest, plan, state *trustModel, diags *diag.Diagnostics) {
	prepared := loadPreparedKeys(ctx, req.Private, preparedAccountKeys, diags)
	now := r.data.now()
	owner := ""
	if state != nil {
		owner = state.AccountPublicKey.ValueString()
	}
	slot := func(label string, at path.Path, cfg, priorCfg types.Object, prior types.Object, current types.String, prep string,
		kind natsjwt.KeyKind, note string) (slotPlan, bool) {
		keyOwner := owner
		if kind == natsjwt.KindCurve {
			keyOwner = "" // an xkey signs nothing and has no owner
		}
		c := keyRotationFrom(ctx, cfg, diags)
		if c == nil {
			if state != nil && !prior.IsNull() {
				diags.AddAttributeWarning(at, "Key rotation: "+label+" stops rotating",
					"Its successor and any previous key are no longer kept; whatever the previous key still serves stops working now.")
			}
			return slotPlan{}, cfg.IsUnknown()
		}
		p, known := c.policy()
		if !known {
			return slotPlan{}, true
		}
		if err := p.Validate(); err != nil {
			diags.AddAttributeError(at, "Invalid key rotation", err.Error())
			return slotPlan{}, false
		}
		var priorKeepers types.Map
		if pc := keyRotationFrom(ctx, priorCfg, diags); pc != nil {
			priorKeepers = pc.Keepers
		}
		var ps *rotationStatusModel
		if state != nil {
			ps = rotationStatusFrom(ctx, prior, diags)
		}
		sp := planRotationSlot(rotationSlot{label: label, attr: at, policy: p, keepers: c.Keepers, priorKeepers: priorKeepers,
			prior: ps, currentPlanned: current, prepared: prepared.signer(prep, keyOwner, "", kind, diags), note: note,
			xkey: kind == natsjwt.KindCurve}, now, diags)
		return sp, false
	}
	var priorSigning, priorSigningStatus, priorXKey, priorXKeyStatus types.Object
	if state != nil {
		priorSigning, priorSigningStatus = state.SigningKeyRotation, state.SigningKeyRotationStatus
		priorXKey, priorXKeyStatus = state.XKeyRotation, state.XKeyRotationStatus
	}
	name := plan.Name.ValueString()

	plan.SigningKeyRotationStatus = types.ObjectNull(rotationStatusAttrTypes)
	sp, unknown := slot("the signing key of callout account "+name, path.Root("signing_key_rotation"), plan.SigningKeyRotation,
		priorSigning, priorSigningStatus, plan.AccountSigningKey, trustSigningSlot, natsjwt.KindAccount,
		"The callout user and the sentinel are re-signed: restart the callout with the new callout_config (a reload "+
			"refuses new creds) and reload the servers with the new default_sentinel before the old key is dropped, "+
			"when nats-server disconnects and refuses the old ones.")
	switch {
	case unknown:
		plan.SigningKeyRotationStatus = types.ObjectUnknown(rotationStatusAttrTypes)
		plan.AccountSigningKey, plan.CalloutUserCreds, plan.SentinelJWT = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		plan.rotation.pending, plan.rotation.changed = true, true
	case !plan.SigningKeyRotation.IsNull():
		plan.SigningKeyRotationStatus = sp.status.value(diags)
		plan.rotation.changed = plan.rotation.changed || sp.changes || state == nil || state.SigningKeyRotationStatus.IsNull()
		if sp.rotates {
			plan.AccountSigningKey, plan.CalloutUserCreds, plan.SentinelJWT = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
			if sp.rotateTo != nil {
				plan.AccountSigningKey = types.StringValue(sp.rotateTo.PublicKey)
			}
			plan.rotation.pending = true
		}
	}

	plan.XKeyRotationStatus = types.ObjectNull(rotationStatusAttrTypes)
	if !plan.XKeyRotation.IsNull() && !plan.XKey.IsUnknown() && !plan.XKey.ValueBool() {
		diags.AddAttributeError(path.Root("xkey_rotation"), "xkey_rotation without xkey",
			"xkey_rotation rotates the callout's xkey, but xkey = false seals nothing. Remove xkey_rotation or set xkey = true.")
		return
	}
	xp, unknown := slot("the xkey of callout account "+name, path.Root("xkey_rotation"), plan.XKeyRotation,
		priorXKey, priorXKeyStatus, plan.XKeyPublicKey, trustXKeySlot, natsjwt.KindCurve,
		"Deploy the new account_jwt to every server before the previous xkey leaves callout_config.")
	switch {
	case unknown:
		plan.XKeyRotationStatus = types.ObjectUnknown(rotationStatusAttrTypes)
		plan.XKeyPublicKey, plan.XKeySeed = types.StringUnknown(), types.StringUnknown()
		plan.rotation.pending, plan.rotation.changed = true, true
	case !plan.XKeyRotation.IsNull():
		plan.XKeyRotationStatus = xp.status.value(diags)
		plan.rotation.changed = plan.rotation.changed || xp.rotates
		switch {
		case xp.rotates || state == nil || state.XKeyRotationStatus.IsNull():
			plan.rotation.pending = true // the new successor is generated at apply
			plan.XKeyPublicKey, plan.XKeySeed = types.StringUnknown(), types.StringUnknown()
			if xp.rotateTo != nil {
				plan.XKeyPublicKey, plan.XKeySeed = types.StringValue(xp.rotateTo.PublicKey), types.StringValue(xp.rotateTo.Seed)
			}
			if !xp.rotates {
				plan.XKeyPublicKey, plan.XKeySeed = stateOr(state, func(s *trustModel) types.String { return s.XKeyPublicKey }, plan.XKeyPublicKey),
					stateOr(state, func(s *trustModel) types.String { return s.XKeySeed }, plan.XKeySeed)
			}
		default:
			plan.rotation.extraXKeySeeds = xkeyExtras(prepared, xp.status)
		}
	}
}

func stateOr(state *trustModel, get func(*trustModel) types.String, fallback types.String) types.String {
	if state == nil {
		return fallback
	}
	return get(state)
}

// xkeyExtras are the successor's seed and, while it is listed, the previous key's.
func xkeyExtras(prepared preparedKeys, st rotationStatusModel) []string {
	var out []string
	if seed := prepared[trustXKeySlot]; seed != "" {
		out = append(out, seed)
	}
	if seed := prepared[trustPrevXKeySlot]; seed != "" && !st.PreviousKey.IsNull() {
		out = append(out, seed)
	}
	return out
}

// applyTrustRotations runs at create and update before signing: it carries out the planned
// rotations (re-signing the callout user and the sentinel with a new signing key), generates
// the next successors and fills the statuses.
func (r *trustResource) applyTrustRotations(ctx context.Context, in, out privateData, planned tfsdk.Plan, m *trustModel, diags *diag.Diagnostics) {
	var p trustModel
	if diags.Append(planned.Get(ctx, &p)...); diags.HasError() {
		return
	}
	prepared := preparedKeys{}
	if in != nil {
		prepared = loadPreparedKeys(ctx, in, preparedAccountKeys, diags)
	}
	now := r.data.now().UTC().Truncate(time.Second)
	kept := preparedKeys{}
	m.SigningKeyRotationStatus, m.XKeyRotationStatus = p.SigningKeyRotationStatus, p.XKeyRotationStatus

	if st := rotationStatusFrom(ctx, p.SigningKeyRotationStatus, diags); st != nil || p.SigningKeyRotationStatus.IsUnknown() {
		cfg := keyRotationFrom(ctx, p.SigningKeyRotation, diags)
		policy, _ := cfg.policy()
		if st == nil {
			u := unknownRotationStatus()
			st = &u
		}
		if in != nil && (p.AccountSigningKey.IsUnknown() || p.AccountSigningKey.ValueString() != m.AccountSigningKey.ValueString()) {
			next := prepared.signer(trustSigningSlot, m.AccountPublicKey.ValueString(), "", natsjwt.KindAccount, diags)
			if next == nil || (!p.AccountSigningKey.IsUnknown() && next.PublicKey != p.AccountSigningKey.ValueString()) {
				fresh, err := newAccountSigningKey(m.AccountPublicKey.ValueString())
				if err != nil {
					diags.AddError("Cannot create the callout account signing key", err.Error())
					return
				}
				next = fresh
			}
			if err := resignCalloutUsers(m, next); err != nil {
				diags.AddError("Cannot re-sign the callout users with the new signing key", err.Error())
				return
			}
		}
		if seed, ok := prepared[trustSigningSlot]; ok && !st.NextKey.IsUnknown() {
			kept[trustSigningSlot] = seed
		}
		filled, err := applyRotationStatus(*st, policy, trustSigningSlot, kept, natsjwt.KindAccount, now)
		if err != nil {
			diags.AddError("Cannot generate the next callout account signing key", err.Error())
			return
		}
		filled.Key = m.AccountSigningKey
		m.SigningKeyRotationStatus = filled.value(diags)
	}

	if st := rotationStatusFrom(ctx, p.XKeyRotationStatus, diags); st != nil || p.XKeyRotationStatus.IsUnknown() {
		cfg := keyRotationFrom(ctx, p.XKeyRotation, diags)
		policy, _ := cfg.policy()
		if st == nil {
			u := unknownRotationStatus()
			st = &u
		}
		keepOld := func() {
			if !st.PreviousKey.IsNull() {
				kept[trustPrevXKeySlot] = m.XKeySeed.ValueString()
			}
		}
		switch {
		case in == nil:
			// Create: the xkey generated with the trust is the current one.
		case p.XKeySeed.IsUnknown():
			// Rotating to a key made now (no successor was prepared).
			keepOld()
			pub, seed, err := natsjwt.NewKey(natsjwt.KindCurve)
			if err != nil {
				diags.AddError("Cannot generate the new xkey", err.Error())
				return
			}
			m.XKeyPublicKey, m.XKeySeed = types.StringValue(pub), types.StringValue(seed)
		case p.XKeySeed.ValueString() != m.XKeySeed.ValueString():
			// Rotating to the prepared successor, which the callout already holds.
			keepOld()
			m.XKeyPublicKey, m.XKeySeed = p.XKeyPublicKey, p.XKeySeed
		default:
			if seed, ok := prepared[trustPrevXKeySlot]; ok && !st.PreviousKey.IsNull() {
				kept[trustPrevXKeySlot] = seed
			}
		}
		if seed, ok := prepared[trustXKeySlot]; ok && !st.NextKey.IsUnknown() {
			kept[trustXKeySlot] = seed
		}
		filled, err := applyRotationStatus(*st, policy, trustXKeySlot, kept, natsjwt.KindCurve, now)
		if err != nil {
			diags.AddError("Cannot generate the next xkey", err.Error())
			return
		}
		filled.Key = m.XKeyPublicKey
		m.XKeyRotationStatus = filled.value(diags)
		m.rotation.extraXKeySeeds = xkeyExtras(kept, filled)
	}
	storePrivateJSON(ctx, out, preparedAccountKeys, kept, diags)
}

// resignCalloutUsers signs the callout service user and the sentinel with a new signing key;
// their own keys stay.
func resignCalloutUsers(m *trustModel, sk *natsjwt.Signer) error {
	kp, err := jwt.ParseDecoratedUserNKey([]byte(m.CalloutUserCreds.ValueString()))
	if err != nil {
		return fmt.Errorf("the callout user creds in the state are unusable: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return err
	}
	account := m.AccountPublicKey.ValueString()
	userJWT, err := natsjwt.BuildCalloutServiceUserJWT(account, sk, m.CalloutUserPublicKey.ValueString())
	if err != nil {
		return err
	}
	creds, err := natsjwt.FormatCreds(userJWT, string(seed))
	if err != nil {
		return err
	}
	sentinel, err := natsjwt.BuildSentinelJWT(account, sk, m.SentinelPublicKey.ValueString())
	if err != nil {
		return err
	}
	m.AccountSigningKey = types.StringValue(sk.PublicKey)
	m.CalloutUserCreds, m.SentinelJWT = types.StringValue(creds), types.StringValue(sentinel)
	return nil
}

package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

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
	adopting := imported || nscImportPending(ctx, req.Private) // keepers set at import are recorded, not a rotation
	keepersUnknown := !adopting && !valueFullyKnown(ctx, plan.SigningKeyRotation)
	rotate := !adopting && (keepersUnknown || !keepersEqual(plan.SigningKeyRotation, state.SigningKeyRotation))
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
	planSystemJWTs(ctx, req, &plan, state, &resp.Diagnostics)
	warnOperatorLiveImpact(ctx, &plan, state, &resp.Diagnostics)
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

func keepersEqual(a, b types.Map) bool {
	if len(a.Elements()) == 0 && len(b.Elements()) == 0 {
		return true // null and {} both mean "no keepers"
	}
	return a.Equal(b)
}

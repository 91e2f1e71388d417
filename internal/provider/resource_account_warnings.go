package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/liveimpact"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// warnAccountLiveImpact adds a plan warning for every consequence the re-signed account JWT
// has for running servers (internal/liveimpact): it has to be delivered (reload or push), and
// some changes close live connections when it arrives. spec is the planned account as
// toSpec built it; parts listed in unknown are known only at apply and keep their old values
// here, so the final plan at apply warns about them.
func warnAccountLiveImpact(plan, state *accountResourceModel, spec natsjwt.AccountSpec, unknown map[string]bool, diags *diag.Diagnostics) {
	if state == nil || state.JWT.IsNull() || state.JWT.IsUnknown() || state.PublicKey.ValueString() == "" {
		return
	}
	old, err := jwt.DecodeAccountClaims(state.JWT.ValueString())
	if err != nil {
		return
	}
	signing := state.SigningKey
	if !plan.SigningKey.IsUnknown() && !plan.SigningKey.IsNull() {
		signing = plan.SigningKey
	}
	spec.SigningKeys = append(spec.SigningKeys, signing.ValueString())
	planned := spec.PlannedClaims(state.PublicKey.ValueString())
	planned.Issuer = old.Issuer
	if !plan.Issuer.IsUnknown() {
		planned.Issuer = plan.Issuer.ValueString()
	}
	keepUnknownParts(old, planned, unknown)
	if len(unknown) > 0 || plan.Issuer.IsUnknown() {
		addFindings(diags, liveimpact.AccountPartlyKnown(old, planned))
		return
	}
	addFindings(diags, liveimpact.Account(old, planned))
}

// keepUnknownParts copies into planned the old values of the parts that disconnect users when
// they change, for the inputs known only at apply.
func keepUnknownParts(old, planned *jwt.AccountClaims, unknown map[string]bool) {
	scoped := func(s jwt.Scope) bool { _, ok := s.(*jwt.UserScope); return ok }
	replace := func(want func(jwt.Scope) bool) {
		for k, s := range planned.SigningKeys {
			if want(s) {
				delete(planned.SigningKeys, k)
			}
		}
		for k, s := range old.SigningKeys {
			if want(s) {
				planned.SigningKeys[k] = s
			}
		}
	}
	if unknown["roles"] {
		replace(scoped)
	}
	if unknown["signing_keys"] {
		replace(func(s jwt.Scope) bool { return !scoped(s) })
	}
	if unknown["limits"] {
		planned.Limits.AccountLimits = old.Limits.AccountLimits
		planned.Limits.NatsLimits = old.Limits.NatsLimits
	}
}

// warnAccountDestroyed says what destroying the account does once servers drop it: the
// resource itself deletes nothing, but the account leaves the rendered config and, with
// deletion turned on, natsping_resolver_push deletes it.
func warnAccountDestroyed(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var token types.String
	if req.State.Raw.IsNull() || req.State.GetAttribute(ctx, path.Root("jwt"), &token).HasError() || token.IsNull() || token.IsUnknown() {
		return
	}
	old, err := jwt.DecodeAccountClaims(token.ValueString())
	if err != nil {
		return
	}
	addFindings(&resp.Diagnostics, liveimpact.AccountRemoved(old))
}

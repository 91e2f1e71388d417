package provider

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// ValidateConfig runs the checks that need nothing but the configuration, so `validate`
// already reports them; ModifyPlan repeats them with the clock and the account's key.
func (r *accountResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m accountResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, unknown, diags := m.toSpec(ctx, nil)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	addAccountValidationErrors(&resp.Diagnostics, spec.Validate(natsjwt.ValidateOptions{}), unknown, nil)
	checkAccountOperatorSigner(m.OperatorSigner, m.OperatorJWT, &resp.Diagnostics)
}

// ModifyPlan fills in what the plan can know before apply: the issuer from the configured
// signer (so a change of signer shows as issuer "O…" -> "O…"), and the keys of roles that
// already exist (only new roles are unknown). It also validates with the provider's clock and,
// for an existing account, its public key (activation tokens must name it), and checks the
// signer against operator_jwt.
func (r *accountResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		warnAccountDestroyed(ctx, req, resp)
		return
	}
	rotationDue := r.rotationDueInState(ctx, req)
	if !req.State.Raw.IsNull() && req.Plan.Raw.Equal(req.State.Raw) && !rotationDue {
		// Nothing changed: this configuration was validated when it was applied and the JWT in
		// state is what it signed. Decoding and re-validating every account on every plan would
		// dominate a large no-change plan; only time can have made the account stale.
		r.warnIfExpired(ctx, req, resp)
		return
	}
	plan, state := planAndPriorState[accountResourceModel](ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	checkAccountOperatorSigner(plan.OperatorSigner, plan.OperatorJWT, &resp.Diagnostics)
	checkImportedOperator(ctx, req, plan.OperatorSigner, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if state != nil && !rotationDue && (onlyOperatorJWTChanged(req) || keepIfOnlySignerForm(req, &plan, state)) {
		// Nothing that goes into the account JWT changed: keep every computed value, so the
		// plan shows operator_jwt (or the same signing key in another form) alone and Update
		// re-signs nothing.
		kept := *state
		kept.OperatorJWT, kept.OperatorSigner = plan.OperatorJWT, plan.OperatorSigner
		resp.Diagnostics.Append(resp.Plan.Set(ctx, kept)...)
		return
	}

	switch {
	case plan.OperatorSigner.IsUnknown():
		plan.Issuer = types.StringUnknown()
	default:
		signer, err := natsjwt.ParseSigner(plan.OperatorSigner.ValueString(), natsjwt.KindOperator)
		if err != nil {
			// validSigner already reported it with the attribute path.
			return
		}
		plan.Issuer = types.StringValue(signer.PublicKey)
	}

	existing := map[string]natsjwt.RoleKey{}
	accountPub := ""
	if state != nil {
		accountPub = state.PublicKey.ValueString()
		var diags diag.Diagnostics
		existing, diags = accountRoleKeys(ctx, state.RoleSigners, accountPub)
		resp.Diagnostics.Append(diags...)
	}
	rolePubs := make(map[string]string, len(existing))
	for name, k := range existing {
		rolePubs[name] = k.PublicKey
	}
	if names, known := accountRoleNames(plan.Roles); known {
		pubs := make(map[string]attr.Value, len(names))
		signers := make(map[string]attr.Value, len(names))
		kept := make(map[string]natsjwt.RoleKey, len(names))
		for _, name := range names {
			if k, ok := existing[name]; ok {
				kept[name] = k
				continue
			}
			pubs[name] = types.StringUnknown()
			signers[name] = types.StringUnknown()
		}
		keptPubs, keptSigners := accountRoleMaps(accountPub, kept, &resp.Diagnostics)
		for name, v := range keptPubs.Elements() {
			pubs[name] = v
		}
		for name, v := range keptSigners.Elements() {
			signers[name] = v
		}
		plan.RoleKeys = types.MapValueMust(types.StringType, pubs)
		plan.RoleSigners = types.MapValueMust(types.StringType, signers)
	} else {
		plan.RoleKeys = types.MapUnknown(types.StringType)
		plan.RoleSigners = types.MapUnknown(types.StringType)
	}

	rolePubs = r.planKeyRotations(ctx, req, &plan, state, rolePubs, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, unknown, diags := plan.toSpec(ctx, rolePubs)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	var now time.Time
	if r.data != nil && r.data.Now != nil {
		now = r.data.Now()
	}
	// Time passing must not block unrelated changes: an expiry that was fine when applied and
	// is unchanged since is a warning, a new or changed one an error.
	unchanged := func(fe *natsjwt.FieldError) bool {
		if state == nil || !errors.Is(fe, natsjwt.ErrExpired) {
			return false
		}
		switch accountTopField(fe.Path) {
		case "expires_at":
			return state.ExpiresAt.Equal(plan.ExpiresAt)
		case "imports":
			return state.Imports.Equal(plan.Imports)
		}
		return false
	}
	addAccountValidationErrors(&resp.Diagnostics, spec.Validate(natsjwt.ValidateOptions{AccountPublicKey: accountPub, Now: now}), unknown, unchanged)
	if resp.Diagnostics.HasError() {
		return
	}
	warnAccountLiveImpact(&plan, state, spec, unknown, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// accountRoleNames lists the configured role names; known is false while any is unknown.
func accountRoleNames(roles types.List) (names []string, known bool) {
	if roles.IsUnknown() {
		return nil, false
	}
	for _, e := range roles.Elements() {
		obj, ok := e.(types.Object)
		if !ok || obj.IsUnknown() {
			return nil, false
		}
		name, ok := obj.Attributes()["name"].(types.String)
		if !ok || name.IsUnknown() {
			return nil, false
		}
		names = append(names, name.ValueString())
	}
	return names, true
}

// warnIfExpired reports an applied account expiry that has passed since, without blocking.
func (r *accountResource) warnIfExpired(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var expires timetypes.RFC3339
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("expires_at"), &expires)...)
	if expires.IsNull() || expires.IsUnknown() || r.data == nil || r.data.Now == nil {
		return
	}
	at, diags := expires.ValueRFC3339Time()
	resp.Diagnostics.Append(diags...)
	if !diags.HasError() && !at.After(r.data.Now()) {
		resp.Diagnostics.AddAttributeWarning(path.Root("expires_at"), "Account JWT has expired",
			"The account JWT expired at "+at.UTC().Format(time.RFC3339)+"; servers refuse its users. "+
				"Set a later expires_at (or remove it) to re-sign the account.")
	}
}

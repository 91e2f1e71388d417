package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// planSigning fills the signer-derived values and reports contradictions at plan time; it
// returns the parsed signer when the signer is known.
func (in *userInputsModel) planSigning(ctx context.Context, out *userSigningModel, diags *diag.Diagnostics) *natsjwt.Signer {
	if in.Signer.IsUnknown() || in.Account.IsUnknown() {
		out.Issuer, out.IssuerAccount, out.Role = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		if in.Account.IsNull() || in.Signer.IsUnknown() {
			in.Account = types.StringUnknown()
		}
		return nil
	}
	signer, err := natsjwt.ParseSigner(in.Signer.ValueString(), natsjwt.KindAccount)
	if err != nil {
		diags.AddAttributeError(path.Root("signer"), "Invalid signer", err.Error())
		return nil
	}
	signing, err := natsjwt.ResolveUserSigning(signer, in.Account.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("account"), "Signer and account disagree", err.Error())
		return nil
	}
	in.Account = types.StringValue(signing.Account)
	out.Issuer = types.StringValue(signing.Issuer)
	out.IssuerAccount, out.Role = stringOrNull(signing.IssuerAccount), stringOrNull(signing.Role)
	if spec, ok := in.knownSpec(ctx); ok {
		if err := spec.ValidateScope(signing.Role); err != nil {
			p := path.Root("permissions")
			if spec.Permissions.IsEmpty() {
				p = path.Root("max_subscriptions") // limits are top-level attributes
			}
			diags.AddAttributeError(p, "Role template applies", err.Error())
		}
		if err := spec.Limits.Validate(); err != nil {
			diags.AddAttributeError(path.Root("source_networks"), "Invalid limits", err.Error())
		}
	}
	return signer
}

// knownSpec converts the inputs when all of them are known (plan-time checks skip otherwise).
func (in *userInputsModel) knownSpec(ctx context.Context) (natsjwt.UserSpec, bool) {
	spec, diags := in.spec(ctx)
	return spec, !diags.HasError()
}

func (r *userResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		warnUserDestroyKeepsAccess(ctx, req, resp, r.now()) // destroy: nothing to plan, but say what it leaves
		return
	}
	var plan userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	prior := timetypes.NewRFC3339Null()
	if !req.State.Raw.IsNull() {
		var state userModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		prior = state.ExpiresAt
	}
	// The configured account, not the computed one, is what the signer must agree with.
	var configAccount types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("account"), &configAccount)...)
	plan.Account = configAccount
	checkExpiresAt(plan.ExpiresAt, prior, r.now(), path.Root("expires_at"), &resp.Diagnostics)
	plan.planSigning(ctx, &plan.userSigningModel, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !req.State.Raw.IsNull() {
		keepUserJWTIfOnlySignerForm(ctx, req, &plan)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

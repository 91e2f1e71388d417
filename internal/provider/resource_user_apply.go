package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

func (r *userResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pub, seed, err := natsjwt.NewKey(natsjwt.KindUser)
	if err != nil {
		resp.Diagnostics.AddError("Cannot generate the user key", err.Error())
		return
	}
	m.PublicKey, m.Seed, m.ID = types.StringValue(pub), types.StringValue(seed), types.StringValue(pub)
	m.sign(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Read returns the state as it is: the JWT derives from the configuration and the kept key
// alone, and there is no remote object to compare with. It never re-signs.
func (r *userResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *userResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.JWT.IsUnknown() {
		// ModifyPlan kept the JWT: only the form of the same signer changed.
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
		return
	}
	m.sign(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete has nothing to do: the user exists only as a JWT. To lock a user out before its
// JWT expires, revoke it in the account.
func (r *userResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// sign resolves the signer (every value is known at apply) and signs the JWT and creds.
func (m *userModel) sign(ctx context.Context, diags *diag.Diagnostics) {
	signer := m.planSigning(ctx, &m.userSigningModel, diags)
	if diags.HasError() {
		return
	}
	if signer == nil {
		diags.AddError("Signer unknown at apply", "The signer is still unknown while applying. This is always a bug in the provider.")
		return
	}
	spec, d := m.spec(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	spec.PublicKey = m.PublicKey.ValueString()
	token, err := natsjwt.BuildUserJWT(spec, signer)
	if err != nil {
		diags.AddError("Cannot sign the user JWT", err.Error())
		return
	}
	creds, err := natsjwt.FormatCreds(token, m.Seed.ValueString())
	if err != nil {
		diags.AddError("Cannot format the creds", err.Error())
		return
	}
	m.JWT, m.Creds = types.StringValue(token), types.StringValue(creds)
}

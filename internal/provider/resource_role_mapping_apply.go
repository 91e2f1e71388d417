package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

func (r *roleMappingResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.compute(ctx, &plan, nil, false, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read makes no network calls and returns the state unchanged. Group drift is computed in
// ModifyPlan so that it shows up as a planned change with a warning; refreshing it here would
// silently rewrite the state and leave the plan with nothing to show.
func (r *roleMappingResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *roleMappingResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state roleMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.compute(ctx, &plan, &state, false, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete has nothing to remove: the mapping exists only in this state and in the trust's config.
func (r *roleMappingResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

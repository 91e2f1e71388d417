package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// providerDataFrom unpacks what Configure handed over. It returns nil without error while
// the provider is not yet configured (Terraform validates some configs before Configure).
func providerDataFrom(raw any, diags *diag.Diagnostics) *ProviderData {
	if raw == nil {
		return nil
	}
	data, ok := raw.(*ProviderData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *provider.ProviderData, got %T. This is always a bug in the provider.", raw))
		return nil
	}
	return data
}

// planAndPriorState decodes a ModifyPlan request's plan and, for a resource that already
// exists, its prior state (nil on create).
func planAndPriorState[M any](ctx context.Context, req resource.ModifyPlanRequest, diags *diag.Diagnostics) (plan M, state *M) {
	diags.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		state = new(M)
		diags.Append(req.State.Get(ctx, state)...)
	}
	return plan, state
}

// now is the provider's clock, or the wall clock while the provider is not configured yet.
func (d *ProviderData) now() time.Time {
	if d != nil && d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

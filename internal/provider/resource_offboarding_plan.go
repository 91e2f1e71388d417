package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
)

// ValidateConfig requires something to offboard.
func (r *offboardingResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m offboardingModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, s := range []types.Set{m.Subjects, m.ClientIDs, m.Mappings, m.Roles} {
		if !s.IsNull() {
			return
		}
	}
	resp.Diagnostics.AddAttributeError(path.Root("subjects"), "Nothing to offboard",
		"Give at least one of subjects, client_ids, mappings or roles.")
}

// ModifyPlan keeps the computed cutoff while the entries stay the same and takes a new one
// (the apply's time) when they change, checks the cutoff bound, and checks mappings and roles
// against the trust's callout config, so an unknown name fails the plan.
func (r *offboardingResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, config offboardingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *offboardingModel
	if !req.State.Raw.IsNull() {
		state = &offboardingModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if config.Cutoff.IsNull() {
		if state != nil && entriesEqual(&plan, state) {
			plan.Cutoff = state.Cutoff
		} else {
			plan.Cutoff = types.StringUnknown()
		}
	}
	doc := knownDocument(plan.CalloutConfig)
	checkCutoff(config.Cutoff, doc, r.now(), &resp.Diagnostics)
	if state != nil && plan.LastApply.IsUnknown() && offboardingUnchanged(&plan, state) {
		plan.LastApply = state.LastApply
	}
	if doc != nil {
		if req, known := plan.request(ctx, time.Unix(0, 0), &resp.Diagnostics); known {
			if _, err := req.Entries(doc); err != nil {
				resp.Diagnostics.AddError("Cannot offboard these entries", sentence(err.Error()))
			}
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func entriesEqual(a, b *offboardingModel) bool {
	return a.Subjects.Equal(b.Subjects) && a.ClientIDs.Equal(b.ClientIDs) && a.Mappings.Equal(b.Mappings) && a.Roles.Equal(b.Roles)
}

// offboardingUnchanged reports whether nothing the servers see changes (last_apply then
// still describes the last apply).
func offboardingUnchanged(plan, state *offboardingModel) bool {
	return entriesEqual(plan, state) && plan.Cutoff.Equal(state.Cutoff) && plan.Reason.Equal(state.Reason) &&
		plan.Servers.Equal(state.Servers) && plan.CalloutConfig.Equal(state.CalloutConfig) &&
		plan.SystemUserCreds.Equal(state.SystemUserCreds) && plan.CABundlePEM.Equal(state.CABundlePEM)
}

// knownDocument parses a known callout config; nil when unknown or invalid (the attribute's
// validator reports an invalid one).
func knownDocument(v types.String) *calloutconfig.Document {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	doc, err := calloutconfig.Parse([]byte(v.ValueString()))
	if err != nil {
		return nil
	}
	return doc
}

// request is the model's entries with cutoff; known is false while any entry is unknown.
func (m *offboardingModel) request(ctx context.Context, cutoff time.Time, diags *diag.Diagnostics) (offboard.Request, bool) {
	req := offboard.Request{Cutoff: cutoff, Reason: m.Reason.ValueString()}
	known := true
	for _, f := range []struct {
		set types.Set
		out *[]string
	}{{m.Subjects, &req.Subjects}, {m.ClientIDs, &req.ClientIDs}, {m.Mappings, &req.Mappings}, {m.Roles, &req.Roles}} {
		values, ok := sortedKnownStrings(ctx, f.set, diags)
		known = known && ok
		*f.out = values
	}
	return req, known
}

// checkCutoff refuses a configured cutoff beyond offboard.MaxFutureCutoff and warns about one
// that every token has outlived (doc, when known, gives the trust's max_token_lifetime).
func checkCutoff(cutoff types.String, doc *calloutconfig.Document, now time.Time, diags *diag.Diagnostics) {
	if cutoff.IsNull() || cutoff.IsUnknown() {
		return
	}
	t, err := time.Parse(time.RFC3339, cutoff.ValueString())
	if err != nil {
		return // the attribute's validator says so
	}
	if err := offboard.CheckCutoff(t, now); err != nil {
		diags.AddAttributeError(path.Root("cutoff"), "Cutoff too far in the future", sentence(err.Error()))
	}
	if doc != nil && offboard.CutoffOutlived(t, now, doc.Issuer.MaxTokenLifetime.Std()) {
		diags.AddAttributeWarning(path.Root("cutoff"), "Cutoff older than the longest token lifetime",
			fmt.Sprintf("Every token issued before %s has expired: the trust's max_token_lifetime is %s. The entries refuse "+
				"only tokens without iat, and there are no live connections of those tokens left to close. To refuse the "+
				"tokens people hold now, leave cutoff out (the apply's time).", t.UTC().Format(time.RFC3339),
				calloutconfig.ShortDuration(doc.Issuer.MaxTokenLifetime.Std())))
	}
}

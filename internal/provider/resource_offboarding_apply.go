package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
)

func (r *offboardingResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan offboardingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	plan.ID = types.StringValue("offboarding-" + hex.EncodeToString(b))
	r.apply(ctx, &plan, nil, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *offboardingResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state offboardingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	r.apply(ctx, &plan, &state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// apply writes the plan's entries: new ones, and ones whose cutoff changed, are written and
// their connections closed; unchanged ones are written again (reason, or a bucket restored);
// entries of the state the plan lacks are deleted.
func (r *offboardingResource) apply(ctx context.Context, plan, state *offboardingModel, diags *diag.Diagnostics) {
	doc, err := calloutconfig.Parse([]byte(plan.CalloutConfig.ValueString()))
	if err != nil {
		diags.AddError("Invalid callout config", sentence(err.Error()))
		return
	}
	if plan.Cutoff.IsUnknown() {
		plan.Cutoff = types.StringValue(offboard.DefaultCutoff(r.now()).UTC().Format(time.RFC3339))
	}
	cutoff, err := time.Parse(time.RFC3339, plan.Cutoff.ValueString())
	if err != nil {
		diags.AddError("Invalid cutoff", err.Error())
		return
	}
	want := entriesOf(ctx, plan, doc, cutoff, diags)
	if diags.HasError() {
		return
	}
	var have map[string]offboard.Entry
	if state != nil {
		if prevDoc, err := calloutconfig.Parse([]byte(state.CalloutConfig.ValueString())); err == nil {
			if prevCutoff, err := time.Parse(time.RFC3339, state.Cutoff.ValueString()); err == nil {
				have = map[string]offboard.Entry{}
				var ignore diag.Diagnostics
				for _, e := range entriesOf(ctx, state, prevDoc, prevCutoff, &ignore) {
					have[e.Key()] = e
				}
			}
		}
	}
	opts := r.options(ctx, plan, doc, diags)
	seen := map[string]bool{}
	for _, e := range want {
		seen[e.Key()] = true
		if old, ok := have[e.Key()]; ok && old.Cutoff == e.Cutoff {
			opts.Rewrite = append(opts.Rewrite, e)
		} else {
			opts.Put = append(opts.Put, e)
		}
	}
	for k := range have {
		if !seen[k] {
			opts.Remove = append(opts.Remove, k)
		}
	}
	rep, err := offboard.Apply(ctx, opts)
	if err != nil {
		diags.AddError("Offboarding failed", sentence(err.Error())+offboardingRetryHint(rep))
		return
	}
	for _, w := range rep.Warnings() {
		diags.AddWarning("Offboarded connections came back", sentence(w))
	}
	last, d := types.ObjectValue(offboardingLastApplyTypes, map[string]attr.Value{
		"at":      types.StringValue(rep.Written.UTC().Format(time.RFC3339)),
		"closed":  types.Int64Value(int64(len(rep.Closed))),
		"servers": types.Int64Value(int64(len(rep.Servers))),
	})
	diags.Append(d...)
	plan.LastApply = last
}

func offboardingRetryHint(rep offboard.Report) string {
	if rep.Written.IsZero() {
		return ""
	}
	return " The bucket was written, so the callout refuses these tokens already; apply again to close what is left."
}

// entriesOf is the model's request as bucket entries.
func entriesOf(ctx context.Context, m *offboardingModel, doc *calloutconfig.Document, cutoff time.Time, diags *diag.Diagnostics) []offboard.Entry {
	req, _ := m.request(ctx, cutoff, diags)
	entries, err := req.Entries(doc)
	if err != nil {
		diags.AddError("Cannot offboard these entries", sentence(err.Error()))
	}
	return entries
}

func (r *offboardingResource) options(ctx context.Context, m *offboardingModel, doc *calloutconfig.Document, diags *diag.Diagnostics) offboard.Options {
	return offboard.Options{
		Servers:     stringElements(ctx, m.Servers, diags),
		CAPEM:       m.CABundlePEM.ValueString(),
		SystemCreds: m.SystemUserCreds.ValueString(),
		Doc:         doc,
	}
}

// Read drops from the state every entry the bucket lacks, so the plan writes it again. An
// unreachable bucket warns and keeps the state: an outage must not block every plan.
func (r *offboardingResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state offboardingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	doc, err := calloutconfig.Parse([]byte(state.CalloutConfig.ValueString()))
	cutoff, cerr := time.Parse(time.RFC3339, state.Cutoff.ValueString())
	if err != nil || cerr != nil {
		return
	}
	var ignore diag.Diagnostics
	entries := entriesOf(ctx, &state, doc, cutoff, &ignore)
	if ignore.HasError() {
		return
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key()
	}
	stored, err := offboard.Load(ctx, r.options(ctx, &state, doc, &resp.Diagnostics), keys)
	if err != nil {
		servers := stringElements(ctx, state.Servers, &resp.Diagnostics)
		resp.Diagnostics.AddWarning("Offboarding bucket not checked for drift",
			fmt.Sprintf("Could not read the bucket through %s: %s\n\nThe last known state is kept.", strings.Join(servers, ", "), sentence(err.Error())))
		return
	}
	keep := map[offboard.Kind]map[string]bool{}
	missing := 0
	for _, e := range entries {
		if _, ok := stored[e.Key()]; !ok {
			missing++
			continue
		}
		if keep[e.Kind] == nil {
			keep[e.Kind] = map[string]bool{}
		}
		keep[e.Kind][e.Value] = true
	}
	if missing == 0 {
		return
	}
	state.Subjects = keptSet(ctx, state.Subjects, keep[offboard.KindSubject], nil, &resp.Diagnostics)
	state.ClientIDs = keptSet(ctx, state.ClientIDs, keep[offboard.KindClient], nil, &resp.Diagnostics)
	state.Mappings = keptSet(ctx, state.Mappings, keep[offboard.KindMapping], nil, &resp.Diagnostics)
	state.Roles = keptSet(ctx, state.Roles, keep[offboard.KindRole], func(ref string) string {
		e, err := offboard.ResolveRole(doc, ref)
		if err != nil {
			return ""
		}
		return e.Value
	}, &resp.Diagnostics)
	resp.Diagnostics.AddWarning("Offboarding entries missing from the bucket",
		fmt.Sprintf("%d entr(ies) of this resource are not in the bucket (deleted by hand, or the bucket was recreated): the callout "+
			"admits those tokens again. The plan writes them back.", missing))
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// keptSet is set without the values whose entry is missing; value maps an element to the
// entry value (roles: the role name; with two roles of one name in different accounts both
// stay or go together, which only re-writes an entry that was there).
func keptSet(ctx context.Context, set types.Set, keep map[string]bool, value func(string) string, diags *diag.Diagnostics) types.Set {
	if set.IsNull() {
		return set
	}
	var out []string
	for _, s := range stringElements(ctx, set, diags) {
		v := s
		if value != nil {
			v = value(s)
		}
		if keep[v] {
			out = append(out, s)
		}
	}
	return stringSet(out)
}

// Delete removes every entry, re-admitting fresh tokens. It fails when the bucket cannot be
// reached: the entries would otherwise keep refusing with nothing left to remove them.
func (r *offboardingResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state offboardingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	doc, err := calloutconfig.Parse([]byte(state.CalloutConfig.ValueString()))
	if err != nil {
		resp.Diagnostics.AddError("Invalid callout config in state", sentence(err.Error()))
		return
	}
	cutoff, _ := time.Parse(time.RFC3339, state.Cutoff.ValueString())
	opts := r.options(ctx, &state, doc, &resp.Diagnostics)
	for _, e := range entriesOf(ctx, &state, doc, cutoff, &resp.Diagnostics) {
		opts.Remove = append(opts.Remove, e.Key())
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if _, err := offboard.Apply(ctx, opts); err != nil {
		resp.Diagnostics.AddError("Could not delete the offboarding entries", sentence(err.Error())+
			" The entries stay in the bucket and keep refusing; apply the destroy again once the servers answer.")
	}
}

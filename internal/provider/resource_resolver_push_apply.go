package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

func (r *resolverPushResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan resolverPushModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	servers := stringElements(ctx, plan.Servers, &resp.Diagnostics)
	accounts := stringMap(ctx, plan.Accounts, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	sum := sha256.Sum256([]byte(strings.Join(servers, ",")))
	plan.ID = types.StringValue("resolver-" + hex.EncodeToString(sum[:8]))
	plan.LastPush = types.ObjectNull(lastPushTypes)
	r.push(ctx, &plan, servers, sortedValues(accounts, nil), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read replaces the accounts in state with what the live servers hold, so drift shows as an
// in-place update. It never fails on an unreachable server: it warns and keeps the state.
func (r *resolverPushResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state resolverPushModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	accounts := stringMap(ctx, state.Accounts, &resp.Diagnostics)
	servers := stringElements(ctx, state.Servers, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || len(accounts) == 0 {
		return
	}
	keys := make([]string, 0, len(accounts))
	for k := range accounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	live, err := r.lookup(ctx, &state, servers, keys)
	if err != nil {
		resp.Diagnostics.AddWarning("Live resolver not checked for drift",
			fmt.Sprintf("Could not read the accounts from %s: %v\n\nThe last known state is kept; drift on the servers "+
				"is detected by the next refresh that reaches them.", strings.Join(servers, ", "), err))
		return
	}
	if len(live.Diverged) > 0 {
		resp.Diagnostics.AddWarning("Full resolvers disagree",
			fmt.Sprintf("The servers hold different JWTs (or some lack the JWT) for %d account(s), first %s. The state records "+
				"the JWT issued last, which is what full resolvers converge to when they synchronise.", len(live.Diverged), live.Diverged[0]))
	}
	elems := make(map[string]attr.Value, len(keys))
	for _, k := range keys {
		if token := live.JWT[k]; token != "" {
			elems[k] = types.StringValue(token)
		}
	}
	m, diags := types.MapValue(types.StringType, elems)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Accounts = m
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Update pushes only the accounts whose JWT differs from the state, which after a refresh is
// what the servers hold: an unchanged account is not sent again. When servers change, the
// state describes the old ones, so every account is pushed.
func (r *resolverPushResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state resolverPushModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	servers := stringElements(ctx, plan.Servers, &resp.Diagnostics)
	want := stringMap(ctx, plan.Accounts, &resp.Diagnostics)
	have := stringMap(ctx, state.Accounts, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	var removed []string
	for k := range have {
		if _, ok := want[k]; !ok {
			removed = append(removed, k)
		}
	}
	slices.Sort(removed)
	if !plan.Servers.Equal(state.Servers) {
		have = nil
	}
	// last_push is unknown in the plan because the resource changes; with nothing to push the
	// previous summary still describes the last push.
	plan.LastPush = state.LastPush
	r.push(ctx, &plan, servers, sortedValues(want, have), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.OperatorSigner.ValueString() != "" && len(removed) > 0 {
		// An account whose deletion failed stays in the state (with the JWT it had), so the
		// plan keeps showing its removal and the next apply retries it.
		kept := r.deleteAccounts(ctx, &plan, servers, removed, &resp.Diagnostics)
		if len(kept) > 0 {
			elems := plan.Accounts.Elements()
			for _, k := range kept {
				elems[k] = types.StringValue(state.Accounts.Elements()[k].(types.String).ValueString())
			}
			m, d := types.MapValue(types.StringType, elems)
			resp.Diagnostics.Append(d...)
			plan.Accounts = m
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete removes every account in the state from the servers when operator_signer is set;
// without it the servers are left alone (see the resource description). On a failed delete
// the resource stays in the state, so destroying it again retries.
func (r *resolverPushResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state resolverPushModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.OperatorSigner.ValueString() == "" {
		return
	}
	servers := stringElements(ctx, state.Servers, &resp.Diagnostics)
	accounts := stringMap(ctx, state.Accounts, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || len(accounts) == 0 {
		return
	}
	keys := make([]string, 0, len(accounts))
	for k := range accounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.deleteAccounts(ctx, &state, servers, keys, &resp.Diagnostics)
}

// deleteAccounts deletes accounts from the servers with m's operator signer and returns the
// ones that were not deleted, all of them when the servers could not be asked.
func (r *resolverPushResource) deleteAccounts(ctx context.Context, m *resolverPushModel, servers, accounts []string, diags *diag.Diagnostics) []string {
	signer, err := natsjwt.ParseSigner(m.OperatorSigner.ValueString(), natsjwt.KindOperator)
	if err != nil {
		diags.AddAttributeError(path.Root("operator_signer"), "Invalid signer", err.Error())
		return accounts
	}
	c, err := r.connect(m, servers)
	if err != nil {
		diags.AddAttributeError(path.Root("servers"), "Cannot connect to the servers", err.Error())
		return accounts
	}
	defer c.nc.Close()
	report, err := resolver.Delete(ctx, c.nc, accounts, signer, c.opts)
	if len(report.Accounts) == 0 && err != nil {
		diags.AddError("Deleting accounts failed", err.Error())
		return accounts
	}
	var kept []string
	for _, a := range report.Accounts {
		if a.Err() != nil {
			kept = append(kept, a.Account)
		}
	}
	if err != nil {
		diags.AddError("Deleting accounts failed",
			fmt.Sprintf("%v\n\nThe accounts that were not deleted stay in the state, so the next apply tries again.", err))
	}
	if missing := report.Incomplete(); len(missing) > 0 {
		diags.AddWarning("Not every full resolver confirmed the deletion",
			fmt.Sprintf("%d account(s), first %s, were deleted by some full resolvers but not confirmed by all %d in time. "+
				"A server that missed the deletion still holds the account and may hand it back to the others when "+
				"full resolvers exchange their stores; delete it there once the server is reachable.",
				len(missing), missing[0], report.Resolvers))
	}
	return kept
}

// resolverConn is one connection for one operation: a plan or apply connects, does its
// lookups or pushes, and closes, so no connection outlives the provider call.
type resolverConn struct {
	nc   *nats.Conn
	opts resolver.Options
}

func (r *resolverPushResource) connect(m *resolverPushModel, servers []string) (*resolverConn, error) {
	timeout, err := time.ParseDuration(m.Timeout.ValueString())
	if err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	}
	nc, err := resolver.Connect(resolver.ConnectOptions{
		Servers: servers, Creds: m.SystemUserCreds.ValueString(), CAPEM: m.CABundlePEM.ValueString(), Timeout: timeout,
	})
	if err != nil {
		return nil, err
	}
	return &resolverConn{nc: nc, opts: resolver.Options{Timeout: timeout}}, nil
}

// push sends tokens and records the summary in m.LastPush; nothing to send needs no connection.
func (r *resolverPushResource) push(ctx context.Context, m *resolverPushModel, servers, tokens []string, diags *diag.Diagnostics) {
	if len(tokens) == 0 {
		if m.LastPush.IsUnknown() {
			m.LastPush = types.ObjectNull(lastPushTypes)
		}
		return
	}
	c, err := r.connect(m, servers)
	if err != nil {
		diags.AddAttributeError(path.Root("servers"), "Cannot connect to the servers", err.Error())
		return
	}
	defer c.nc.Close()
	c.opts.Operator = pushTargetOperator(m)
	report, err := resolver.Push(ctx, c.nc, tokens, c.opts)
	if err != nil {
		diags.AddError("Pushing accounts failed",
			fmt.Sprintf("%v\n\nAccounts that were stored are picked up by the next refresh.", err))
		return
	}
	if missing := report.Incomplete(); len(missing) > 0 {
		diags.AddWarning("Not every full resolver confirmed the push",
			fmt.Sprintf("%d account(s), first %s, were stored by some full resolvers but not confirmed by all %d in time. "+
				"Full resolvers exchange JWTs among themselves, so the others catch up within the resolver interval.",
				len(missing), missing[0], report.Resolvers))
	}
	obj, d := types.ObjectValue(lastPushTypes, map[string]attr.Value{
		"at":       types.StringValue(r.now().UTC().Format(time.RFC3339)),
		"accounts": types.Int64Value(int64(report.Pushed())),
		"servers":  types.Int64Value(int64(report.Resolvers)),
	})
	diags.Append(d...)
	m.LastPush = obj
}

func (r *resolverPushResource) lookup(ctx context.Context, m *resolverPushModel, servers, keys []string) (resolver.LookupResult, error) {
	c, err := r.connect(m, servers)
	if err != nil {
		return resolver.LookupResult{}, err
	}
	defer c.nc.Close()
	return resolver.Lookup(ctx, c.nc, keys, c.opts)
}

// sortedValues lists the JWTs of want that differ from have, sorted by account key so the push
// order (and the first account named in a message) is stable.
func sortedValues(want, have map[string]string) []string {
	keys := make([]string, 0, len(want))
	for k, v := range want {
		if have[k] != v {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = want[k]
	}
	return out
}

package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/liveimpact"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

func resolverPushOperatorJWTAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "The operator JWT the servers are meant to run, normally `natsping_operator.<name>.jwt`. It is " +
			"never pushed (servers read the operator JWT only from their config, at start). Set, it makes an operator " +
			"signing-key rotation safe to roll out: the plan warns about every account signed by a key this JWT does " +
			"not list (servers restarted with it would refuse the account), and when an account is signed by a key " +
			"that some servers do not trust yet, the apply names those servers and this JWT as the one to restart " +
			"them with. Without it the apply still refuses such accounts and names the servers.",
		Validators: []validator.String{checkString("Invalid operator JWT", "must be an operator JWT",
			func(s string) error { _, err := jwt.DecodeOperatorClaims(strings.TrimSpace(s)); return err })},
	}
}

// pushTargetOperator is operator_jwt decoded, or nil when it is unset, unknown or invalid (the
// validator reports an invalid one).
func pushTargetOperator(m *resolverPushModel) *jwt.OperatorClaims {
	if m.OperatorJWT.IsNull() || m.OperatorJWT.IsUnknown() {
		return nil
	}
	op, err := jwt.DecodeOperatorClaims(strings.TrimSpace(m.OperatorJWT.ValueString()))
	if err != nil {
		return nil
	}
	return op
}

// ModifyPlan warns, for a plan that pushes, about what the push does to live servers: the
// connections each changed account closes when the servers get it (compared with what they
// hold, which refresh recorded in the state), and accounts that servers restarted with
// operator_jwt would refuse. The plan itself is not changed. A plan with nothing to do warns
// nothing.
func (r *resolverPushResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.Equal(req.State.Raw) {
		return
	}
	if req.Plan.Raw.IsNull() {
		var state resolverPushModel
		if !req.State.Get(ctx, &state).HasError() && state.OperatorSigner.ValueString() != "" {
			warnPushDeletes(resp, knownAccountJWTs(state.Accounts), nil)
		}
		return
	}
	plan, state := planAndPriorState[resolverPushModel](ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || state == nil || plan.Accounts.IsUnknown() {
		return
	}
	if !plan.OperatorSigner.IsUnknown() && plan.OperatorSigner.ValueString() != "" {
		warnPushDeletes(resp, knownAccountJWTs(state.Accounts), plan.Accounts.Elements())
	}
	want := knownAccountJWTs(plan.Accounts)
	have := map[string]string{}
	if plan.Servers.Equal(state.Servers) {
		// With other servers the state says nothing about what they hold.
		have = knownAccountJWTs(state.Accounts)
	}
	keys := slices.Sorted(maps.Keys(want))
	op := pushTargetOperator(&plan)
	for _, k := range keys {
		claims, err := jwt.DecodeAccountClaims(want[k])
		if err != nil {
			continue // ValidateConfig reports it
		}
		if op != nil {
			if err := natsjwt.CheckAccountIssuer(op, claims.Issuer); err != nil {
				resp.Diagnostics.AddAttributeWarning(path.Root("accounts").AtMapKey(k),
					"Servers restarted with operator_jwt will refuse an account",
					fmt.Sprintf("Account %q (%s) is signed by %s, which operator_jwt (operator %q, %s) does not accept: %v.\n\n"+
						"On live servers: the push works while they still run an operator JWT that lists the key, but a server "+
						"restarted with operator_jwt refuses the account and its users cannot connect to it.\n\n"+
						"What to do: re-sign the account with a key operator_jwt lists (operator_signer = "+
						"natsping_operator.<name>.signer) and push it before restarting servers with the new operator JWT.",
						claims.Name, k, claims.Issuer, op.Name, op.Subject, err))
			}
		}
		prev, ok := have[k]
		if !ok || prev == want[k] {
			continue
		}
		old, err := jwt.DecodeAccountClaims(prev)
		if err != nil {
			continue
		}
		for _, f := range liveimpact.Account(old, claims) {
			if f.Action != liveimpact.Deliver { // this resource is the delivery
				resp.Diagnostics.AddAttributeWarning(path.Root("accounts").AtMapKey(k), f.Summary(), f.Detail())
			}
		}
	}
}

// warnPushDeletes warns for every account of have that is not kept and will be deleted from the
// servers: deleting an account closes all its connections.
func warnPushDeletes(resp *resource.ModifyPlanResponse, have map[string]string, kept map[string]attr.Value) {
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := kept[k]; ok {
			continue
		}
		old, err := jwt.DecodeAccountClaims(have[k])
		if err != nil {
			continue
		}
		for _, f := range liveimpact.AccountRemoved(old) {
			resp.Diagnostics.AddWarning(f.Summary(), "natsping_resolver_push deletes it from the servers. "+f.Detail())
		}
	}
}

// knownAccountJWTs lists the known, non-null elements of a string map.
func knownAccountJWTs(m types.Map) map[string]string {
	out := map[string]string{}
	for k, v := range m.Elements() {
		if s, ok := v.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
			out[k] = s.ValueString()
		}
	}
	return out
}

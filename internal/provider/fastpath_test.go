package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// fastPathStates holds, for every resource type that passes its state through Read, the
// configurations whose states TestFastPathMatchesFramework compares; %q is an operator seed.
func fastPathStates(t *testing.T) map[string][]string {
	user, _, err := natsjwt.NewKey(natsjwt.KindUser)
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	rich := `{
		"name": "RICH", "description": "d", "info_url": "https://example.com/a", "operator_signer": %q,
		"tags": ["team:blue", "env:prod"], "expires_at": "` + expires + `",
		"limits": {"max_connections": 100, "max_payload": 1048576, "allow_wildcard_exports": true},
		"jetstream": {"tiers": {"R1": {"max_streams": 10, "max_bytes_required": true}, "R3": {"disk_storage": -1}}},
		"exports": [
			{"type": "service", "subject": "svc.time", "response_type": "Stream", "response_threshold": "5s"},
			{"type": "stream", "subject": "events.>", "token_required": true, "advertise": true}
		],
		"default_permissions": {"pub_allow": ["a.>"], "response": {"max_msgs": 2, "ttl": "1s"}},
		"roles": [
			{"name": "reader", "description": "r", "max_subscriptions": 10, "bearer": false,
			 "allowed_connection_types": ["STANDARD", "WEBSOCKET"], "source_networks": ["10.0.0.0/8"],
			 "permissions": {"sub_allow": ["orders.> q"], "sub_deny": ["orders.secret"]}}
		],
		"authorization": {"auth_users": ["` + user + `"], "allowed_accounts": ["*"]}
	}`
	return map[string][]string{"natsping_account": {
		`{"name": "MINIMAL", "operator_signer": %q}`,
		`{"name": "BENCH", "operator_signer": %q, "limits": {"max_connections": 100},
		  "roles": [{"name": "reader", "permissions": {"sub_allow": ["orders.>"], "pub_allow": ["_INBOX.>"]}},
		            {"name": "writer", "permissions": {"pub_allow": ["orders.{{tag(team)}}.>"]}}]}`,
		rich,
	}}
}

// TestFastPathMatchesFramework pins NewProviderServer's fast paths to the framework: for the
// same request, both answer with the same state, private data, replacements and diagnostics;
// the fast paths answer the calls of a no-change plan themselves, and every request outside
// their conditions (other versions, undecodable state, private data, a change, a warning from
// ModifyPlan) reaches the framework.
func TestFastPathMatchesFramework(t *testing.T) {
	ctx := context.Background()
	states := fastPathStates(t)
	p := New("test")()
	var meta provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &meta)
	for _, newResource := range p.Resources(ctx) {
		r := newResource()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &md)
		_, read := r.(statePassthroughReader)
		_, plan := r.(unchangedPlanPassthrough)
		if (read || plan) && len(states[md.TypeName]) == 0 {
			t.Errorf("%s takes a fast path but has no states to compare in fastPathStates", md.TypeName)
		}
	}

	for typeName, configs := range states {
		for i, config := range configs {
			t.Run(fmt.Sprintf("%s/%d", typeName, i), func(t *testing.T) {
				framework := providerserver.NewProtocol6(New("test")())()
				fast, inner := countedFastPath(New("test")())
				a := newRPCAccount(t, framework, config)
				configureRPC(t, fast)

				var withExtra, withoutTags map[string]any
				must(t, json.Unmarshal(a.stateJSON, &withExtra))
				must(t, json.Unmarshal(a.stateJSON, &withoutTags))
				withExtra["attribute_of_an_older_version"] = "x"
				delete(withoutTags, "tags")
				upgrades := map[string]struct {
					req  *tfprotov6.UpgradeResourceStateRequest
					fast bool
				}{
					"current":        {&tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: a.stateJSON}}, true},
					"undefined attr": {&tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: marshal(t, withExtra)}}, true},
					"missing attr":   {&tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: marshal(t, withoutTags)}}, true},
					"newer version":  {&tfprotov6.UpgradeResourceStateRequest{Version: 1, RawState: &tfprotov6.RawState{JSON: a.stateJSON}}, false},
					"undecodable":    {&tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(`{"name": 7,`)}}, false},
					"wrong type":     {&tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(`{"roles": "x"}`)}}, false},
					"no raw state":   {&tfprotov6.UpgradeResourceStateRequest{}, false},
				}
				for name, c := range upgrades {
					c.req.TypeName = typeName
					want, err := framework.UpgradeResourceState(ctx, c.req)
					must(t, err)
					calls := inner.calls
					got, err := fast.UpgradeResourceState(ctx, c.req)
					must(t, err)
					what := "UpgradeResourceState " + name
					inner.tookFastPath(t, what, calls, c.fast)
					sameDiags(t, what, got.Diagnostics, want.Diagnostics)
					sameValue(t, what, a, got.UpgradedState, want.UpgradedState)
				}

				// What ImportResourceState leaves for the first Read: the framework's marker, base64 of true.
				private := []byte(`{".import_before_read":"dHJ1ZQ=="}`)
				reads := map[string]struct {
					req  *tfprotov6.ReadResourceRequest
					fast bool
				}{
					"state":        {&tfprotov6.ReadResourceRequest{CurrentState: a.dv(a.state)}, true},
					"private data": {&tfprotov6.ReadResourceRequest{CurrentState: a.dv(a.state), Private: private}, false},
				}
				for name, c := range reads {
					c.req.TypeName = typeName
					want, err := framework.ReadResource(ctx, c.req)
					must(t, err)
					calls := inner.calls
					got, err := fast.ReadResource(ctx, c.req)
					must(t, err)
					what := "ReadResource " + name
					inner.tookFastPath(t, what, calls, c.fast)
					sameDiags(t, what, got.Diagnostics, want.Diagnostics)
					sameValue(t, what, a, got.NewState, want.NewState)
					if string(got.Private) != string(want.Private) {
						t.Errorf("%s: private %q, the framework's %q", what, got.Private, want.Private)
					}
				}

				renamed, err := tftypes.Transform(a.state, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
					if p.Equal(tftypes.NewAttributePath().WithAttributeName("name")) {
						return tftypes.NewValue(tftypes.String, "RENAMED"), nil
					}
					return v, nil
				})
				must(t, err)
				plans := map[string]struct {
					req  *tfprotov6.PlanResourceChangeRequest
					fast bool
				}{
					"no change":    {&tfprotov6.PlanResourceChangeRequest{PriorState: a.dv(a.state), ProposedNewState: a.dv(a.state), Config: a.dv(a.config)}, true},
					"a change":     {&tfprotov6.PlanResourceChangeRequest{PriorState: a.dv(a.state), ProposedNewState: a.dv(renamed), Config: a.dv(a.config)}, false},
					"private data": {&tfprotov6.PlanResourceChangeRequest{PriorState: a.dv(a.state), ProposedNewState: a.dv(a.state), Config: a.dv(a.config), PriorPrivate: []byte(`{"k":"e30="}`)}, false},
					"destroy":      {&tfprotov6.PlanResourceChangeRequest{PriorState: a.dv(a.state), ProposedNewState: a.dv(tftypes.NewValue(a.typ, nil)), Config: a.dv(tftypes.NewValue(a.typ, nil))}, false},
				}
				for name, c := range plans {
					c.req.TypeName = typeName
					want, err := framework.PlanResourceChange(ctx, c.req)
					must(t, err)
					calls := inner.calls
					got, err := fast.PlanResourceChange(ctx, c.req)
					must(t, err)
					what := "PlanResourceChange " + name
					inner.tookFastPath(t, what, calls, c.fast)
					samePlan(t, what, a, got, want)
				}

				// Once the account has expired, ModifyPlan warns: the framework answers.
				late := func() time.Time { return time.Now().Add(1000 * time.Hour) }
				lateFramework := providerserver.NewProtocol6(&natspingProvider{version: "test", now: late})()
				lateFast, lateInner := countedFastPath(&natspingProvider{version: "test", now: late})
				configureRPC(t, lateFramework)
				configureRPC(t, lateFast)
				req := plans["no change"].req
				want, err := lateFramework.PlanResourceChange(ctx, req)
				must(t, err)
				got, err := lateFast.PlanResourceChange(ctx, req)
				must(t, err)
				_, expires := withExtra["expires_at"].(string)
				lateInner.tookFastPath(t, "PlanResourceChange after expiry", 0, !expires)
				samePlan(t, "PlanResourceChange after expiry", a, got, want)
				if expires && len(want.Diagnostics) == 0 {
					t.Error("PlanResourceChange after expiry: the framework did not warn; this case proves nothing")
				}
			})
		}
	}
}

// countedFastPath is newProviderServer(p) with the calls that reach the framework counted.
func countedFastPath(p provider.Provider) (*fastPathServer, *countingServer) {
	fast := newProviderServer(p).(*fastPathServer)
	inner := &countingServer{ProviderServer: fast.ProviderServer}
	fast.ProviderServer = inner
	return fast, inner
}

// countingServer counts the calls that reach the framework.
type countingServer struct {
	tfprotov6.ProviderServer
	calls int
}

func (c *countingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	c.calls++
	return c.ProviderServer.UpgradeResourceState(ctx, req)
}

func (c *countingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	c.calls++
	return c.ProviderServer.ReadResource(ctx, req)
}

func (c *countingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	c.calls++
	return c.ProviderServer.PlanResourceChange(ctx, req)
}

func (c *countingServer) tookFastPath(t *testing.T, what string, before int, fast bool) {
	t.Helper()
	if reached := c.calls > before; reached == fast {
		t.Errorf("%s: fast path %v, but the framework was called: %v", what, fast, reached)
	}
}

func samePlan(t *testing.T, what string, a rpcAccount, got, want *tfprotov6.PlanResourceChangeResponse) {
	t.Helper()
	sameDiags(t, what, got.Diagnostics, want.Diagnostics)
	sameValue(t, what, a, got.PlannedState, want.PlannedState)
	if len(got.RequiresReplace) != len(want.RequiresReplace) || fmt.Sprint(got.RequiresReplace) != fmt.Sprint(want.RequiresReplace) || string(got.PlannedPrivate) != string(want.PlannedPrivate) ||
		(got.Deferred == nil) != (want.Deferred == nil) || (got.PlannedIdentity == nil) != (want.PlannedIdentity == nil) {
		t.Errorf("%s: replace %v private %q deferred %v identity %v; the framework's %v %q %v %v", what,
			got.RequiresReplace, got.PlannedPrivate, got.Deferred, got.PlannedIdentity,
			want.RequiresReplace, want.PlannedPrivate, want.Deferred, want.PlannedIdentity)
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

func sameDiags(t *testing.T, what string, got, want []*tfprotov6.Diagnostic) {
	t.Helper()
	render := func(ds []*tfprotov6.Diagnostic) string {
		var out []string
		for _, d := range ds {
			out = append(out, fmt.Sprintf("%v %s: %s", d.Severity, d.Summary, d.Detail))
		}
		return strings.Join(out, "\n")
	}
	if render(got) != render(want) {
		t.Errorf("%s: diagnostics\n%s\nthe framework's\n%s", what, render(got), render(want))
	}
}

func sameValue(t *testing.T, what string, a rpcAccount, got, want *tfprotov6.DynamicValue) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("%s: state %v, the framework's %v", what, got, want)
	}
	if got == nil {
		return
	}
	g, err := got.Unmarshal(a.typ)
	must(t, err)
	w, err := want.Unmarshal(a.typ)
	must(t, err)
	if !g.Equal(w) {
		t.Errorf("%s: state\n%v\nthe framework's\n%v", what, g, w)
	}
}

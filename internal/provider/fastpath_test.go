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
// same request, both answer with the same state, private data and diagnostics, and every
// request outside a fast path's conditions (other versions, undecodable state, private data)
// reaches the framework.
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
		if _, ok := r.(statePassthroughReader); ok && len(states[md.TypeName]) == 0 {
			t.Errorf("%s passes its state through Read but has no states to compare in fastPathStates", md.TypeName)
		}
	}

	for typeName, configs := range states {
		for i, config := range configs {
			t.Run(fmt.Sprintf("%s/%d", typeName, i), func(t *testing.T) {
				framework := providerserver.NewProtocol6(New("test")())()
				fast := NewProviderServer("test")()
				a := newRPCAccount(t, framework, config)
				newRPCAccount(t, fast, config) // configures fast the same way

				var withExtra, withoutTags map[string]any
				must(t, json.Unmarshal(a.stateJSON, &withExtra))
				must(t, json.Unmarshal(a.stateJSON, &withoutTags))
				withExtra["attribute_of_an_older_version"] = "x"
				delete(withoutTags, "tags")
				upgrades := map[string]*tfprotov6.UpgradeResourceStateRequest{
					"current":           {RawState: &tfprotov6.RawState{JSON: a.stateJSON}},
					"undefined attr":    {RawState: &tfprotov6.RawState{JSON: marshal(t, withExtra)}},
					"missing attr":      {RawState: &tfprotov6.RawState{JSON: marshal(t, withoutTags)}},
					"newer version":     {Version: 1, RawState: &tfprotov6.RawState{JSON: a.stateJSON}},
					"undecodable":       {RawState: &tfprotov6.RawState{JSON: []byte(`{"name": 7,`)}},
					"wrong type":        {RawState: &tfprotov6.RawState{JSON: []byte(`{"roles": "x"}`)}},
					"no state in a req": {},
				}
				for name, req := range upgrades {
					req.TypeName = typeName
					want, err := framework.UpgradeResourceState(ctx, req)
					must(t, err)
					got, err := fast.UpgradeResourceState(ctx, req)
					must(t, err)
					sameDiags(t, "UpgradeResourceState "+name, got.Diagnostics, want.Diagnostics)
					sameValue(t, "UpgradeResourceState "+name, a, got.UpgradedState, want.UpgradedState)
				}

				// What ImportResourceState leaves for the first Read: the framework's marker, base64 of true.
				private := []byte(`{".import_before_read":"dHJ1ZQ=="}`)
				reads := map[string]*tfprotov6.ReadResourceRequest{
					"state":        {CurrentState: a.dv(a.state)},
					"private data": {CurrentState: a.dv(a.state), Private: private},
				}
				for name, req := range reads {
					req.TypeName = typeName
					want, err := framework.ReadResource(ctx, req)
					must(t, err)
					got, err := fast.ReadResource(ctx, req)
					must(t, err)
					sameDiags(t, "ReadResource "+name, got.Diagnostics, want.Diagnostics)
					sameValue(t, "ReadResource "+name, a, got.NewState, want.NewState)
					if string(got.Private) != string(want.Private) {
						t.Errorf("ReadResource %s: private %q, the framework's %q", name, got.Private, want.Private)
					}
				}
			})
		}
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

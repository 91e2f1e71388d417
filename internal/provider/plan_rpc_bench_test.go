package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// BenchmarkAccountNoChangeRPCs is the provider's share of a no-change plan for one
// natsping_account, without the CLI: the four calls the CLI makes per resource instance
// (ValidateResourceConfig, UpgradeResourceState, ReadResource, PlanResourceChange), with the
// values the CLI sends for the account of BenchmarkNoChangePlan. One op is one account, so
// ns/op × accounts is the provider CPU of such a plan when nothing else runs.
//
// Run: go test ./internal/provider -run '^$' -bench AccountNoChangeRPCs -benchmem
// (NATSPING_BENCH_FRAMEWORK_ONLY=1 and NATSPING_BENCH_DEFAULT_GC=1 as for BenchmarkNoChangePlan).
func BenchmarkAccountNoChangeRPCs(b *testing.B) {
	for _, tc := range []struct{ name, config string }{
		{"bench-account", `{
			"name": "ACCOUNT-0", "operator_signer": %q, "limits": {"max_connections": 100},
			"roles": [
				{"name": "reader", "permissions": {"sub_allow": ["orders.>"], "pub_allow": ["_INBOX.>"]}},
				{"name": "writer", "permissions": {"pub_allow": ["orders.{{tag(team)}}.>"]}}
			]}`},
		{"minimal-account", `{"name": "ACCOUNT-0", "operator_signer": %q}`},
	} {
		b.Run(tc.name, func(b *testing.B) { benchAccountNoChangeRPCs(b, tc.config) })
	}
}

func benchAccountNoChangeRPCs(b *testing.B, configJSON string) {
	if os.Getenv("NATSPING_BENCH_DEFAULT_GC") == "" {
		defer TuneGC()() // as main does
	}
	ctx := context.Background()
	srv := benchProviderServer()
	a := newRPCAccount(b, srv, configJSON)
	typ, config, state, stateJSON, dv := a.typ, a.config, a.state, a.stateJSON, a.dv
	const typeName = "natsping_account"

	b.ReportAllocs()
	b.ResetTimer()
	// CPU time rather than wall time is the figure to compare on a shared machine.
	cpuBefore, _ := cpuTimes()
	defer func() {
		cpuAfter, _ := cpuTimes()
		b.ReportMetric(float64((cpuAfter-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/op")
	}()
	for i := 0; i < b.N; i++ {
		v, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: typeName, Config: dv(config)})
		if err != nil || diagsHaveError(v.Diagnostics) {
			b.Fatalf("ValidateResourceConfig: %v %v", err, v.Diagnostics)
		}
		u, err := srv.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
			TypeName: typeName, RawState: &tfprotov6.RawState{JSON: stateJSON},
		})
		if err != nil || diagsHaveError(u.Diagnostics) {
			b.Fatalf("UpgradeResourceState: %v %v", err, u.Diagnostics)
		}
		r, err := srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: typeName, CurrentState: u.UpgradedState})
		if err != nil || diagsHaveError(r.Diagnostics) {
			b.Fatalf("ReadResource: %v %v", err, r.Diagnostics)
		}
		p, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: typeName, PriorState: r.NewState, ProposedNewState: r.NewState, Config: dv(config),
		})
		if err != nil || diagsHaveError(p.Diagnostics) {
			b.Fatalf("PlanResourceChange: %v %v", err, p.Diagnostics)
		}
		if i == 0 {
			got, err := p.PlannedState.Unmarshal(typ)
			if err != nil || !got.Equal(state) || len(p.RequiresReplace) > 0 {
				b.Fatalf("a no-change plan must plan the state as it is: %v\n%v\n%v", err, got, state)
			}
		}
	}
}

// rpcAccount is a natsping_account created through the provider's RPCs, as the CLI does.
type rpcAccount struct {
	typ       tftypes.Type
	config    tftypes.Value // the configuration (computed attributes null)
	state     tftypes.Value // the state after create
	stateJSON []byte        // the state as the CLI stores it
	dv        func(tftypes.Value) *tfprotov6.DynamicValue
}

// newRPCAccount configures srv with an empty provider block and creates one account from
// configJSON, in which %q stands for a fresh operator seed.
func newRPCAccount(tb testing.TB, srv tfprotov6.ProviderServer, configJSON string) rpcAccount {
	tb.Helper()
	ctx := context.Background()
	const typeName = "natsping_account"
	a := rpcAccount{typ: configureRPC(tb, srv).ResourceSchemas[typeName].ValueType()}
	a.dv = func(v tftypes.Value) *tfprotov6.DynamicValue {
		d, err := tfprotov6.NewDynamicValue(a.typ, v)
		if err != nil {
			tb.Fatal(err)
		}
		return &d
	}
	_, operatorSeed, err := natsjwt.NewKey(natsjwt.KindOperator)
	if err != nil {
		tb.Fatal(err)
	}
	a.config, err = (&tfprotov6.RawState{JSON: []byte(fmt.Sprintf(configJSON, operatorSeed))}).UnmarshalWithOpts(a.typ, tfprotov6.UnmarshalOpts{})
	if err != nil {
		tb.Fatal(err)
	}
	null := a.dv(tftypes.NewValue(a.typ, nil))
	planned, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: typeName, PriorState: null, ProposedNewState: a.dv(a.config), Config: a.dv(a.config),
	})
	if err != nil || diagsHaveError(planned.Diagnostics) {
		tb.Fatalf("PlanResourceChange (create): %v %v", err, planned.Diagnostics)
	}
	applied, err := srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
		TypeName: typeName, PriorState: null, PlannedState: planned.PlannedState, Config: a.dv(a.config),
	})
	if err != nil || diagsHaveError(applied.Diagnostics) {
		tb.Fatalf("ApplyResourceChange: %v %v", err, applied.Diagnostics)
	}
	if a.state, err = applied.NewState.Unmarshal(a.typ); err != nil {
		tb.Fatal(err)
	}
	if a.stateJSON, err = json.Marshal(tftypesJSON(tb, a.state)); err != nil {
		tb.Fatal(err)
	}
	return a
}

// configureRPC configures srv as the CLI does for an empty provider block (an object of nulls).
func configureRPC(tb testing.TB, srv tfprotov6.ProviderServer) *tfprotov6.GetProviderSchemaResponse {
	tb.Helper()
	ctx := context.Background()
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		tb.Fatalf("GetProviderSchema: %v %v", err, schemas.Diagnostics)
	}
	emptyProvider, err := (&tfprotov6.RawState{JSON: []byte("{}")}).UnmarshalWithOpts(schemas.Provider.ValueType(), tfprotov6.UnmarshalOpts{})
	if err != nil {
		tb.Fatal(err)
	}
	providerConfig, err := tfprotov6.NewDynamicValue(schemas.Provider.ValueType(), emptyProvider)
	if err != nil {
		tb.Fatal(err)
	}
	if resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &providerConfig}); err != nil || diagsHaveError(resp.Diagnostics) {
		tb.Fatalf("ConfigureProvider: %v %v", err, resp.Diagnostics)
	}
	return schemas
}

func diagsHaveError(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// tftypesJSON renders a known value as the CLI stores it in a state file.
func tftypesJSON(tb testing.TB, v tftypes.Value) any {
	if v.IsNull() {
		return nil
	}
	switch {
	case v.Type().Is(tftypes.String):
		var s string
		must(tb, v.As(&s))
		return s
	case v.Type().Is(tftypes.Bool):
		var x bool
		must(tb, v.As(&x))
		return x
	case v.Type().Is(tftypes.Number):
		f := new(big.Float)
		must(tb, v.As(&f))
		return json.Number(f.Text('f', -1))
	case v.Type().Is(tftypes.Object{}), v.Type().Is(tftypes.Map{}):
		var m map[string]tftypes.Value
		must(tb, v.As(&m))
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = tftypesJSON(tb, e)
		}
		return out
	default:
		var l []tftypes.Value
		must(tb, v.As(&l))
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = tftypesJSON(tb, e)
		}
		return out
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

package provider

import (
	"bytes"
	"context"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// NewProviderServer is the provider as main serves it (protocol 6): the framework's server,
// with three of the four calls the CLI makes for every resource instance in every plan
// answered without the framework whenever the framework's answer is known to be the input:
//
//   - UpgradeResourceState for a state already at the schema's version. The framework then
//     only decodes the stored JSON with the schema's type and encodes it again; on the way out
//     it also walks the whole value to turn null list/set blocks into empty ones, which is
//     nothing for a schema without blocks.
//   - ReadResource for resources whose Read keeps the state as it is (statePassthroughReader).
//     The framework would decode the state, call the no-op Read, compare the result with
//     itself attribute by attribute (semantic equality), walk it for write-only attributes and
//     encode it again, every step touching each value in the state.
//   - PlanResourceChange in which nothing changed (prior state and proposed new state are
//     equal) for resources that opt in (unchangedPlanPassthrough), whose schema has no
//     defaults, no write-only attributes, no blocks and only plan modifiers that do nothing when
//     plan and state are equal. The framework's steps before the resource's ModifyPlan are then
//     all without effect, so the fast path calls ModifyPlan itself, with the same inputs, and
//     answers with the proposed state when ModifyPlan leaves the plan as it is and says nothing
//     (no diagnostics, replacements, private data or deferral). Anything else - a warning, say -
//     goes to the framework, which runs ModifyPlan again and answers in full.
//
// The framework's work in each of these is several walks over every value of the resource,
// each value costing a walk of the schema from its root; for natsping_account that was five
// sixths of a no-change plan's provider CPU (see "Plan cost" in the performance guide).
// ValidateResourceConfig, every other call, and every case outside the conditions above go
// to the framework unchanged.
func NewProviderServer(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer { return newProviderServer(New(version)()) }
}

func newProviderServer(p provider.Provider) tfprotov6.ProviderServer {
	return &fastPathServer{ProviderServer: providerserver.NewProtocol6(p)(), provider: p}
}

// unchangedPlanPassthrough marks a resource whose no-change plans may take the fast path
// above. ModifyPlan must have no side effects (the framework may run it a second time).
type unchangedPlanPassthrough interface {
	resource.ResourceWithModifyPlan
	unchangedPlansMayPassThrough()
}

// statePassthroughReader marks a resource whose Read returns the state it is given, unchanged
// and without diagnostics: no remote object, nothing derived at read time. A resource that
// starts reading anything must drop the marker; TestFastPathMatchesFramework compares the two
// paths for every resource that has it.
type statePassthroughReader interface {
	resource.Resource
	readPassesStateThrough()
}

type fastPathServer struct {
	tfprotov6.ProviderServer
	provider provider.Provider

	once  sync.Once
	types map[string]fastPathType
}

type fastPathType struct {
	typ             tftypes.Type
	version         int64
	upgradeDirect   bool // no blocks, no identity: the framework's same-version upgrade is decode and encode
	readPassthrough bool // statePassthroughReader without identity
	planPassthrough bool // unchangedPlanPassthrough, upgradeDirect and a schema planUnchangedIsNoOp accepts

	newResource func() resource.Resource
	schema      schema.Schema
}

func (s *fastPathServer) init(ctx context.Context) {
	s.once.Do(func() {
		s.types = map[string]fastPathType{}
		schemas, err := s.ProviderServer.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil || diagsHaveErrors(schemas.Diagnostics) {
			return // every call goes to the framework, which reports the problem
		}
		identities, err := s.ProviderServer.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
		if err != nil || diagsHaveErrors(identities.Diagnostics) {
			return
		}
		var meta provider.MetadataResponse
		s.provider.Metadata(ctx, provider.MetadataRequest{}, &meta)
		type resourceInfo struct {
			newResource func() resource.Resource
			schema      schema.Schema
			read, plan  bool
		}
		resources := map[string]resourceInfo{}
		for _, newResource := range s.provider.Resources(ctx) {
			r := newResource()
			var md resource.MetadataResponse
			r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &md)
			var sr resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &sr)
			_, read := r.(statePassthroughReader)
			_, plan := r.(unchangedPlanPassthrough)
			plan = plan && !sr.Diagnostics.HasError() && len(sr.Schema.Blocks) == 0 && planUnchangedIsNoOp(sr.Schema.Attributes)
			resources[md.TypeName] = resourceInfo{newResource: newResource, schema: sr.Schema, read: read, plan: plan}
		}
		for name, schema := range schemas.ResourceSchemas {
			if schema == nil || schema.Block == nil {
				continue
			}
			_, hasIdentity := identities.IdentitySchemas[name]
			direct := len(schema.Block.BlockTypes) == 0 && !hasIdentity
			info := resources[name]
			s.types[name] = fastPathType{
				typ:             schema.ValueType(),
				version:         schema.Version,
				upgradeDirect:   direct,
				readPassthrough: direct && info.read,
				planPassthrough: direct && info.plan,
				newResource:     info.newResource,
				schema:          info.schema,
			}
		}
	})
}

func (s *fastPathServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	s.init(ctx)
	t, ok := s.types[req.TypeName]
	if !ok || !t.upgradeDirect || req.Version != t.version || req.RawState == nil {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	// The framework's options for the same-version passthrough.
	v, err := req.RawState.UnmarshalWithOpts(t.typ, tfprotov6.UnmarshalOpts{
		ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true},
	})
	if err != nil {
		return s.ProviderServer.UpgradeResourceState(ctx, req) // with the framework's error message
	}
	state, err := tfprotov6.NewDynamicValue(t.typ, v)
	if err != nil {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &state}, nil
}

func (s *fastPathServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	s.init(ctx)
	t, ok := s.types[req.TypeName]
	// Private data goes to the framework: after an import it carries a framework marker that
	// the first Read removes.
	if !ok || !t.readPassthrough || req.CurrentState == nil || len(req.Private) > 0 || req.CurrentIdentity != nil {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState}, nil
}

func (s *fastPathServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	s.init(ctx)
	t, ok := s.types[req.TypeName]
	p, isOurs := s.provider.(*natspingProvider)
	if !ok || !t.planPassthrough || !isOurs || req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil ||
		len(req.PriorPrivate) > 0 || req.PriorIdentity != nil || req.ProviderMeta != nil {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	data := p.configured.Load()
	prior, err := req.PriorState.Unmarshal(t.typ)
	if data == nil || err != nil || prior.IsNull() {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	// The CLI encodes both the same way, so equal bytes are the common case; other encoders
	// may order map keys differently, so unequal bytes are compared as values.
	if !bytes.Equal(req.PriorState.MsgPack, req.ProposedNewState.MsgPack) || len(req.PriorState.MsgPack) == 0 {
		proposed, err := req.ProposedNewState.Unmarshal(t.typ)
		if err != nil || !proposed.Equal(prior) {
			return s.ProviderServer.PlanResourceChange(ctx, req)
		}
	}
	config, err := req.Config.Unmarshal(t.typ)
	if err != nil {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	r := t.newResource()
	if rc, ok := r.(resource.ResourceWithConfigure); ok {
		var cresp resource.ConfigureResponse
		rc.Configure(ctx, resource.ConfigureRequest{ProviderData: data}, &cresp)
		if len(cresp.Diagnostics) > 0 {
			return s.ProviderServer.PlanResourceChange(ctx, req)
		}
	}
	mreq := resource.ModifyPlanRequest{
		Config: tfsdk.Config{Raw: config, Schema: t.schema},
		Plan:   tfsdk.Plan{Raw: prior, Schema: t.schema},
		State:  tfsdk.State{Raw: prior, Schema: t.schema},
	}
	if req.ClientCapabilities != nil {
		mreq.ClientCapabilities.DeferralAllowed = req.ClientCapabilities.DeferralAllowed
	}
	mresp := resource.ModifyPlanResponse{Plan: mreq.Plan, RequiresReplace: path.Paths{}}
	r.(unchangedPlanPassthrough).ModifyPlan(ctx, mreq, &mresp)
	if len(mresp.Diagnostics) > 0 || !mresp.Plan.Raw.Equal(prior) || len(mresp.RequiresReplace) > 0 ||
		mresp.Deferred != nil || mresp.Private != nil || mresp.Identity != nil {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState}, nil
}

// planUnchangedIsNoOp reports whether, when plan and state are equal, every step the
// framework takes before a resource's ModifyPlan leaves the plan alone: no attribute has a
// default or is write-only, and every plan modifier is one that does nothing unless the plan
// differs from the state or holds unknowns (neither is the case when it equals a state).
func planUnchangedIsNoOp(attrs map[string]schema.Attribute) bool {
	for _, a := range attrs {
		v := reflect.ValueOf(a)
		if v.Kind() != reflect.Struct {
			return false
		}
		if f := v.FieldByName("Default"); f.IsValid() && !f.IsNil() {
			return false
		}
		if f := v.FieldByName("WriteOnly"); f.IsValid() && f.Bool() {
			return false
		}
		if !planModifiersAreNoOps(v.FieldByName("PlanModifiers")) {
			return false
		}
		if f := v.FieldByName("Attributes"); f.IsValid() && !planUnchangedIsNoOp(a.(schema.SingleNestedAttribute).Attributes) {
			return false
		}
		if f := v.FieldByName("NestedObject"); f.IsValid() {
			o, ok := f.Interface().(schema.NestedAttributeObject)
			if !ok || !planModifiersAreNoOps(reflect.ValueOf(o.PlanModifiers)) || !planUnchangedIsNoOp(o.Attributes) {
				return false
			}
		}
	}
	return true
}

// noOpWhenUnchanged are the plan modifiers planUnchangedIsNoOp accepts, by type: the
// framework's UseStateForUnknown (acts on unknown plan values only) and RequiresReplace,
// RequiresReplaceIf and RequiresReplaceIfConfigured (act when plan and state differ only).
var noOpWhenUnchanged = func() map[reflect.Type]bool {
	out := map[reflect.Type]bool{}
	for _, m := range []any{
		stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace(), stringplanmodifier.RequiresReplaceIfConfigured(),
		int64planmodifier.UseStateForUnknown(), int64planmodifier.RequiresReplace(), int64planmodifier.RequiresReplaceIfConfigured(),
		boolplanmodifier.UseStateForUnknown(), boolplanmodifier.RequiresReplace(), boolplanmodifier.RequiresReplaceIfConfigured(),
		listplanmodifier.UseStateForUnknown(), listplanmodifier.RequiresReplace(), listplanmodifier.RequiresReplaceIfConfigured(),
		setplanmodifier.UseStateForUnknown(), setplanmodifier.RequiresReplace(), setplanmodifier.RequiresReplaceIfConfigured(),
		mapplanmodifier.UseStateForUnknown(), mapplanmodifier.RequiresReplace(), mapplanmodifier.RequiresReplaceIfConfigured(),
		objectplanmodifier.UseStateForUnknown(), objectplanmodifier.RequiresReplace(), objectplanmodifier.RequiresReplaceIfConfigured(),
	} {
		out[reflect.TypeOf(m)] = true
	}
	return out
}()

func planModifiersAreNoOps(list reflect.Value) bool {
	if !list.IsValid() {
		return true
	}
	if list.Kind() != reflect.Slice {
		return false
	}
	for i := 0; i < list.Len(); i++ {
		m := list.Index(i)
		if m.IsNil() || !noOpWhenUnchanged[m.Elem().Type()] {
			return false
		}
	}
	return true
}

func diagsHaveErrors(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// NewProviderServer is the provider as main serves it (protocol 6): the framework's server,
// with two of the calls the CLI makes for every resource instance in every plan answered
// without the framework whenever the framework's answer is known to be the input itself:
//
//   - UpgradeResourceState for a state already at the schema's version. The framework then
//     only decodes the stored JSON with the schema's type and encodes it again; on the way out
//     it also walks the whole value to turn null list/set blocks into empty ones, which is
//     nothing for a schema without blocks.
//   - ReadResource for resources whose Read keeps the state as it is (statePassthroughReader).
//     The framework would decode the state, call the no-op Read, compare the result with
//     itself attribute by attribute (semantic equality), walk it for write-only attributes and
//     encode it again, every step touching each value in the state.
//
// Each of these walks costs the framework time in proportion to the number of values times
// the size of the schema, which for natsping_account was a third of a no-change plan's
// provider CPU (see the Plan cost section of the performance guide). Everything else,
// and every case outside the conditions above, goes to the framework unchanged.
func NewProviderServer(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		p := New(version)()
		return &fastPathServer{ProviderServer: providerserver.NewProtocol6(p)(), provider: p}
	}
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
		passthrough := map[string]bool{}
		for _, newResource := range s.provider.Resources(ctx) {
			r := newResource()
			var md resource.MetadataResponse
			r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &md)
			_, ok := r.(statePassthroughReader)
			passthrough[md.TypeName] = ok
		}
		for name, schema := range schemas.ResourceSchemas {
			if schema == nil || schema.Block == nil {
				continue
			}
			_, hasIdentity := identities.IdentitySchemas[name]
			direct := len(schema.Block.BlockTypes) == 0 && !hasIdentity
			s.types[name] = fastPathType{
				typ:             schema.ValueType(),
				version:         schema.Version,
				upgradeDirect:   direct,
				readPassthrough: direct && passthrough[name],
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

func diagsHaveErrors(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

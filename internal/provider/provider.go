package provider

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/pingone"
)

var (
	_ provider.Provider                       = (*natspingProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*natspingProvider)(nil)
	_ provider.ProviderWithFunctions          = (*natspingProvider)(nil)
	_ provider.ProviderWithValidateConfig     = (*natspingProvider)(nil)
)

// New returns the provider factory used by main and by the acceptance tests.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &natspingProvider{version: version, now: time.Now}
	}
}

type natspingProvider struct {
	version string
	now     func() time.Time
	// configured is what Configure handed to resources, for the server's fast paths (fastpath.go).
	configured atomic.Pointer[ProviderData]
}

// ProviderData is handed to every resource, data source and ephemeral resource.
type ProviderData struct {
	// Now is the provider's clock; tests inject a fixed one instead of patching globals.
	Now func() time.Time
	// PingOne is nil when no PingOne credentials were configured: the provider then works
	// offline and does not check that mapped groups exist.
	PingOne *PingOneSettings
}

// PingOneSettings is the worker-app connection used to check groups against PingOne.
type PingOneSettings struct {
	Region        string
	EnvironmentID string
	ClientID      string
	ClientSecret  string
	// AuthHostname and APIHostname override the region's hostnames (tests, private endpoints).
	AuthHostname string
	APIHostname  string
}

type providerModel struct {
	PingOne *pingOneModel `tfsdk:"pingone"`
}

type pingOneModel struct {
	RegionCode    types.String `tfsdk:"region_code"`
	Region        types.String `tfsdk:"region"` // deprecated alias of region_code
	EnvironmentID types.String `tfsdk:"environment_id"`
	ClientID      types.String `tfsdk:"client_id"`
	ClientSecret  types.String `tfsdk:"client_secret"`
	AuthHostname  types.String `tfsdk:"auth_hostname"`
	APIHostname   types.String `tfsdk:"api_hostname"`
}

func (p *natspingProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "natsping"
	resp.Version = p.version
}

func (p *natspingProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages NATS operators, accounts, users and roles as signed JWTs, and binds a Ping Identity " +
			"(PingOne or PingFederate) OIDC issuer to NATS through an auth-callout service.",
		Attributes: map[string]schema.Attribute{
			"pingone": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "PingOne worker application used to resolve group names to ids and to detect renamed or " +
					"deleted groups. Each attribute falls back to its `PINGONE_*` environment variable. Without it the " +
					"provider works offline and does not check that mapped groups exist.",
				Attributes: map[string]schema.Attribute{
					"region_code": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "PingOne region code: `" + strings.Join(pingone.Regions(), "`, `") + "`, named as " +
							"in the PingOne provider. Env: `PINGONE_REGION_CODE`. Default `NA`.",
						Validators: []validator.String{stringvalidator.OneOf(pingone.Regions()...)},
					},
					"region": schema.StringAttribute{
						Optional:            true,
						DeprecationMessage:  "Use region_code, the name the PingOne provider uses; region will be removed in a future version.",
						MarkdownDescription: "Deprecated alias of `region_code`. Setting both to different values is an error.",
						Validators:          []validator.String{stringvalidator.OneOf(pingone.Regions()...)},
					},
					"environment_id": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "PingOne environment id. Env: `PINGONE_ENVIRONMENT_ID`.",
					},
					"client_id": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Client id of a worker application allowed to read groups. Env: `PINGONE_CLIENT_ID`.",
					},
					"client_secret": schema.StringAttribute{
						Optional:            true,
						Sensitive:           true,
						MarkdownDescription: "Client secret of the worker application. Env: `PINGONE_CLIENT_SECRET`.",
					},
					"auth_hostname": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Overrides the authentication hostname (`auth.pingone.<tld>`), optionally with a port. " +
							"Env: `PINGONE_AUTH_SERVICE_HOSTNAME` (as for the PingOne provider), or the older `PINGONE_AUTH_HOSTNAME`.",
					},
					"api_hostname": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Overrides the Management API hostname (`api.pingone.<tld>`), optionally with a port. " +
							"Env: `PINGONE_API_SERVICE_HOSTNAME` (as for the PingOne provider), or the older `PINGONE_API_HOSTNAME`.",
					},
				},
			},
		},
	}
}

// ValidateConfig reports settings that contradict each other, so `validate` shows them already.
func (p *natspingProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.PingOne == nil {
		return
	}
	checkRegionAlias(cfg.PingOne, &resp.Diagnostics)
}

func (p *natspingProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	settings, configured := resolvePingOneSettings(cfg.PingOne, os.Getenv, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &ProviderData{Now: p.now}
	if configured {
		data.PingOne = &settings
	}
	resp.DataSourceData = data
	resp.ResourceData = data
	resp.EphemeralResourceData = data
	p.configured.Store(data)
}

func (p *natspingProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		// resources are registered here, one line each
		NewOperatorResource,
		NewUserResource,
		NewAccountResource,
		NewRoleMappingResource,
		NewTrustResource,
		NewResolverPushResource,
		NewOffboardingResource,
	}
}

func (p *natspingProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		// data sources are registered here, one line each
		NewServerConfigDataSource,
		NewJWTDataSource,
		NewPingGroupsDataSource,
		NewOIDCDiscoveryDataSource,
		NewAccessViewDataSource,
	}
}

func (p *natspingProvider) EphemeralResources(_ context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		// ephemeral resources are registered here, one line each
		NewUserCredsEphemeralResource,
	}
}

func (p *natspingProvider) Functions(_ context.Context) []func() function.Function {
	return []func() function.Function{
		// provider-defined functions are registered here, one line each
		NewDecodeJWTFunction,
		NewAllowsFunction,
		NewRoleAllowsFunction,
		NewAccessViewFunction,
	}
}

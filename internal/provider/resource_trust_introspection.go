package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// Opaque (reference) tokens cannot be read by the callout, so a trust may let it ask the
// issuer about them (RFC 7662). The endpoint is reviewed like the JWKS: when the block names
// none it is read from discovery while planning and shown as introspection_endpoint, so the
// plan says where the callout will send tokens and its client secret, and an outage at Ping
// keeps the reviewed endpoint as it keeps the reviewed keys.

// trustIntrospectionModel is the introspection attribute.
type trustIntrospectionModel struct {
	Endpoint     types.String `tfsdk:"endpoint"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	AuthMethod   types.String `tfsdk:"auth_method"`
	ReuseFor     types.String `tfsdk:"reuse_for"`
}

var introspectionEndpointPath = path.Root("introspection").AtName("endpoint")

func introspectionAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Accept opaque (reference) tokens, which the callout cannot verify itself, by asking the " +
			"issuer's RFC 7662 introspection endpoint; JWTs are still verified locally. The answer passes the same " +
			"policy as a JWT (audiences, scopes, lifetime, groups claim). By default every connect asks the endpoint, " +
			"so a token revoked at Ping is refused on its next connect (see `reuse_for`); during an outage of the " +
			"endpoint tokens answered before keep working until their `exp` and new ones are refused. Calls are " +
			"rate-limited, so a flood of invented tokens cannot hammer Ping.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The introspection endpoint, e.g. `https://pf.example.com/as/introspect.oauth2` " +
					"for PingFederate. Omitted: the issuer's discovery `introspection_endpoint`, read while planning " +
					"and shown in `introspection_endpoint`; required with `pinned_jwks`, which reads no discovery. " +
					"`https://` only (`http://` on loopback with `allow_insecure_http`), without credentials in the URL.",
			},
			"client_id": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Client the callout authenticates to the endpoint as, which Ping must allow to " +
					"introspect: in PingFederate an OAuth client whose allowed grant types include *Access Token " +
					"Validation*, in PingOne the custom resource's id (the audience of the tokens) with its " +
					"introspection authentication method matching `auth_method`.",
				Validators: []validator.String{checkString("Invalid client id",
					"must be an OAuth client id without spaces", calloutconfig.CheckClientID)},
			},
			"client_secret": schema.StringAttribute{
				Required: true, Sensitive: true,
				MarkdownDescription: "That client's secret. Secret: shown in no plan and no log, but stored in the " +
					"state and in `callout_config`.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"reuse_for": schema.StringAttribute{
				Optional: true, Computed: true,
				Default: stringdefault.StaticString(calloutconfig.ShortDuration(0)),
				MarkdownDescription: "How long a positive answer is reused without asking again while the endpoint " +
					"answers. `\"0s\"` asks on every connect, so a revoked token is refused on its next connect; a " +
					"longer time takes load off Ping during reconnect storms, and a token revoked at Ping keeps " +
					"connecting for up to that long. " + durationRangeDoc(calloutconfig.IntrospectionReuseBounds, 0),
				Validators: []validator.String{durationWithin(calloutconfig.IntrospectionReuseBounds)},
			},
			"auth_method": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("client_secret_basic"),
				MarkdownDescription: "How the client authenticates: `client_secret_basic` (HTTP Basic) or " +
					"`client_secret_post` (form parameters). Default `\"client_secret_basic\"`.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1), checkString("Unsupported client authentication",
					"client_secret_basic or client_secret_post", calloutconfig.CheckIntrospectionAuthMethod)},
			},
		},
	}
}

var introspectionEndpointAttribute = schema.StringAttribute{Computed: true,
	MarkdownDescription: "Where the callout introspects opaque tokens: `introspection.endpoint`, or the issuer's " +
		"discovery `introspection_endpoint` read while planning; null without `introspection`."}

// introspectionConfig reads the introspection attribute: nil when it is null, known false
// while it is unknown.
func (m *trustModel) introspectionConfig(ctx context.Context) (in *trustIntrospectionModel, known bool) {
	if m.Introspection.IsUnknown() {
		return nil, false
	}
	if m.Introspection.IsNull() {
		return nil, true
	}
	in = new(trustIntrospectionModel)
	if diags := m.Introspection.As(ctx, in, basetypes.ObjectAsOptions{}); diags.HasError() {
		return nil, false
	}
	return in, true
}

// validateIntrospection reports what needs only the configuration.
func validateIntrospection(ctx context.Context, m *trustModel, diags *diag.Diagnostics) {
	in, known := m.introspectionConfig(ctx)
	if !known || in == nil {
		return
	}
	switch {
	case in.Endpoint.IsUnknown():
	case !in.Endpoint.IsNull():
		if !m.AllowInsecureHTTP.IsUnknown() {
			checkIntrospectionEndpoint(in.Endpoint.ValueString(), m.AllowInsecureHTTP, "", diags)
		}
	case !m.PinnedJWKS.IsNull() && !m.PinnedJWKS.IsUnknown():
		endpointNeedsDiscovery(diags)
	}
}

func endpointNeedsDiscovery(diags *diag.Diagnostics) {
	diags.AddAttributeError(introspectionEndpointPath, "Introspection endpoint required",
		"pinned_jwks is set, so no discovery document is read and the issuer's introspection_endpoint cannot be "+
			"taken from it. Set introspection.endpoint (PingFederate: https://<host>/as/introspect.oauth2).")
}

// checkIntrospectionEndpoint applies calloutconfig's endpoint rule with the attribute path;
// from names where a discovered endpoint came from.
func checkIntrospectionEndpoint(endpoint string, allowInsecure types.Bool, from string, diags *diag.Diagnostics) bool {
	err := calloutconfig.CheckIntrospectionEndpoint(endpoint, allowInsecure.ValueBool())
	if err == nil {
		return true
	}
	detail := sentence(err.Error())
	if from != "" {
		detail = fmt.Sprintf("The introspection_endpoint of %s is refused: %s Set introspection.endpoint to an "+
			"endpoint the callout may use.", from, detail)
	}
	diags.AddAttributeError(introspectionEndpointPath, "Introspection endpoint refused", detail)
	return false
}

// planIntrospectionEndpoint sets introspection_endpoint. found is the discovery document read
// while planning, nil when none was read: because the issuer is unknown yet (the keys are then
// unknown too), because of pinned_jwks, or because the issuer could not be read and the
// reviewed keys of state stand in, in which case the reviewed endpoint does as well.
func planIntrospectionEndpoint(ctx context.Context, m, state *trustModel, found *oidc.DiscoveryDocument, diags *diag.Diagnostics) {
	in, known := m.introspectionConfig(ctx)
	switch {
	case !known:
		m.IntrospectionEndpoint = types.StringUnknown()
	case in == nil:
		m.IntrospectionEndpoint = types.StringNull()
	case !in.Endpoint.IsNull():
		// Known or not, a configured endpoint is used as written; ValidateConfig checked it.
		m.IntrospectionEndpoint = in.Endpoint
	case m.PinnedJWKS.IsUnknown():
		m.IntrospectionEndpoint = types.StringUnknown()
	case !m.PinnedJWKS.IsNull():
		// Reached only when pinned_jwks was unknown while validating, e.g. at apply.
		m.IntrospectionEndpoint = types.StringUnknown()
		endpointNeedsDiscovery(diags)
	case found != nil:
		m.IntrospectionEndpoint = types.StringUnknown()
		from := "the discovery document at " + oidc.DiscoveryURL(found.Issuer)
		if found.IntrospectionEndpoint == "" {
			diags.AddAttributeError(introspectionEndpointPath, "Issuer names no introspection endpoint",
				fmt.Sprintf("introspection.endpoint is omitted, so it is taken from the issuer's discovery document, "+
					"but %s has no introspection_endpoint. Set introspection.endpoint (PingFederate: "+
					"https://<host>/as/introspect.oauth2).", from))
			return
		}
		if checkIntrospectionEndpoint(found.IntrospectionEndpoint, m.AllowInsecureHTTP, from, diags) {
			m.IntrospectionEndpoint = types.StringValue(found.IntrospectionEndpoint)
		}
	case m.JWKSURI.IsUnknown():
		m.IntrospectionEndpoint = types.StringUnknown()
	case reviewedEndpointFromDiscovery(ctx, state):
		m.IntrospectionEndpoint = state.IntrospectionEndpoint
	default:
		m.IntrospectionEndpoint = types.StringUnknown()
		diags.AddAttributeError(introspectionEndpointPath, "Cannot read the issuer's introspection endpoint",
			"introspection.endpoint is omitted, so it is taken from the issuer's discovery document, which cannot be "+
				"read now (see the warning about the issuer), and the last apply read no endpoint from it that could "+
				"stand in. Set introspection.endpoint, or plan again once the issuer answers.")
	}
}

// reviewedEndpointFromDiscovery reports whether state holds an endpoint read from discovery:
// only that one may stand in for discovery; one configured then says nothing about it.
func reviewedEndpointFromDiscovery(ctx context.Context, state *trustModel) bool {
	if state == nil || state.IntrospectionEndpoint.IsNull() || state.IntrospectionEndpoint.IsUnknown() {
		return false
	}
	in, known := state.introspectionConfig(ctx)
	return known && in != nil && in.Endpoint.IsNull()
}

// introspectionDocument is the introspection section of the callout config, nil without one.
func (m *trustModel) introspectionDocument(ctx context.Context) *calloutconfig.Introspection {
	in, _ := m.introspectionConfig(ctx)
	if in == nil {
		return nil
	}
	// Validated at plan time; an unparsable value cannot reach here.
	reuse, _ := time.ParseDuration(in.ReuseFor.ValueString())
	return &calloutconfig.Introspection{
		Endpoint:     m.IntrospectionEndpoint.ValueString(),
		ClientID:     in.ClientID.ValueString(),
		ClientSecret: in.ClientSecret.ValueString(),
		AuthMethod:   in.AuthMethod.ValueString(),
		ReuseFor:     calloutconfig.Duration(reuse),
	}
}

// introspectionNeedsDiscovery reports whether introspection_endpoint can only come from the
// issuer's discovery document.
func introspectionNeedsDiscovery(ctx context.Context, m *trustModel) bool {
	in, known := m.introspectionConfig(ctx)
	return known && in != nil && in.Endpoint.IsNull() && m.PinnedJWKS.IsNull()
}

// discoverDocument reads only the discovery document, for an apply that must resolve the
// introspection endpoint after the keys were already reviewed.
func discoverDocument(ctx context.Context, m *trustModel, diags *diag.Diagnostics) *oidc.DiscoveryDocument {
	client, err := oidc.NewHTTPClient(m.CABundlePEM.ValueString(), m.AllowInsecureHTTP.ValueBool(), issuerHTTPTimeout)
	if err == nil {
		var doc *oidc.DiscoveryDocument
		if doc, err = oidc.Discover(ctx, client, m.Issuer.ValueString()); err == nil {
			return doc
		}
	}
	diags.AddAttributeError(path.Root("issuer"), "Cannot read the Ping issuer's discovery document", err.Error())
	return nil
}

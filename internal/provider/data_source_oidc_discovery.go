package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

var (
	_ datasource.DataSourceWithConfigure      = (*oidcDiscoveryDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*oidcDiscoveryDataSource)(nil)
)

// NewOIDCDiscoveryDataSource reads an issuer's OpenID configuration and signing keys.
func NewOIDCDiscoveryDataSource() datasource.DataSource { return &oidcDiscoveryDataSource{} }

type oidcDiscoveryDataSource struct{ data *ProviderData }

type oidcDiscoveryModel struct {
	Issuer                           types.String `tfsdk:"issuer"`
	CABundlePEM                      types.String `tfsdk:"ca_bundle_pem"`
	AllowInsecureHTTP                types.Bool   `tfsdk:"allow_insecure_http"`
	JWKSURI                          types.String `tfsdk:"jwks_uri"`
	TokenEndpoint                    types.String `tfsdk:"token_endpoint"`
	AuthorizationEndpoint            types.String `tfsdk:"authorization_endpoint"`
	UserinfoEndpoint                 types.String `tfsdk:"userinfo_endpoint"`
	IDTokenSigningAlgValuesSupported types.List   `tfsdk:"id_token_signing_alg_values_supported"`
	ScopesSupported                  types.List   `tfsdk:"scopes_supported"`
	ClaimsSupported                  types.List   `tfsdk:"claims_supported"`
	JWKSKeys                         types.List   `tfsdk:"jwks_keys"`
}

// jwksKeyAttrTypes is one entry of jwks_keys, here and in natsping_trust.
var jwksKeyAttrTypes = map[string]attr.Type{
	"kid":        types.StringType,
	"key_type":   types.StringType,
	"algorithm":  types.StringType,
	"use":        types.StringType,
	"thumbprint": types.StringType,
}

// issuerHTTPTimeout bounds each request to the issuer while planning.
const issuerHTTPTimeout = oidc.DefaultHTTPTimeout

const jwksKeysDoc = "The issuer's signing keys, without key material, sorted by `kid` then `thumbprint`: `kid`, " +
	"`key_type` (`RSA`, `EC`, `OKP`), `algorithm` and `use` (null when the JWKS does not say; PingOne omits `alg`) " +
	"and `thumbprint` (RFC 7638 SHA-256, base64url). Keys that cannot verify signatures (encryption keys, " +
	"symmetric keys, RSA under 2048 bits) are left out, as the callout ignores them."

func (d *oidcDiscoveryDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_oidc_discovery"
}

func (d *oidcDiscoveryDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *oidcDiscoveryDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	list := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: desc}
	}
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads an OpenID Connect issuer's discovery document (`<issuer>/.well-known/openid-configuration`) " +
			"and its JWKS on every plan, for PingOne (`https://auth.pingone.<tld>/<environment id>/as`) or PingFederate. " +
			"The document must name exactly the configured issuer. Use it to review what an issuer publishes before " +
			"trusting it with `natsping_trust`; it needs no PingOne credentials.",
		Attributes: map[string]schema.Attribute{
			"issuer": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Issuer URL, exactly as tokens carry it in `iss`. Must be `https://`, unless " +
					"`allow_insecure_http` is set and the host is a loopback address.",
			},
			"ca_bundle_pem": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PEM certificates trusted for the issuer on top of the system roots (a PingFederate behind a private CA).",
				Validators:          []validator.String{validCABundle()},
			},
			"allow_insecure_http": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Permit an `http://` issuer on a loopback address (local test issuers only). Default `false`.",
			},
			"jwks_uri":                              str("Where the issuer publishes its signing keys (PingOne: `<issuer>/jwks`, PingFederate: `/pf/JWKS`)."),
			"token_endpoint":                        str("Token endpoint, or null."),
			"authorization_endpoint":                str("Authorization endpoint, or null."),
			"userinfo_endpoint":                     str("UserInfo endpoint, or null."),
			"id_token_signing_alg_values_supported": list("Signing algorithms the issuer says it uses for ID tokens, as published."),
			"scopes_supported":                      list("Scopes the issuer advertises, as published."),
			"claims_supported":                      list("Claims the issuer advertises, as published."),
			"jwks_keys": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: jwksKeysDoc,
				NestedObject:        schema.NestedAttributeObject{Attributes: jwksKeyDataSourceAttributes()},
			},
		},
	}
}

func jwksKeyDataSourceAttributes() map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name := range jwksKeyAttrTypes {
		out[name] = schema.StringAttribute{Computed: true}
	}
	return out
}

// ValidateConfig applies the https rule before anything is fetched.
func (d *oidcDiscoveryDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m oidcDiscoveryModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Issuer.IsUnknown() || m.AllowInsecureHTTP.IsUnknown() {
		return
	}
	checkIssuerURL(m.Issuer, m.AllowInsecureHTTP, &resp.Diagnostics)
}

func (d *oidcDiscoveryDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m oidcDiscoveryModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	found, err := discoverIssuer(ctx, m.Issuer.ValueString(), m.CABundlePEM.ValueString(), m.AllowInsecureHTTP.ValueBool())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("issuer"), "Cannot read the OIDC issuer", err.Error())
		return
	}
	doc := found.doc
	m.JWKSURI = types.StringValue(doc.JWKSURI)
	m.TokenEndpoint = stringOrNull(doc.TokenEndpoint)
	m.AuthorizationEndpoint = stringOrNull(doc.AuthorizationEndpoint)
	m.UserinfoEndpoint = stringOrNull(doc.UserinfoEndpoint)
	m.IDTokenSigningAlgValuesSupported = stringList(doc.IDTokenSigningAlgValuesSupported)
	m.ScopesSupported = stringList(doc.ScopesSupported)
	m.ClaimsSupported = stringList(doc.ClaimsSupported)
	m.JWKSKeys = jwksKeysValue(found.keys)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// discovered is what natsping reads from an issuer: its configuration and signing keys.
type discovered struct {
	doc  *oidc.DiscoveryDocument
	jwks []byte
	keys []oidc.KeyFingerprint
}

// discoverIssuer fetches the discovery document and the JWKS it points at. Errors name the
// URL and the cause, and are meant as a diagnostic's detail.
func discoverIssuer(ctx context.Context, issuer, caBundlePEM string, allowInsecureHTTP bool) (*discovered, error) {
	if err := calloutconfig.CheckIssuerURL(issuer, allowInsecureHTTP); err != nil {
		return nil, err
	}
	client, err := oidc.NewHTTPClient(caBundlePEM, allowInsecureHTTP, issuerHTTPTimeout)
	if err != nil {
		return nil, err
	}
	doc, err := oidc.Discover(ctx, client, issuer)
	if err != nil {
		return nil, err
	}
	if err := calloutconfig.CheckIssuerURL(doc.JWKSURI, allowInsecureHTTP); err != nil {
		return nil, fmt.Errorf("the discovery document's jwks_uri: %w", err)
	}
	jwks, err := oidc.FetchJWKS(ctx, client, doc.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", issuer, err)
	}
	keys, err := oidc.KeyFingerprints(jwks)
	if err != nil {
		return nil, fmt.Errorf("JWKS at %s: %w", doc.JWKSURI, err)
	}
	return &discovered{doc: doc, jwks: jwks, keys: keys}, nil
}

func jwksKeysValue(keys []oidc.KeyFingerprint) types.List {
	elems := make([]attr.Value, 0, len(keys))
	for _, k := range keys {
		elems = append(elems, types.ObjectValueMust(jwksKeyAttrTypes, map[string]attr.Value{
			"kid":        stringOrNull(k.KID),
			"key_type":   types.StringValue(k.KeyType),
			"algorithm":  stringOrNull(k.Algorithm),
			"use":        stringOrNull(k.Use),
			"thumbprint": types.StringValue(k.Thumbprint),
		}))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: jwksKeyAttrTypes}, elems)
}

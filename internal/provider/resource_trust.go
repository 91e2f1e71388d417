package provider

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var (
	_ resource.ResourceWithConfigure      = (*trustResource)(nil)
	_ resource.ResourceWithValidateConfig = (*trustResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*trustResource)(nil)
)

// NewTrustResource is the natsping_trust resource.
func NewTrustResource() resource.Resource { return &trustResource{} }

type trustResource struct{ data *ProviderData }

type trustModel struct {
	Name                   types.String         `tfsdk:"name"`
	OperatorSigner         types.String         `tfsdk:"operator_signer"`
	OperatorJWT            types.String         `tfsdk:"operator_jwt"`
	Issuer                 types.String         `tfsdk:"issuer"`
	Audiences              types.Set            `tfsdk:"audiences"`
	Algorithms             types.Set            `tfsdk:"algorithms"`
	MaxTokenLifetime       types.String         `tfsdk:"max_token_lifetime"`
	ClockSkew              types.String         `tfsdk:"clock_skew"`
	RequiredScopes         types.Set            `tfsdk:"required_scopes"`
	ForbiddenScopes        types.Set            `tfsdk:"forbidden_scopes"`
	GroupsClaim            types.String         `tfsdk:"groups_claim"`
	NameClaims             types.List           `tfsdk:"name_claims"`
	CABundlePEM            types.String         `tfsdk:"ca_bundle_pem"`
	AllowInsecureHTTP      types.Bool           `tfsdk:"allow_insecure_http"`
	PinnedJWKS             jsontypes.Normalized `tfsdk:"pinned_jwks"`
	JWKSMinRefreshInterval types.String         `tfsdk:"jwks_min_refresh_interval"`
	RoleMappings           types.List           `tfsdk:"role_mappings"`
	NATSURLs               types.List           `tfsdk:"nats_urls"`
	QueueGroup             types.String         `tfsdk:"queue_group"`
	AuditSubject           types.String         `tfsdk:"audit_subject"`
	XKey                   types.Bool           `tfsdk:"xkey"`
	StrictIssuerChecks     types.Bool           `tfsdk:"strict_issuer_checks"`
	Introspection          types.Object         `tfsdk:"introspection"`
	ExpirySpreadPercent    types.Float64        `tfsdk:"expiry_spread_percent"`
	Offboarding            types.Object         `tfsdk:"offboarding"`

	AccountPublicKey      types.String `tfsdk:"account_public_key"`
	AccountSeed           types.String `tfsdk:"account_seed"`
	AccountSigningKey     types.String `tfsdk:"account_signing_key"`
	AccountJWT            types.String `tfsdk:"account_jwt"`
	IssuerPublicKey       types.String `tfsdk:"issuer_public_key"`
	AllowedAccounts       types.List   `tfsdk:"allowed_accounts"`
	CalloutUserPublicKey  types.String `tfsdk:"callout_user_public_key"`
	CalloutUserCreds      types.String `tfsdk:"callout_user_creds"`
	XKeyPublicKey         types.String `tfsdk:"xkey_public_key"`
	XKeySeed              types.String `tfsdk:"xkey_seed"`
	SentinelPublicKey     types.String `tfsdk:"sentinel_public_key"`
	SentinelJWT           types.String `tfsdk:"sentinel_jwt"`
	JWKSURI               types.String `tfsdk:"jwks_uri"`
	JWKSKeys              types.List   `tfsdk:"jwks_keys"`
	IntrospectionEndpoint types.String `tfsdk:"introspection_endpoint"`
	CalloutConfig         types.String `tfsdk:"callout_config"`

	SigningKeyRotation       types.Object  `tfsdk:"signing_key_rotation"`
	SigningKeyRotationStatus types.Object  `tfsdk:"signing_key_rotation_status"`
	XKeyRotation             types.Object  `tfsdk:"xkey_rotation"`
	XKeyRotationStatus       types.Object  `tfsdk:"xkey_rotation_status"`
	rotation                 trustRotation `tfsdk:"-"`
}

func (r *trustResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_trust"
}

func (r *trustResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *trustResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	generated := func(desc string, sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Sensitive: sensitive, MarkdownDescription: desc, PlanModifiers: keep}
	}
	nameList := func(desc string, def ...string) schema.ListAttribute {
		return schema.ListAttribute{
			ElementType: types.StringType, Optional: true, Computed: true, MarkdownDescription: desc,
			Default: listdefault.StaticValue(stringList(def)),
		}
	}
	scopes := func(desc string) schema.SetAttribute {
		return schema.SetAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: desc,
			Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(
				checkString("Invalid scope", "must be a scope token (no spaces or quotes)", calloutconfig.CheckScope))}}
	}
	duration := func(desc string, def time.Duration, b calloutconfig.Bounds) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Computed: true,
			Default:             stringdefault.StaticString(calloutconfig.ShortDuration(def)),
			MarkdownDescription: desc + " " + durationRangeDoc(b, def),
			Validators:          []validator.String{durationWithin(b)}}
	}
	claimPath := checkString("Invalid claim path", "must be a claim name or dot path such as \"groups\"", calloutconfig.CheckClaimPath)
	nameClaims := nameList("Claims tried in order for the person's name in NATS (the user name and audit lines); "+
		"the first non-empty string wins. Default `[\"preferred_username\", \"email\", \"sub\"]`.",
		"preferred_username", "email", "sub")
	nameClaims.Validators = []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(),
		listvalidator.ValueStringsAre(claimPath)}
	natsURLs := nameList("NATS servers the callout service connects to (`nats://`, `tls://`, `ws://`, `wss://`). "+
		"Default `[\"nats://127.0.0.1:4222\"]`.", "nats://127.0.0.1:4222")
	natsURLs.Validators = []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(validURL(
		natsjwt.ValidateOperatorServiceURL, "a nats://, tls://, ws:// or wss:// URL with a host"))}

	resp.Schema = schema.Schema{
		MarkdownDescription: "Trusts one Ping Identity OIDC issuer (PingOne or PingFederate) for NATS through auth " +
			"callout. It owns the callout account (with a signing key, the callout service user, an xkey and a " +
			"deny-all sentinel), collects `natsping_role_mapping` rules and renders `callout_config`, the document " +
			"the `natsping-callout` service runs on.\n\n" +
			"While planning it reads the issuer's discovery document and JWKS (unless `pinned_jwks` is set): when " +
			"Ping has rotated its keys the plan shows an in-place update of `jwks_keys`. An unreachable issuer fails " +
			"the plan of a new trust (fail closed); an existing one warns and keeps the reviewed keys unless " +
			"`strict_issuer_checks` is set. Keys are generated on create and kept; `account_jwt` is re-signed only when its " +
			"inputs (name, signer, allowed accounts, xkey) change.\n\n" +
			"With `introspection` the callout also accepts opaque (reference) tokens by asking the issuer about them; " +
			"the endpoint is shown in the plan as `introspection_endpoint`.\n\n" +
			"**Security notice:** seeds, the callout creds, `introspection.client_secret` and `callout_config` are " +
			"stored unencrypted in the state.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("CALLOUT"),
				MarkdownDescription: "Name of the callout account. Default `\"CALLOUT\"`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"operator_signer": schema.StringAttribute{
				Required: true, Sensitive: true,
				MarkdownDescription: "Signs the callout account JWT: the `signer` output of `natsping_operator` or a raw " +
					"operator seed (`SO…`). Changing it re-signs the JWT and shows the new `issuer_public_key` in the plan.",
				Validators: []validator.String{validSigner(natsjwt.KindOperator)},
			},
			"operator_jwt": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "JWT of the operator `operator_signer` signs for, usually `natsping_operator.<name>.jwt`. " +
					"When set, the plan refuses a signer nats-server would refuse for the callout account: the operator's " +
					"identity seed under `strict_signing_keys`, or a key of another operator (the same check as " +
					"`natsping_account.operator_jwt`). It is checked, never signed into the callout account.",
			},
			"issuer": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The Ping issuer, exactly as tokens carry it in `iss`: " +
					"`https://auth.pingone.<tld>/<environment id>/as` for PingOne, the base URL for PingFederate. " +
					"`https://` only, unless `allow_insecure_http` is set and the host is a loopback address.",
			},
			"audiences": schema.SetAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: "Accepted `aud` values (at least one): the resource's audience for access tokens, " +
					"the application's client id for ID tokens. Tokens for any other client are refused.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
			},
			"algorithms": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default: setdefault.StaticValue(stringSet([]string{"RS256"})),
				MarkdownDescription: "Accepted JWS algorithms: `" + strings.Join(calloutconfig.SupportedAlgorithms(), "`, `") +
					"`. `none` and `HS*` are refused. Default `[\"RS256\"]` (PingOne signs with RS256).",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(
					checkString("Unsupported algorithm", "must be one of "+strings.Join(calloutconfig.SupportedAlgorithms(), ", "),
						func(alg string) error {
							err := calloutconfig.CheckAlgorithm(alg)
							if _, forbidden := calloutconfig.ForbiddenAlgorithm(alg); forbidden {
								return summarized{"Algorithm refused", err}
							}
							return err
						}))},
			},
			"max_token_lifetime": duration("Longest accepted token lifetime (`exp` − `iat`), as a Go duration: tokens "+
				"minted to live longer are refused, so a lifetime raised in Ping cannot silently extend NATS access. Keep "+
				"Ping's token lifetime at or below it.", calloutconfig.DefaultMaxTokenLifetime, calloutconfig.TokenLifetimeBounds),
			"clock_skew": duration("Tolerance for a Ping clock that runs ahead of the callout host's: `iat` and `nbf` "+
				"may lie up to this far in the future. It never extends `exp`: a token whose `exp` has passed is refused, "+
				"as `expired` once it is more than `clock_skew` late and as `session_already_expired` within it, because "+
				"the NATS user JWT the callout issues expires with the token and so could not outlive it.",
				calloutconfig.DefaultClockSkew, calloutconfig.ClockSkewBounds),
			"required_scopes": scopes("Scopes every token must carry (all of them)."),
			"forbidden_scopes": scopes("Scopes that make a token unacceptable, e.g. administrative scopes that grant " +
				"more than NATS access. Must not overlap `required_scopes`."),
			"groups_claim": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Claim holding the person's group names or ids, as a dot path (`groups`, " +
					"`realm.groups`). PingOne puts no groups in tokens by default: add an attribute mapping such as " +
					"`groups` = `${user.memberOfGroupNames}`.",
				Validators: []validator.String{claimPath},
			},
			"name_claims": nameClaims,
			"ca_bundle_pem": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "PEM certificates trusted for the issuer on top of the system roots, for a " +
					"PingFederate behind a private CA or a TLS-inspecting proxy. Used while planning and by the callout " +
					"service. It extends rather than replaces the roots because PingOne sits behind public CAs " +
					"(`natsping_resolver_push.ca_bundle_pem`, for your own NATS servers, replaces them).",
				Validators: []validator.String{validCABundle()},
			},
			"allow_insecure_http": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Permit an `http://` issuer on a loopback address (local test issuers only; any " +
					"other host stays refused). Default `false`.",
			},
			"pinned_jwks": schema.StringAttribute{
				CustomType: jsontypes.NormalizedType{}, Optional: true,
				MarkdownDescription: "A literal JWK Set (public keys only) for air-gapped setups: no discovery or JWKS " +
					"request is made, neither while planning nor by the callout, and keys never refresh. Update it " +
					"before Ping rotates its keys.",
			},
			"jwks_min_refresh_interval": duration("Least time between the callout's scheduled JWKS refreshes. The "+
				"callout refreshes as often as Ping's `Cache-Control: max-age` asks, but never more often than this, "+
				"and at least every 15 minutes (or every `jwks_min_refresh_interval` if that is longer), so a key Ping "+
				"publishes ahead of use is known before its first token. Refetches for an unknown key id are separate: "+
				"coalesced and at most one per second, so forged `kid`s cost Ping about one request a second and delay "+
				"a key Ping never announced by about a second.", calloutconfig.DefaultJWKSMinRefreshInterval,
				calloutconfig.JWKSRefreshBounds),
			"role_mappings": schema.ListAttribute{
				ElementType: types.StringType, Required: true, Sensitive: true,
				MarkdownDescription: "The `rule` outputs of the `natsping_role_mapping` resources to enforce (at least " +
					"one; mapping names must be unique). Their accounts become the callout account's `allowed_accounts`.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"nats_urls": natsURLs,
			"queue_group": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("natsping-callout"),
				MarkdownDescription: "Queue group shared by callout replicas. Default `\"natsping-callout\"`.",
				Validators:          []validator.String{validSubject(natsjwt.SubjectOptions{})},
			},
			"audit_subject": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Subject in the callout account that receives every audit line as well as the " +
					"service's log. Unset: log only.",
				Validators: []validator.String{validSubject(natsjwt.SubjectOptions{})},
			},
			"xkey": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Encrypt authorization requests and responses with the callout's curve key, so " +
					"tokens never cross the system in the clear. Default `true`.",
			},
			"strict_issuer_checks": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: strictIssuerChecksDoc,
			},
			"introspection":               introspectionAttribute(),
			"offboarding":                 offboardingAttribute(),
			"signing_key_rotation":        keyRotationAttribute("the callout account's signing key (`account_signing_key`), which signs the callout user and the sentinel", trustSigningGraceDoc),
			"signing_key_rotation_status": rotationStatusAttribute("Where the rotation of `account_signing_key` stands; null without `signing_key_rotation`."),
			"xkey_rotation":               keyRotationAttribute("the callout's xkey (`xkey_public_key`, `xkey_seed`)", trustXKeyGraceDoc),
			"xkey_rotation_status":        rotationStatusAttribute("Where the rotation of the xkey stands; null without `xkey_rotation`."),
			"expiry_spread_percent":       expirySpreadAttribute(),

			"account_public_key":  generated("Public key (`A…`) of the callout account, generated on create and kept.", false),
			"account_seed":        generated("Identity seed (`SA…`) of the callout account; the callout signs authorization responses with it. Secret.", true),
			"account_signing_key": generated("Public key of the callout account's signing key, which signed the callout user and the sentinel (strict-signing-key operators refuse users signed by an identity key). Its seed is not kept: nothing else needs it.", false),
			"account_jwt": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The callout account JWT: `authorization` with `auth_users` = the callout user, " +
					"`allowed_accounts` and the xkey. Give it to the resolver with the other account JWTs."},
			"issuer_public_key": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Public key of the operator key that signs `account_jwt`, computed from `operator_signer` while planning."},
			"allowed_accounts": schema.ListAttribute{ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Sorted public keys of the accounts the callout may place users in: those of `role_mappings`."},
			"callout_user_public_key": generated("Public key (`U…`) of the callout service user.", false),
			"callout_user_creds":      generated("Creds of the callout service user. Secret.", true),
			"xkey_public_key":         generated("The callout's curve public key (`X…`); in the account JWT when `xkey` is true.", false),
			"xkey_seed":               generated("The callout's curve seed (`SX…`). Secret.", true),
			"sentinel_public_key":     generated("Public key of the sentinel user.", false),
			"sentinel_jwt": generated("Bearer user JWT of the callout account that may neither publish nor subscribe, "+
				"for nats-server's `default_sentinel`. Not a secret: the server hands it to every client that brings "+
				"only a Ping token, it grants nothing, and every connection made with it still goes to the callout.", false),
			"jwks_uri": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The issuer's JWKS URL from discovery, read while planning; null with `pinned_jwks`."},
			"jwks_keys": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: jwksKeysDoc + " Read while planning: a rotation at Ping shows as an update.",
				NestedObject:        schema.NestedAttributeObject{Attributes: jwksKeyResourceAttributes()}},
			"introspection_endpoint": introspectionEndpointAttribute,
			"callout_config": schema.StringAttribute{Computed: true, Sensitive: true,
				MarkdownDescription: "The callout service's configuration (JSON, version 1): issuer policy, NATS " +
					"connection, seeds and mappings. Write it to the service's config file. Secret."},
		},
	}
}

func jwksKeyResourceAttributes() map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name := range jwksKeyAttrTypes {
		out[name] = schema.StringAttribute{Computed: true}
	}
	return out
}

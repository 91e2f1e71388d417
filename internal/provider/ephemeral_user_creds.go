package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var _ ephemeral.EphemeralResourceWithConfigure = (*userCredsEphemeral)(nil)

// NewUserCredsEphemeralResource is the ephemeral natsping_user_creds.
func NewUserCredsEphemeralResource() ephemeral.EphemeralResource { return &userCredsEphemeral{} }

type userCredsEphemeral struct{ data *ProviderData }

const defaultUserCredsTTL = "1h"

type userCredsModel struct {
	userInputsModel
	userSigningModel
	TTL        types.String      `tfsdk:"ttl"`
	PublicKey  types.String      `tfsdk:"public_key"`
	Seed       types.String      `tfsdk:"seed"`
	JWT        types.String      `tfsdk:"jwt"`
	Creds      types.String      `tfsdk:"creds"`
	ValidUntil timetypes.RFC3339 `tfsdk:"valid_until"`
}

func (e *userCredsEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_user_creds"
}

func (e *userCredsEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (e *userCredsEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = userCredsEphemeralSchema()
}

func userCredsEphemeralSchema() eschema.Schema {
	attrs := map[string]eschema.Attribute{}
	for name, a := range userInputAttributes() {
		attrs[name] = toEphemeralAttribute(a)
	}
	signing := map[string]rschema.Attribute{}
	userSigningAttributes(signing)
	for name, a := range signing {
		attrs[name] = toEphemeralAttribute(a)
	}
	attrs["expires_at"] = eschema.StringAttribute{
		CustomType: timetypes.RFC3339Type{}, Optional: true,
		MarkdownDescription: "Latest expiry (RFC 3339): the JWT expires at `now + ttl` or at this time, whichever is earlier.",
	}
	attrs["ttl"] = eschema.StringAttribute{
		// Computed too, so the result can report the default; Terraform rejects a result that
		// fills in a purely optional attribute the configuration left null.
		Optional: true,
		Computed: true,
		MarkdownDescription: "Lifetime of the credentials as a Go duration, at least `\"1m\"`. Default `\"" +
			defaultUserCredsTTL + "\"`. The server closes the connection when the JWT expires.",
		Validators: []validator.String{validDuration(time.Minute)},
	}
	attrs["public_key"] = eschema.StringAttribute{Computed: true, MarkdownDescription: "Public key (`U…`) of the fresh user key."}
	attrs["seed"] = eschema.StringAttribute{Computed: true, Sensitive: true, MarkdownDescription: "Seed (`SU…`) of the fresh user key."}
	attrs["jwt"] = eschema.StringAttribute{Computed: true, MarkdownDescription: "The user JWT, expiring at `valid_until`."}
	attrs["creds"] = eschema.StringAttribute{Computed: true, Sensitive: true,
		MarkdownDescription: "Creds file (JWT and seed) as `nats --creds` and nats.go's `UserCredentials` read it."}
	attrs["valid_until"] = eschema.StringAttribute{CustomType: timetypes.RFC3339Type{}, Computed: true,
		MarkdownDescription: "When the JWT expires (RFC 3339)."}
	return eschema.Schema{
		MarkdownDescription: "Short-lived NATS user credentials that are never written to the state or the plan: every " +
			"time Terraform opens it (each plan and apply) a fresh user key is generated and a JWT expiring after `ttl` " +
			"is signed. Feed `creds` to write-only or ephemeral inputs (a secret store, a provider configuration). " +
			"Takes the same inputs as `natsping_user`; needs Terraform 1.10 or OpenTofu 1.11 or later.",
		Attributes: attrs,
	}
}

// toEphemeralAttribute re-expresses a resource schema attribute for an ephemeral schema, so
// natsping_user and natsping_user_creds share one definition of their inputs. Plan
// modifiers and defaults have no ephemeral counterpart and are dropped.
func toEphemeralAttribute(a rschema.Attribute) eschema.Attribute {
	switch a := a.(type) {
	case rschema.StringAttribute:
		return eschema.StringAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription, Validators: a.Validators, CustomType: a.CustomType}
	case rschema.BoolAttribute:
		return eschema.BoolAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription, Validators: a.Validators, CustomType: a.CustomType}
	case rschema.Int64Attribute:
		return eschema.Int64Attribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription, Validators: a.Validators, CustomType: a.CustomType}
	case rschema.SetAttribute:
		return eschema.SetAttribute{ElementType: a.ElementType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators, CustomType: a.CustomType}
	case rschema.ListAttribute:
		return eschema.ListAttribute{ElementType: a.ElementType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators, CustomType: a.CustomType}
	case rschema.SingleNestedAttribute:
		nested := make(map[string]eschema.Attribute, len(a.Attributes))
		for k, v := range a.Attributes {
			nested[k] = toEphemeralAttribute(v)
		}
		return eschema.SingleNestedAttribute{Attributes: nested, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators, CustomType: a.CustomType}
	default:
		panic(fmt.Sprintf("toEphemeralAttribute: no conversion for %T; this is always a bug in the provider", a))
	}
}

func (e *userCredsEphemeral) now() time.Time {
	return e.data.now()
}

func (e *userCredsEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m userCredsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	now := e.now().UTC().Truncate(time.Second)
	checkExpiresAt(m.ExpiresAt, timetypes.NewRFC3339Null(), now, path.Root("expires_at"), &resp.Diagnostics)
	signer := m.planSigning(ctx, &m.userSigningModel, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if signer == nil {
		resp.Diagnostics.AddAttributeError(path.Root("signer"), "Signer not known",
			"The signer is not known yet, so no credentials can be signed. This is always a bug in the provider: ephemeral resources open only with known inputs.")
		return
	}
	ttl := defaultUserCredsTTL
	if !m.TTL.IsNull() {
		ttl = m.TTL.ValueString()
	}
	d, err := time.ParseDuration(ttl)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("ttl"), "Invalid duration", err.Error())
		return
	}
	spec, diags := m.spec(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec.Expires = now.Add(d)
	if !m.ExpiresAt.IsNull() {
		if limit, _ := m.ExpiresAt.ValueRFC3339Time(); limit.Before(spec.Expires) {
			spec.Expires = limit
		}
	}
	pub, seed, token, creds, err := natsjwt.NewUserCreds(spec, signer)
	if err != nil {
		resp.Diagnostics.AddError("Cannot sign the user credentials", err.Error())
		return
	}
	m.TTL = types.StringValue(ttl)
	m.PublicKey, m.Seed, m.JWT, m.Creds = types.StringValue(pub), types.StringValue(seed), types.StringValue(token), types.StringValue(creds)
	m.ValidUntil = timetypes.NewRFC3339TimeValue(spec.Expires.UTC())
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

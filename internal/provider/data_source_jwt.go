package provider

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var _ datasource.DataSource = (*jwtDataSource)(nil)

// NewJWTDataSource decodes a NATS JWT so its claims can be reviewed in a plan or asserted on.
func NewJWTDataSource() datasource.DataSource { return &jwtDataSource{} }

type jwtDataSource struct{}

type jwtDataSourceModel struct {
	Token          types.String         `tfsdk:"token"`
	Type           types.String         `tfsdk:"type"`
	Subject        types.String         `tfsdk:"subject"`
	Issuer         types.String         `tfsdk:"issuer"`
	IssuerAccount  types.String         `tfsdk:"issuer_account"`
	Name           types.String         `tfsdk:"name"`
	IssuedAt       timetypes.RFC3339    `tfsdk:"issued_at"`
	ExpiresAt      timetypes.RFC3339    `tfsdk:"expires_at"`
	ClaimsJSON     jsontypes.Normalized `tfsdk:"claims_json"`
	SignatureValid types.Bool           `tfsdk:"signature_valid"`
}

func (d *jwtDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_jwt"
}

func (d *jwtDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = jwtDataSourceSchema()
}

func jwtDataSourceSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Decodes a NATS JWT (operator, account, user, activation, authorization request or response) " +
			"for review: who issued it, for whom, until when, and every claim. A JWT whose signature does not verify is " +
			"still decoded, with `signature_valid = false`, so a tampered or mis-signed token can be inspected. The same " +
			"decoding is available as the function `provider::natsping::decode_jwt`.",
		Attributes: map[string]schema.Attribute{
			"token": schema.StringAttribute{
				Required:  true,
				Sensitive: true,
				MarkdownDescription: "The JWT. Marked sensitive because a bearer user JWT is a credential on its own; the " +
					"decoded outputs are not sensitive.",
			},
			"type": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Claim type: `operator`, `account`, `user`, `activation`, `authorization_request`, " +
					"`authorization_response` or another type the token declares.",
			},
			"subject":        schema.StringAttribute{Computed: true, MarkdownDescription: "Subject (`sub`): the public key the JWT is about."},
			"issuer":         schema.StringAttribute{Computed: true, MarkdownDescription: "Issuer (`iss`): the public key that signed the JWT."},
			"issuer_account": schema.StringAttribute{Computed: true, MarkdownDescription: "Account a signing key signed for (`nats.issuer_account`); null when the issuer is the account itself."},
			"name":           schema.StringAttribute{Computed: true, MarkdownDescription: "Name (`name`)."},
			"issued_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "Issue time (`iat`), RFC 3339 in UTC.",
			},
			"expires_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "Expiry (`exp`), RFC 3339 in UTC; null when the JWT never expires.",
			},
			"claims_json": schema.StringAttribute{
				Computed: true, CustomType: jsontypes.NormalizedType{},
				MarkdownDescription: "The whole claim set as indented JSON with sorted keys.",
			},
			"signature_valid": schema.BoolAttribute{
				Computed: true,
				MarkdownDescription: "Whether the signature verifies against `issuer` and the issuer is of a kind allowed " +
					"to sign this claim type. It does not say the issuer is trusted by any operator.",
			},
		},
	}
}

func (d *jwtDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m jwtDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	dec, err := decodeNATSJWT(m.Token.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Not a NATS JWT", err.Error())
		return
	}
	pretty, err := marshalJSON(dec.Claims, true)
	if err != nil {
		resp.Diagnostics.AddError("Cannot encode claims", err.Error()+". This is always a bug in the provider.")
		return
	}
	m.Type = types.StringValue(dec.Type)
	m.Subject = types.StringValue(dec.Subject)
	m.Issuer = types.StringValue(dec.Issuer)
	m.IssuerAccount = stringOrNull(dec.IssuerAccount)
	m.Name = types.StringValue(dec.Name)
	m.IssuedAt = optionalTime(dec.IssuedAt)
	m.ExpiresAt = optionalTime(dec.ExpiresAt)
	m.ClaimsJSON = jsontypes.NewNormalizedValue(string(pretty))
	m.SignatureValid = types.BoolValue(dec.SignatureValid)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// marshalJSON encodes for human review: keys sorted (maps), subjects such as "orders.>"
// left readable instead of HTML-escaped, optionally indented.
func marshalJSON(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func optionalTime(t *string) timetypes.RFC3339 {
	if t == nil {
		return timetypes.NewRFC3339Null()
	}
	return timetypes.NewRFC3339ValueMust(*t)
}

// decodedJWT is the review view of a NATS JWT, shared by the data source and decode_jwt.
type decodedJWT struct {
	Type           string         `json:"type"`
	Subject        string         `json:"subject"`
	Issuer         string         `json:"issuer"`
	IssuerAccount  string         `json:"issuer_account,omitempty"`
	Name           string         `json:"name"`
	IssuedAt       *string        `json:"issued_at"`
	ExpiresAt      *string        `json:"expires_at"`
	SignatureValid bool           `json:"signature_valid"`
	Claims         map[string]any `json:"claims"`
}

// decodeNATSJWT reads the claims without trusting them and verifies the signature
// separately, so a token that fails verification can still be reviewed.
func decodeNATSJWT(token string) (*decodedJWT, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("the token is empty; pass a NATS JWT (it starts with \"eyJ\")")
	}
	if len(token) > jwt.MaxTokenSize {
		return nil, fmt.Errorf("the token is %d bytes, more than the %d a NATS JWT may have", len(token), jwt.MaxTokenSize)
	}
	if strings.Contains(token, "-----BEGIN") {
		return nil, errors.New("this looks like a creds file; pass only the JWT between its \"BEGIN NATS USER JWT\" markers, never the seed")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("a JWT has three dot-separated parts, this value has %d; pass the JWT itself, not a key or seed", len(parts))
	}
	var header struct {
		Type      string `json:"typ"`
		Algorithm string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("the JWT header is not base64url JSON (%v); pass the JWT exactly as issued", err)
	}
	if !strings.HasPrefix(strings.ToLower(header.Algorithm), "ed25519") {
		return nil, fmt.Errorf("the JWT is signed with %q; NATS JWTs are signed with ed25519-nkey (an OIDC token is not a NATS JWT)", header.Algorithm)
	}
	dec, err := natsjwt.DecodeAny(token)
	if err != nil {
		return nil, err
	}
	claims := dec.Claims
	nats, _ := claims["nats"].(map[string]any)
	out := &decodedJWT{
		Type:           cmp.Or(dec.Kind, string(jwt.GenericClaim)),
		Subject:        stringClaim(claims, "sub"),
		Issuer:         stringClaim(claims, "iss"),
		Name:           stringClaim(claims, "name"),
		IssuerAccount:  stringClaim(nats, "issuer_account"),
		IssuedAt:       unixClaim(claims, "iat"),
		ExpiresAt:      unixClaim(claims, "exp"),
		SignatureValid: dec.SignatureValid,
		Claims:         claims,
	}
	if !out.SignatureValid && !knownClaimType(jwt.ClaimType(out.Type)) {
		// jwt.Decode cannot verify claim types it does not know; DecodeGeneric checks the
		// signature alone for those.
		_, err := jwt.DecodeGeneric(token)
		out.SignatureValid = err == nil
	}
	return out, nil
}

func knownClaimType(t jwt.ClaimType) bool {
	switch t {
	case jwt.OperatorClaim, jwt.AccountClaim, jwt.UserClaim, jwt.ActivationClaim,
		jwt.AuthorizationRequestClaim, jwt.AuthorizationResponseClaim:
		return true
	}
	return false
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func stringClaim(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func unixClaim(m map[string]any, key string) *string {
	f, ok := m[key].(float64)
	if !ok || f == 0 {
		return nil
	}
	s := time.Unix(int64(f), 0).UTC().Format(time.RFC3339)
	return &s
}

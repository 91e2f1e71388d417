package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

type accountResourceModel struct {
	Name               types.String      `tfsdk:"name"`
	Description        types.String      `tfsdk:"description"`
	InfoURL            types.String      `tfsdk:"info_url"`
	OperatorSigner     types.String      `tfsdk:"operator_signer"`
	OperatorJWT        types.String      `tfsdk:"operator_jwt"`
	Tags               types.Set         `tfsdk:"tags"`
	ExpiresAt          timetypes.RFC3339 `tfsdk:"expires_at"`
	Limits             types.Object      `tfsdk:"limits"`
	JetStream          types.Object      `tfsdk:"jetstream"`
	Exports            types.List        `tfsdk:"exports"`
	Imports            types.List        `tfsdk:"imports"`
	SigningKeys        types.Set         `tfsdk:"signing_keys"`
	DefaultPermissions types.Object      `tfsdk:"default_permissions"`
	Roles              types.List        `tfsdk:"roles"`
	Authorization      types.Object      `tfsdk:"authorization"`
	RevokedUsers       types.Map         `tfsdk:"revoked_users"`
	RevokeAllUsers     types.String      `tfsdk:"revoke_all_users_before"`
	SigningKeyRotation types.Object      `tfsdk:"signing_key_rotation"`

	PublicKey   types.String `tfsdk:"public_key"`
	Seed        types.String `tfsdk:"seed"`
	Signer      types.String `tfsdk:"signer"`
	SigningKey  types.String `tfsdk:"signing_key"`
	Issuer      types.String `tfsdk:"issuer"`
	JWT         types.String `tfsdk:"jwt"`
	RoleKeys    types.Map    `tfsdk:"role_keys"`
	RoleSigners types.Map    `tfsdk:"role_signers"`

	SigningKeyRotationStatus types.Object `tfsdk:"signing_key_rotation_status"`
	RoleKeyRotations         types.Map    `tfsdk:"role_key_rotations"`
}

type accountLimitsModel struct {
	MaxConnections       types.Int64 `tfsdk:"max_connections"`
	MaxLeafNodes         types.Int64 `tfsdk:"max_leaf_nodes"`
	MaxSubscriptions     types.Int64 `tfsdk:"max_subscriptions"`
	MaxData              types.Int64 `tfsdk:"max_data"`
	MaxPayload           types.Int64 `tfsdk:"max_payload"`
	MaxImports           types.Int64 `tfsdk:"max_imports"`
	MaxExports           types.Int64 `tfsdk:"max_exports"`
	AllowWildcardExports types.Bool  `tfsdk:"allow_wildcard_exports"`
	DisallowBearer       types.Bool  `tfsdk:"disallow_bearer"`
}

type accountJetStreamTierModel struct {
	MemoryStorage        types.Int64 `tfsdk:"memory_storage"`
	DiskStorage          types.Int64 `tfsdk:"disk_storage"`
	MaxStreams           types.Int64 `tfsdk:"max_streams"`
	MaxConsumers         types.Int64 `tfsdk:"max_consumers"`
	MaxAckPending        types.Int64 `tfsdk:"max_ack_pending"`
	MemoryMaxStreamBytes types.Int64 `tfsdk:"memory_max_stream_bytes"`
	DiskMaxStreamBytes   types.Int64 `tfsdk:"disk_max_stream_bytes"`
	MaxBytesRequired     types.Bool  `tfsdk:"max_bytes_required"`
}

// accountJetStreamModel is the untiered limits plus the per-replica tiers; the framework
// maps the embedded struct's fields as if they were declared here.
type accountJetStreamModel struct {
	accountJetStreamTierModel
	Tiers types.Map `tfsdk:"tiers"`
}

type accountExportModel struct {
	Type                 types.String `tfsdk:"type"`
	Subject              types.String `tfsdk:"subject"`
	Name                 types.String `tfsdk:"name"`
	Description          types.String `tfsdk:"description"`
	TokenRequired        types.Bool   `tfsdk:"token_required"`
	ResponseType         types.String `tfsdk:"response_type"`
	ResponseThreshold    types.String `tfsdk:"response_threshold"`
	AccountTokenPosition types.Int64  `tfsdk:"account_token_position"`
	Advertise            types.Bool   `tfsdk:"advertise"`
	AllowTrace           types.Bool   `tfsdk:"allow_trace"`
	RevokedActivations   types.Map    `tfsdk:"revoked_activations"`
	RevokeAllActivations types.String `tfsdk:"revoke_all_activations_before"`
}

type accountImportModel struct {
	Type             types.String `tfsdk:"type"`
	Name             types.String `tfsdk:"name"`
	Subject          types.String `tfsdk:"subject"`
	Account          types.String `tfsdk:"account"`
	LocalSubject     types.String `tfsdk:"local_subject"`
	Token            types.String `tfsdk:"token"`
	ActivationSigner types.String `tfsdk:"activation_signer"`
	Share            types.Bool   `tfsdk:"share"`
	AllowTrace       types.Bool   `tfsdk:"allow_trace"`
}

type accountRoleModel struct {
	Name                   types.String `tfsdk:"name"`
	Description            types.String `tfsdk:"description"`
	Permissions            types.Object `tfsdk:"permissions"`
	MaxSubscriptions       types.Int64  `tfsdk:"max_subscriptions"`
	MaxData                types.Int64  `tfsdk:"max_data"`
	MaxPayload             types.Int64  `tfsdk:"max_payload"`
	Bearer                 types.Bool   `tfsdk:"bearer"`
	AllowedConnectionTypes types.Set    `tfsdk:"allowed_connection_types"`
	SourceNetworks         types.Set    `tfsdk:"source_networks"`
	KeyRotation            types.Object `tfsdk:"key_rotation"`
}

type accountAuthorizationModel struct {
	AuthUsers       types.Set    `tfsdk:"auth_users"`
	AllowedAccounts types.Set    `tfsdk:"allowed_accounts"`
	XKey            types.String `tfsdk:"xkey"`
}

// accountSpecBuilder turns the Terraform model into a natsjwt.AccountSpec. While planning
// some values are not known yet (another account's public key, say); it records where, so
// that validation can drop the complaints those placeholders would cause.
type accountSpecBuilder struct {
	ctx     context.Context
	diags   diag.Diagnostics
	unknown map[string]bool // top-level attributes holding an unknown value
}

func (b *accountSpecBuilder) known(top string, v attr.Value) bool {
	if v.IsUnknown() {
		b.unknown[top] = true
		return false
	}
	return !v.IsNull()
}

// fullyKnown reports whether the values and everything nested in them are known; otherwise it
// records top as unknown, so that nothing is converted into Go values that cannot hold unknowns.
func (b *accountSpecBuilder) fullyKnown(top string, vs ...attr.Value) bool {
	for _, v := range vs {
		if !valueFullyKnown(b.ctx, v) {
			b.unknown[top] = true
			return false
		}
	}
	return true
}

func (b *accountSpecBuilder) str(top string, v types.String) string {
	if !b.known(top, v) {
		return ""
	}
	return v.ValueString()
}

func (b *accountSpecBuilder) limit(top string, v types.Int64) *int64 {
	if !b.known(top, v) {
		return nil
	}
	return v.ValueInt64Pointer()
}

func (b *accountSpecBuilder) strings(top string, v types.Set) []string {
	out, known := knownStrings(v)
	if !known {
		b.unknown[top] = true
	}
	return out
}

func (b *accountSpecBuilder) object(top string, v types.Object, target any) bool {
	if !b.known(top, v) {
		return false
	}
	b.diags.Append(v.As(b.ctx, target, basetypes.ObjectAsOptions{})...)
	return !b.diags.HasError()
}

func (b *accountSpecBuilder) duration(top string, field path.Path, v types.String) time.Duration {
	s := b.str(top, v)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		b.diags.AddAttributeError(field, "Invalid duration", fmt.Sprintf("%q is not a Go duration such as \"5s\": %v", s, err))
	}
	return d
}

// accountListElements decodes the elements of a list of nested objects, skipping unknown ones.
func accountListElements[T any](b *accountSpecBuilder, top string, v types.List) []T {
	if !b.known(top, v) {
		return nil
	}
	out := make([]T, 0, len(v.Elements()))
	for _, e := range v.Elements() {
		obj, ok := e.(types.Object)
		var m T
		if !ok || !b.object(top, obj, &m) {
			b.unknown[top] = true
			continue
		}
		out = append(out, m)
	}
	return out
}

// toSpec converts the model; role keys come from roleKeys (by name), and roles without a key
// get a throwaway one so they can be validated before apply generates the real key.
func (m accountResourceModel) toSpec(ctx context.Context, roleKeys map[string]string) (natsjwt.AccountSpec, map[string]bool, diag.Diagnostics) {
	b := &accountSpecBuilder{ctx: ctx, unknown: map[string]bool{}}
	spec := natsjwt.AccountSpec{
		Name:        b.str("name", m.Name),
		Description: b.str("description", m.Description),
		InfoURL:     b.str("info_url", m.InfoURL),
		Tags:        b.strings("tags", m.Tags),
		SigningKeys: b.strings("signing_keys", m.SigningKeys),
	}
	spec.SigningKeys = append(spec.SigningKeys, m.signingKeyOverlap(ctx, &b.diags)...)
	if b.known("expires_at", m.ExpiresAt) {
		t, d := m.ExpiresAt.ValueRFC3339Time()
		b.diags.Append(d...)
		spec.Expires = t
	}
	var limits accountLimitsModel
	if b.object("limits", m.Limits, &limits) {
		spec.Limits = natsjwt.AccountLimits{
			Conn:           b.limit("limits", limits.MaxConnections),
			LeafNodeConn:   b.limit("limits", limits.MaxLeafNodes),
			Subs:           b.limit("limits", limits.MaxSubscriptions),
			Data:           b.limit("limits", limits.MaxData),
			Payload:        b.limit("limits", limits.MaxPayload),
			Imports:        b.limit("limits", limits.MaxImports),
			Exports:        b.limit("limits", limits.MaxExports),
			DisallowBearer: limits.DisallowBearer.ValueBool(),
		}
		if b.known("limits", limits.AllowWildcardExports) {
			spec.Limits.WildcardExports = limits.AllowWildcardExports.ValueBoolPointer()
		}
	}
	var js accountJetStreamModel
	if b.object("jetstream", m.JetStream, &js) {
		spec.JetStream = &natsjwt.JetStreamSpec{JetStreamLimits: b.jetStreamLimits(js.accountJetStreamTierModel)}
		if b.known("jetstream", js.Tiers) {
			spec.JetStream.Tiers = map[string]natsjwt.JetStreamLimits{}
			for name, v := range js.Tiers.Elements() {
				var tier accountJetStreamTierModel
				if obj, ok := v.(types.Object); ok && b.object("jetstream", obj, &tier) {
					spec.JetStream.Tiers[name] = b.jetStreamLimits(tier)
				}
			}
		}
	}
	for i, e := range accountListElements[accountExportModel](b, "exports", m.Exports) {
		spec.Exports = append(spec.Exports, natsjwt.ExportSpec{
			Type:                 b.str("exports", e.Type),
			Subject:              b.str("exports", e.Subject),
			Name:                 b.str("exports", e.Name),
			Description:          b.str("exports", e.Description),
			TokenRequired:        e.TokenRequired.ValueBool(),
			ResponseType:         b.str("exports", e.ResponseType),
			ResponseThreshold:    b.duration("exports", path.Root("exports").AtListIndex(i).AtName("response_threshold"), e.ResponseThreshold),
			AccountTokenPosition: uint(max(e.AccountTokenPosition.ValueInt64(), 0)),
			Advertise:            e.Advertise.ValueBool(),
			AllowTrace:           e.AllowTrace.ValueBool(),
			RevokedActivations:   b.exportRevocations(e),
		})
	}
	for _, imp := range accountListElements[accountImportModel](b, "imports", m.Imports) {
		var activator *natsjwt.Signer
		if s := b.str("imports", imp.ActivationSigner); s != "" {
			// A malformed signer is reported by the attribute's validator.
			activator, _ = natsjwt.ParseSigner(s, natsjwt.KindAccount)
		}
		spec.Imports = append(spec.Imports, natsjwt.ImportSpec{
			ActivationSigner: activator,
			Type:             b.str("imports", imp.Type),
			Name:             b.str("imports", imp.Name),
			Subject:          b.str("imports", imp.Subject),
			Account:          b.str("imports", imp.Account),
			LocalSubject:     b.str("imports", imp.LocalSubject),
			Token:            b.str("imports", imp.Token),
			Share:            imp.Share.ValueBool(),
			AllowTrace:       imp.AllowTrace.ValueBool(),
		})
	}
	var perms permissionsModel
	if b.fullyKnown("default_permissions", m.DefaultPermissions) && b.object("default_permissions", m.DefaultPermissions, &perms) {
		p, d := perms.toDomain(ctx)
		b.diags.Append(d...)
		spec.DefaultPermissions = p
	}
	for _, r := range accountListElements[accountRoleModel](b, "roles", m.Roles) {
		role := natsjwt.RoleSpec{Name: b.str("roles", r.Name), Description: b.str("roles", r.Description)}
		role.PublicKey = roleKeys[role.Name]
		role.OverlapKeys = m.roleKeyOverlap(ctx, role.Name, &b.diags)
		if role.PublicKey == "" {
			pub, _, err := natsjwt.NewKey(natsjwt.KindAccount)
			if err != nil {
				b.diags.AddError("Cannot create a key", err.Error())
			}
			role.PublicKey = pub
		}
		var rp permissionsModel
		if b.fullyKnown("roles", r.Permissions) && b.object("roles", r.Permissions, &rp) {
			p, d := rp.toDomain(ctx)
			b.diags.Append(d...)
			role.Permissions = p
		}
		limits := userLimitsModel{
			MaxSubscriptions: r.MaxSubscriptions, MaxData: r.MaxData, MaxPayload: r.MaxPayload, Bearer: r.Bearer,
			AllowedConnectionTypes: r.AllowedConnectionTypes, SourceNetworks: r.SourceNetworks,
		}
		if b.fullyKnown("roles", r.MaxSubscriptions, r.MaxData, r.MaxPayload, r.Bearer, r.AllowedConnectionTypes, r.SourceNetworks) {
			l, d := limits.toDomain(ctx)
			b.diags.Append(d...)
			role.Limits = l
		}
		spec.Roles = append(spec.Roles, role)
	}
	var auth accountAuthorizationModel
	if b.object("authorization", m.Authorization, &auth) {
		spec.Authorization = &natsjwt.ExternalAuth{
			AuthUsers:       b.strings("authorization", auth.AuthUsers),
			AllowedAccounts: b.strings("authorization", auth.AllowedAccounts),
			XKey:            b.str("authorization", auth.XKey),
		}
	}
	spec.RevokedUsers = b.revocations("revoked_users", m.RevokedUsers, m.RevokeAllUsers)
	return spec, b.unknown, b.diags
}

func (b *accountSpecBuilder) jetStreamLimits(t accountJetStreamTierModel) natsjwt.JetStreamLimits {
	return natsjwt.JetStreamLimits{
		MemoryStorage:        b.limit("jetstream", t.MemoryStorage),
		DiskStorage:          b.limit("jetstream", t.DiskStorage),
		Streams:              b.limit("jetstream", t.MaxStreams),
		Consumer:             b.limit("jetstream", t.MaxConsumers),
		MaxAckPending:        b.limit("jetstream", t.MaxAckPending),
		MemoryMaxStreamBytes: b.limit("jetstream", t.MemoryMaxStreamBytes),
		DiskMaxStreamBytes:   b.limit("jetstream", t.DiskMaxStreamBytes),
		MaxBytesRequired:     t.MaxBytesRequired.ValueBool(),
	}
}

// accountDependsOn lists, for checks that span attributes, which other top-level attributes
// an error on a field depends on; an unknown dependency makes the error unreliable.
var accountDependsOn = map[string][]string{
	"exports":      {"limits"},
	"signing_keys": {"roles"},
	"roles":        {"signing_keys"},
}

// addAccountValidationErrors reports a natsjwt validation error attribute by attribute,
// dropping complaints that stem from values not known yet (they are checked again at apply).
func addAccountValidationErrors(diags *diag.Diagnostics, err error, unknown map[string]bool, warnOnly func(*natsjwt.FieldError) bool) {
	for _, fe := range natsjwt.FieldErrors(err) {
		top := accountTopField(fe.Path)
		if top == "" && len(unknown) > 0 {
			continue
		}
		skip := unknown[top]
		for _, dep := range accountDependsOn[top] {
			skip = skip || unknown[dep]
		}
		if skip {
			continue
		}
		summary := "Invalid account"
		if len(fe.Path) > 0 {
			summary = "Invalid " + fe.Path.String()
		}
		// The field is in the summary: Terraform cannot always point into nested values.
		detail := fe.Err.Error()
		switch {
		case warnOnly != nil && warnOnly(fe):
			diags.AddAttributeWarning(accountAttrPath(fe.Path), summary, detail)
		case len(fe.Path) == 0:
			diags.AddError(summary, detail)
		default:
			diags.AddAttributeError(accountAttrPath(fe.Path), summary, detail)
		}
	}
}

// accountTopField is the top-level attribute a natsjwt field belongs to, "" for the account.
func accountTopField(field natsjwt.FieldPath) string {
	if len(field) == 0 {
		return ""
	}
	return field[0].Name
}

// accountSetAttributes are addressed by value, not index, so a path stops at the set.
var accountSetAttributes = map[string]bool{"tags": true, "signing_keys": true, "auth_users": true, "allowed_accounts": true}

// accountAttrPath turns a natsjwt field path into the attribute path Terraform shows next to
// the error.
func accountAttrPath(field natsjwt.FieldPath) path.Path {
	if len(field) == 0 || field[0].Kind != natsjwt.StepName {
		return path.Empty()
	}
	p := path.Root(field[0].Name)
	if accountSetAttributes[field[0].Name] {
		return p
	}
	for _, step := range field[1:] {
		switch step.Kind {
		case natsjwt.StepName:
			p = p.AtName(step.Name)
			if accountSetAttributes[step.Name] {
				return p
			}
		case natsjwt.StepIndex:
			p = p.AtListIndex(step.Index)
		case natsjwt.StepKey:
			p = p.AtMapKey(step.Name)
		}
	}
	return p
}

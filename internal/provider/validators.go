package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// subjectValidator checks NATS subjects at plan time, so a malformed subject fails `plan`
// with the attribute path instead of producing a JWT the server rejects later.
type subjectValidator struct{ opts natsjwt.SubjectOptions }

func validSubject(opts natsjwt.SubjectOptions) validator.String { return subjectValidator{opts: opts} }

func (v subjectValidator) Description(context.Context) string {
	return "must be a NATS subject: dot-separated tokens, no spaces, '*' as a whole token, '>' only as the last token"
}
func (v subjectValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v subjectValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := natsjwt.ValidateSubject(req.ConfigValue.ValueString(), v.opts); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid NATS subject", err.Error())
	}
}

// publicKeyValidator checks that a value is a public nkey of one kind (e.g. an account "A…").
type publicKeyValidator struct{ kind natsjwt.KeyKind }

func validPublicKey(kind natsjwt.KeyKind) validator.String { return publicKeyValidator{kind: kind} }

func (v publicKeyValidator) Description(context.Context) string {
	return fmt.Sprintf("must be an %s public key starting with %q", v.kind, v.kind.PublicPrefix())
}
func (v publicKeyValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v publicKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := natsjwt.ValidatePublicKey(req.ConfigValue.ValueString(), v.kind); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid public key", err.Error())
	}
}

// signerValidator checks a sensitive signer value (a natsping signer string or a raw seed)
// without ever echoing it: messages name the kinds involved, never the value.
type signerValidator struct{ kind natsjwt.KeyKind }

func validSigner(kind natsjwt.KeyKind) validator.String { return signerValidator{kind: kind} }

func (v signerValidator) Description(context.Context) string {
	return fmt.Sprintf("must be the signer output of a natsping resource or a raw %s seed (%s…)", v.kind, v.kind.SeedPrefix())
}
func (v signerValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v signerValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := natsjwt.ParseSigner(req.ConfigValue.ValueString(), v.kind); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid signer", err.Error())
	}
}

// durationValidator checks Go duration strings ("90s", "1h30m") and an optional minimum.
type durationValidator struct {
	minimum time.Duration
}

func validDuration(minimum time.Duration) validator.String {
	return durationValidator{minimum: minimum}
}

func (v durationValidator) Description(context.Context) string {
	return fmt.Sprintf("must be a Go duration such as \"90s\" or \"1h30m\", at least %s", v.minimum)
}
func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not a duration: %v. Use a Go duration such as \"90s\", \"15m\" or \"1h30m\".", req.ConfigValue.ValueString(), err))
		return
	}
	if d < v.minimum {
		resp.Diagnostics.AddAttributeError(req.Path, "Duration too short",
			fmt.Sprintf("%q is shorter than the minimum of %s.", req.ConfigValue.ValueString(), v.minimum))
	}
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/natsping/terraform-provider-natsping/internal/cabundle"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// stringCheck turns a rule of a domain package (a func that explains what is wrong with a
// value) into a plan-time validator, so the rule has one home and the provider only adds the
// attribute path and a summary. Every string validator of the provider that applies a rule is
// one of these; the rest are the framework's generic checks (length, one of, notBlank).
type stringCheck struct {
	summary string // diagnostic summary, e.g. "Invalid NATS subject"
	desc    string // what a valid value is, for docs and language servers
	check   func(string) error
}

func checkString(summary, desc string, check func(string) error) validator.String {
	return stringCheck{summary: summary, desc: desc, check: check}
}

func (v stringCheck) Description(context.Context) string             { return v.desc }
func (v stringCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		summary := v.summary
		if s := (summarized{}); errors.As(err, &s) {
			summary = s.summary
		}
		resp.Diagnostics.AddAttributeError(req.Path, summary, sentence(err.Error()))
	}
}

// summarized lets a check choose a more precise summary than its validator's default.
type summarized struct {
	summary string
	err     error
}

func (s summarized) Error() string { return s.err.Error() }
func (s summarized) Unwrap() error { return s.err }

// sentence ends a domain error message with a full stop, as diagnostics read best.
func sentence(s string) string {
	if s == "" || s[len(s)-1] == '.' {
		return s
	}
	return s + "."
}

// validSubject checks NATS subjects at plan time, so a malformed subject fails `plan` with
// the attribute path instead of producing a JWT the server rejects later.
func validSubject(opts natsjwt.SubjectOptions) validator.String {
	return checkString("Invalid NATS subject",
		"must be a NATS subject: dot-separated tokens, no spaces, '*' as a whole token, '>' only as the last token",
		func(s string) error { return natsjwt.ValidateSubject(s, opts) })
}

// validPublicKey checks that a value is a public nkey of one kind (e.g. an account "A…").
func validPublicKey(kind natsjwt.KeyKind) validator.String {
	return checkString("Invalid public key",
		fmt.Sprintf("must be an %s public key starting with %q", kind, kind.PublicPrefix()),
		func(s string) error { return natsjwt.ValidatePublicKey(s, kind) })
}

// validSigner checks a sensitive signer value (a natsping signer string or a raw seed)
// without ever echoing it: natsjwt's messages name the kinds involved, never the value.
func validSigner(kind natsjwt.KeyKind) validator.String {
	return checkString("Invalid signer",
		fmt.Sprintf("must be the signer output of a natsping resource or a raw %s seed (%s…)", kind, kind.SeedPrefix()),
		func(s string) error { _, err := natsjwt.ParseSigner(s, kind); return err })
}

// validDuration checks Go duration strings ("90s", "1h30m") and an optional minimum.
func validDuration(minimum time.Duration) validator.String {
	return checkString("Invalid duration",
		fmt.Sprintf("must be a Go duration such as \"90s\" or \"1h30m\", at least %s", minimum),
		func(s string) error {
			d, err := parseGoDuration(s)
			if err != nil {
				return err
			}
			if d < minimum {
				return summarized{"Duration too short", fmt.Errorf("%q is shorter than the minimum of %s", s, minimum)}
			}
			return nil
		})
}

// durationWithin checks a Go duration against bounds owned by calloutconfig, the same bounds
// the callout applies to the document it loads.
func durationWithin(b calloutconfig.Bounds) validator.String {
	return checkString("Invalid duration",
		fmt.Sprintf("must be a Go duration between %s and %s", calloutconfig.ShortDuration(b.Min), calloutconfig.ShortDuration(b.Max)),
		func(s string) error {
			d, err := parseGoDuration(s)
			if err != nil {
				return err
			}
			err = b.Check(fmt.Sprintf("%q", s), d)
			switch {
			case err == nil:
				return nil
			case d < b.Min:
				return summarized{"Duration too short", err}
			default:
				return summarized{"Duration too long", err}
			}
		})
}

func parseGoDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: %v. Use a Go duration such as \"30s\", \"15m\" or \"1h30m\"", s, err)
	}
	return d, nil
}

// durationRangeDoc is the sentence every bounded duration attribute ends its description with.
func durationRangeDoc(b calloutconfig.Bounds, def time.Duration) string {
	return fmt.Sprintf("Between `\"%s\"` and `\"%s\"`. Default `\"%s\"`.", calloutconfig.ShortDuration(b.Min),
		calloutconfig.ShortDuration(b.Max), calloutconfig.ShortDuration(def))
}

// notBlank has no domain rule behind it, so it stays the framework's pattern check.
func notBlank() validator.String {
	return stringvalidator.RegexMatches(regexp.MustCompile(`\S`), "must not be empty or blank")
}

// validCABundle parses a CA bundle with the parser the callout and the resolver push use.
func validCABundle() validator.String {
	return checkString("Invalid CA bundle", "must be one or more PEM CERTIFICATE blocks",
		func(s string) error { _, err := cabundle.Parse(s); return err })
}

// validURL applies one of the domain URL checks (natsjwt's operator and account server URLs,
// resolver's server URLs) at plan time.
func validURL(check func(string) error, desc string) validator.String {
	return checkString("Invalid URL", "must be "+desc, check)
}

func validRoleName() validator.String {
	return checkString("Invalid role name", "1-64 letters, digits, '_', '-' or '.', starting with a letter or digit",
		natsjwt.ValidateRoleName)
}

func validTier() validator.String {
	return checkString("Invalid JetStream tier", "must be R1, R2, R3, R4 or R5", natsjwt.ValidateTier)
}

package natsjwt

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// Export and import kinds as users write them.
const (
	KindStream  = "stream"
	KindService = "service"
)

// ExportKinds lists the kinds of exports and imports.
var ExportKinds = []string{KindStream, KindService}

// ResponseTypes lists how a service answers, as nats-io/jwt names them.
var ResponseTypes = []string{jwt.ResponseTypeSingleton, jwt.ResponseTypeStream, jwt.ResponseTypeChunked}

// ExportSpec makes a stream or service of this account available to other accounts.
type ExportSpec struct {
	// Type is KindStream or KindService.
	Type        string
	Subject     string
	Name        string
	Description string
	// TokenRequired makes the export private: importers need an activation token (SignActivation).
	TokenRequired bool
	// ResponseType is Singleton (default), Stream or Chunked; services only.
	ResponseType string
	// ResponseThreshold is how long the service may take to answer; services only.
	ResponseThreshold time.Duration
	// AccountTokenPosition is the 1-based position of a '*' token that must equal the
	// importing account's public key.
	AccountTokenPosition uint
	// Advertise lists the export publicly (nsc and tooling show it).
	Advertise bool
	// AllowTrace lets message traces cross into the service; services only.
	AllowTrace bool
	// RevokedActivations refuses activation tokens by importing account and issue time
	// (revocations.go); private exports only.
	RevokedActivations Revocations
}

// ImportSpec brings a stream or service of another account into this one.
type ImportSpec struct {
	// Type is KindStream or KindService.
	Type string
	Name string
	// Subject is the exporter's subject.
	Subject string
	// Account is the exporting account's public key.
	Account string
	// LocalSubject renames the subject inside this account ($1 refers to the first '*').
	LocalSubject string
	// Token is the activation JWT of a private export (ExportSpec.TokenRequired).
	Token string
	// ActivationSigner, instead of Token, is the exporting account's signer: SignAccount then
	// issues the activation token itself. This is how one configuration wires a private
	// import without a cycle (a token must name the importer, whose key the importer creates).
	ActivationSigner *Signer
	// Share shares this account's client info with the service for latency tracking; services only.
	Share bool
	// AllowTrace lets message traces cross in with the stream; streams only.
	AllowTrace bool
}

func exportType(kind string) jwt.ExportType {
	switch kind {
	case KindStream:
		return jwt.Stream
	case KindService:
		return jwt.Service
	default:
		return jwt.Unknown
	}
}

func validKind(errs *fieldErrs, field FieldPath, kind string) bool {
	if kind == KindStream || kind == KindService {
		return true
	}
	errs.add(field, "%q is not an export kind; use \"stream\" or \"service\"", kind)
	return false
}

func validateExports(errs *fieldErrs, exports []ExportSpec, limits AccountLimits) {
	wildcardsOK := limits.WildcardExports == nil || *limits.WildcardExports
	for i, e := range exports {
		field := Field("exports").AtIndex(i)
		before := len(*errs)
		if !validKind(errs, field.AtName("type"), e.Type) {
			continue
		}
		if err := ValidateSubject(e.Subject, SubjectOptions{Wildcards: true}); err != nil {
			errs.wrap(field.AtName("subject"), err)
			continue
		}
		if !wildcardsOK && jwt.Subject(e.Subject).HasWildCards() {
			errs.add(field.AtName("subject"), "%q has a wildcard but limits.allow_wildcard_exports is false; export literal subjects or allow wildcard exports", e.Subject)
		}
		if e.Type == KindStream {
			if e.ResponseType != "" {
				errs.add(field.AtName("response_type"), "is set on a stream export; only services answer requests, remove it or make the export a service")
			}
			if e.ResponseThreshold != 0 {
				errs.add(field.AtName("response_threshold"), "is set on a stream export; only services have a response threshold")
			}
			if e.AllowTrace {
				errs.add(field.AtName("allow_trace"), "is set on a stream export; nats-server only traces into service exports (set allow_trace on the stream import instead)")
			}
		} else if e.ResponseType != "" && !contains(ResponseTypes, e.ResponseType) {
			errs.add(field.AtName("response_type"), "%q is not a response type; use one of %s", e.ResponseType, strings.Join(ResponseTypes, ", "))
		}
		if e.ResponseThreshold < 0 {
			errs.add(field.AtName("response_threshold"), "is negative; use a positive duration such as \"5s\"")
		}
		if p := e.AccountTokenPosition; p > 0 {
			tokens := strings.Split(e.Subject, ".")
			if int(p) > len(tokens) || tokens[p-1] != "*" {
				errs.add(field.AtName("account_token_position"), "%d does not point at a '*' token of %q; give the 1-based position of the '*' that stands for the importing account", p, e.Subject)
			}
		}
		if len(*errs) > before {
			continue
		}
		// The library's remaining per-export checks, with this field attached.
		vr := jwt.CreateValidationResults()
		exportToJWT(e).Validate(vr)
		for _, err := range vr.Errors() {
			errs.wrap(field, err)
		}
	}
}

func validateImports(errs *fieldErrs, imports []ImportSpec, opts ValidateOptions) {
	for i, imp := range imports {
		field := Field("imports").AtIndex(i)
		if !validKind(errs, field.AtName("type"), imp.Type) {
			continue
		}
		if imp.Account == "" {
			errs.add(field.AtName("account"), "is empty; give the exporting account's public key (A…)")
		} else if err := ValidatePublicKey(imp.Account, KindAccount); err != nil {
			errs.wrap(field.AtName("account"), err)
		} else if imp.Account == opts.AccountPublicKey {
			errs.add(field.AtName("account"), "is this account itself; an account imports only from other accounts")
		}
		if err := ValidateSubject(imp.Subject, SubjectOptions{Wildcards: true}); err != nil {
			errs.wrap(field.AtName("subject"), err)
			continue
		}
		if imp.LocalSubject != "" {
			vr := jwt.CreateValidationResults()
			jwt.RenamingSubject(imp.LocalSubject).Validate(jwt.Subject(imp.Subject), vr)
			for _, err := range vr.Errors() {
				errs.wrap(field.AtName("local_subject"), fmt.Errorf("%q: %w; a local subject keeps the subject's shape and may use $1, $2 for its '*' tokens", imp.LocalSubject, err))
			}
		}
		if imp.Share && imp.Type != KindService {
			errs.add(field.AtName("share"), "is set on a stream import; sharing client info is for service imports only")
		}
		if imp.AllowTrace && imp.Type != KindStream {
			errs.add(field.AtName("allow_trace"), "is set on a service import; nats-server traces into stream imports only (set allow_trace on the service export instead)")
		}
		if imp.Token != "" {
			if err := checkActivation(imp, opts); err != nil {
				errs.wrap(field.AtName("token"), err)
			}
		}
		if a := imp.ActivationSigner; a != nil {
			owner := a.Owner
			if owner == "" {
				owner = a.PublicKey
			}
			switch {
			case imp.Token != "":
				errs.add(field.AtName("activation_signer"), "is set together with token; give either the exporter's token or its signer, not both")
			case a.Kind != KindAccount || a.Role != "":
				errs.add(field.AtName("activation_signer"), "must be the exporting account's signer output (or its SA… seed); roles and other keys cannot issue activation tokens")
			case imp.Account != "" && owner != imp.Account:
				errs.add(field.AtName("activation_signer"), "belongs to account %s but the import is from %s; pass the signer of the exporting account", owner, imp.Account)
			}
		}
	}
}

// checkActivation verifies an activation token the way nats-server will, but with messages
// that say which side to fix.
func checkActivation(imp ImportSpec, opts ValidateOptions) error {
	act, err := jwt.DecodeActivationClaims(imp.Token)
	if err != nil {
		return fmt.Errorf("is not a valid activation JWT (%v); paste the token the exporting account created for this import", err)
	}
	var errs []error
	if act.ImportType != exportType(imp.Type) {
		errs = append(errs, fmt.Errorf("activates a %s import but the import is a %s; create the token for a %s", act.ImportType, imp.Type, imp.Type))
	}
	if imp.Account != "" && act.Issuer != imp.Account && act.IssuerAccount != imp.Account {
		exporter := act.IssuerAccount
		if exporter == "" {
			exporter = act.Issuer
		}
		errs = append(errs, fmt.Errorf("was issued by account %s but the import is from %s; use a token from the exporting account", exporter, imp.Account))
	}
	if opts.AccountPublicKey != "" && act.Subject != opts.AccountPublicKey {
		errs = append(errs, fmt.Errorf("activates account %s, not this account %s; create a token for %s", act.Subject, opts.AccountPublicKey, opts.AccountPublicKey))
	}
	if !jwt.Subject(imp.Subject).IsContainedIn(act.ImportSubject) {
		errs = append(errs, fmt.Errorf("covers subject %q, which does not include the import subject %q; import a subject within it or create a token for this subject", act.ImportSubject, imp.Subject))
	}
	if !opts.Now.IsZero() && act.Expires != 0 && act.Expires <= opts.Now.Unix() {
		errs = append(errs, fmt.Errorf("%w at %s; ask the exporting account for a new token", ErrExpired, time.Unix(act.Expires, 0).UTC().Format(time.RFC3339)))
	}
	return errors.Join(errs...)
}

func exportToJWT(e ExportSpec) *jwt.Export {
	out := &jwt.Export{
		Name:                 e.Name,
		Subject:              jwt.Subject(e.Subject),
		Type:                 exportType(e.Type),
		TokenReq:             e.TokenRequired,
		ResponseThreshold:    e.ResponseThreshold,
		AccountTokenPosition: e.AccountTokenPosition,
		Advertise:            e.Advertise,
		AllowTrace:           e.AllowTrace,
		Info:                 jwt.Info{Description: e.Description},
		Revocations:          e.RevokedActivations.toJWT(),
	}
	if e.Type == KindService {
		out.ResponseType = jwt.ResponseType(e.ResponseType)
		if out.ResponseType == "" {
			out.ResponseType = jwt.ResponseTypeSingleton
		}
	}
	return out
}

// exportsToJWT orders exports completely (nats-io/jwt sorts by subject alone, with an
// unstable sort), so a stream and a service on one subject never swap between signings.
func exportsToJWT(in []ExportSpec) jwt.Exports {
	if len(in) == 0 {
		return nil
	}
	out := make(jwt.Exports, 0, len(in))
	for _, e := range in {
		out = append(out, exportToJWT(e))
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	return out
}

func importsToJWT(in []ImportSpec) jwt.Imports {
	if len(in) == 0 {
		return nil
	}
	out := make(jwt.Imports, 0, len(in))
	for _, imp := range in {
		out = append(out, &jwt.Import{
			Name:         imp.Name,
			Subject:      jwt.Subject(imp.Subject),
			Account:      imp.Account,
			Token:        imp.Token,
			LocalSubject: jwt.RenamingSubject(imp.LocalSubject),
			Type:         exportType(imp.Type),
			Share:        imp.Share,
			AllowTrace:   imp.AllowTrace,
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.LocalSubject < b.LocalSubject
	})
	return out
}

// ActivationSpec describes an activation token for a private export.
type ActivationSpec struct {
	// Type is KindStream or KindService, as in the export.
	Type string
	// Subject is the exported subject, or a narrower one within it.
	Subject string
	// Importer is the public key of the account allowed to import.
	Importer string
	// Name labels the token.
	Name string
	// Expires is when the token stops being valid; zero means never.
	Expires time.Time
}

// SignActivation creates the activation token that lets spec.Importer import a private
// (token_required) export. The exporter signer is the exporting account's identity or one of
// its unscoped signing keys; role keys sign users only.
func SignActivation(exporter *Signer, spec ActivationSpec) (string, error) {
	if exporter == nil || exporter.KeyPair() == nil {
		return "", errors.New("no exporter signer given; pass the signer output of the exporting natsping_account")
	}
	if exporter.Kind != KindAccount {
		return "", fmt.Errorf("the signer is an %s key; activation tokens are signed by the exporting account (SA…)", exporter.Kind)
	}
	if exporter.Role != "" {
		return "", fmt.Errorf("role %q signs users only; sign activation tokens with the account's signer output", exporter.Role)
	}
	var errs fieldErrs
	validKind(&errs, Field("type"), spec.Type)
	if err := ValidateSubject(spec.Subject, SubjectOptions{Wildcards: true}); err != nil {
		errs.wrap(Field("subject"), err)
	}
	if err := ValidatePublicKey(spec.Importer, KindAccount); err != nil {
		errs.wrap(Field("importer"), err)
	}
	owner := exporter.Owner
	if owner == "" {
		owner = exporter.PublicKey
	}
	if spec.Importer == owner {
		errs.add(Field("importer"), "is the exporting account itself; activation tokens are for other accounts")
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	c := jwt.NewActivationClaims(spec.Importer)
	c.Name = spec.Name
	c.ImportSubject = jwt.Subject(spec.Subject)
	c.ImportType = exportType(spec.Type)
	if owner != exporter.PublicKey {
		c.IssuerAccount = owner
	}
	if !spec.Expires.IsZero() {
		c.Expires = spec.Expires.Unix()
	}
	vr := jwt.CreateValidationResults()
	c.Validate(vr)
	if err := errors.Join(vr.Errors()...); err != nil {
		return "", fmt.Errorf("the NATS JWT library rejects the activation: %w", err)
	}
	token, err := c.Encode(exporter.KeyPair())
	if err != nil {
		return "", fmt.Errorf("signing the activation token: %w", err)
	}
	return token, nil
}

package natsjwt

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// AccountSpec describes everything an account JWT carries. Build and sign it with SignAccount.
type AccountSpec struct {
	Name        string
	Description string
	InfoURL     string
	// Tags are lower-case "key:value" or plain labels; {{account-tag(key)}} in role templates reads them.
	Tags []string
	// Expires is when the JWT stops being valid; the zero time means it never expires.
	Expires time.Time
	Limits  AccountLimits
	// JetStream nil leaves JetStream disabled for the account.
	JetStream *JetStreamSpec
	Exports   []ExportSpec
	Imports   []ImportSpec
	// SigningKeys are extra unscoped account signing keys (public keys, A…).
	SigningKeys []string
	// DefaultPermissions apply to users of the account whose JWT carries no permissions.
	DefaultPermissions Permissions
	// Roles are scoped signing keys: users they sign get the role's template, nothing else.
	Roles []RoleSpec
	// Authorization makes this an auth-callout account; nil leaves auth callout off.
	Authorization *ExternalAuth
	// RevokedUsers refuses user JWTs by key and issue time (revocations.go).
	RevokedUsers Revocations
}

// AccountLimits are the account-wide limits. A nil limit is unlimited, as is -1; 0 is a real
// limit ("none allowed"), which is why the fields are pointers: the zero spec must not lock
// an account out.
type AccountLimits struct {
	Conn         *int64
	LeafNodeConn *int64
	Subs         *int64
	Data         *int64
	Payload      *int64
	Imports      *int64
	Exports      *int64
	// WildcardExports nil means allowed, the nats-server default.
	WildcardExports *bool
	// DisallowBearer rejects user JWTs that are bearer tokens.
	DisallowBearer bool
}

// Limit returns a pointer to n for the limit fields of AccountLimits and JetStreamLimits.
func Limit(n int64) *int64 { return &n }

// JetStreamSpec enables JetStream. Limits are either untiered (the embedded JetStreamLimits) or
// per replication tier (Tiers keyed "R1", "R3", …); nats-server rejects both at once.
type JetStreamSpec struct {
	JetStreamLimits
	Tiers map[string]JetStreamLimits
}

// JetStreamLimits bound the JetStream use of an account or of one tier. Nil and -1 are unlimited.
type JetStreamLimits struct {
	MemoryStorage        *int64
	DiskStorage          *int64
	Streams              *int64
	Consumer             *int64
	MaxAckPending        *int64
	MemoryMaxStreamBytes *int64
	DiskMaxStreamBytes   *int64
	// MaxBytesRequired makes every stream declare max_bytes.
	MaxBytesRequired bool
}

func (l JetStreamLimits) isSet() bool {
	return l.MemoryStorage != nil || l.DiskStorage != nil || l.Streams != nil || l.Consumer != nil ||
		l.MaxAckPending != nil || l.MemoryMaxStreamBytes != nil || l.DiskMaxStreamBytes != nil || l.MaxBytesRequired
}

// ExternalAuth turns the account into an auth-callout account (jwt.ExternalAuthorization).
type ExternalAuth struct {
	// AuthUsers are the user public keys that bypass the callout: the callout service itself.
	AuthUsers []string
	// AllowedAccounts are the account public keys the callout may place users in, or just "*".
	AllowedAccounts []string
	// XKey is the callout's curve public key (X…); requests are then sealed to it.
	XKey string
}

// ErrExpired marks problems that are only problems because time has passed (an expiry in the
// past, an expired activation token); callers may treat them differently for unchanged input.
var ErrExpired = errors.New("expired")

// ValidateOptions say what is known while validating.
type ValidateOptions struct {
	// AccountPublicKey is the account's own key; empty before the account exists, which skips
	// the checks that need it (activation tokens naming this account, imports from itself).
	AccountPublicKey string
	// Now enables the time checks (expiry in the future, activation tokens not expired); the
	// zero time skips them, so signing never depends on the wall clock.
	Now time.Time
}

var tierPattern = regexp.MustCompile(`^R[1-5]$`)

// ValidateTier checks the name of a JetStream tier. nats-server keys tiered limits by the
// stream replica count, and a stream has at most five replicas, so only R1 to R5 can apply.
func ValidateTier(name string) error {
	if !tierPattern.MatchString(name) {
		return fmt.Errorf("%q is not a tier; tiers are named after the stream replica count: R1, R2, R3, R4 or R5", name)
	}
	return nil
}

// Validate reports every problem of the spec at once, each as a FieldError naming the field
// and how to fix it. When its own checks pass it also runs nats-io/jwt's validation of the
// resulting claims, so nothing the library would refuse reaches signing.
func (s AccountSpec) Validate(opts ValidateOptions) error {
	var errs fieldErrs
	if strings.TrimSpace(s.Name) == "" {
		errs.add(Field("name"), "the account name is empty; give the account a name such as \"ORDERS\"")
	}
	if len(s.Description) > jwt.MaxInfoLength {
		errs.add(Field("description"), "is %d bytes long; keep it under %d bytes", len(s.Description), jwt.MaxInfoLength)
	}
	if s.InfoURL != "" {
		if u, err := url.Parse(s.InfoURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs.add(Field("info_url"), "%q is not an absolute URL; use a URL such as \"https://wiki.example.com/orders\"", s.InfoURL)
		}
	}
	validateTags(&errs, s.Tags)
	if !s.Expires.IsZero() && !opts.Now.IsZero() && !s.Expires.After(opts.Now) {
		errs.add(Field("expires_at"), "%s is not in the future (%w); set a later time or remove expires_at for a JWT that does not expire", s.Expires.Format(time.RFC3339), ErrExpired)
	}
	s.Limits.validate(&errs)
	if s.JetStream != nil {
		s.JetStream.validate(&errs)
	}
	validateExports(&errs, s.Exports, s.Limits)
	validateImports(&errs, s.Imports, opts)
	roleKeys := validateRoles(&errs, s.Roles)
	if name, clash := roleKeys[opts.AccountPublicKey]; clash && opts.AccountPublicKey != "" {
		errs.add(Field("roles"), "role %q uses the account's own identity key; every role needs its own signing key", name)
	}
	seen := map[string]bool{}
	for i, k := range s.SigningKeys {
		field := Field("signing_keys").AtIndex(i)
		if err := ValidatePublicKey(k, KindAccount); err != nil {
			errs.wrap(field, err)
			continue
		}
		switch {
		case k == opts.AccountPublicKey:
			errs.add(field, "%s is the account's own identity key; list only additional signing keys", k)
		case roleKeys[k] != "":
			errs.add(field, "%s is already the key of role %q; a key is either a role or an unscoped signing key", k, roleKeys[k])
		case seen[k]:
			errs.add(field, "%s is listed twice", k)
		}
		seen[k] = true
	}
	errs.wrap(Field("default_permissions"), s.DefaultPermissions.Validate(false))
	if s.Authorization != nil {
		s.Authorization.validate(&errs)
	}
	validateRevocations(&errs, s, opts)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return validateWithLibrary(s, opts)
}

func validateTags(errs *fieldErrs, tags []string) {
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case strings.TrimSpace(t) == "":
			errs.add(Field("tags"), "a tag is empty; remove it")
		case t != strings.ToLower(strings.TrimSpace(t)):
			// NATS lower-cases tags when it stores them; accepting "Team:Blue" would make the
			// state disagree with the JWT on every plan.
			errs.add(Field("tags"), "tag %q has upper-case letters or surrounding spaces, which NATS folds away; write %q", t, strings.ToLower(strings.TrimSpace(t)))
		case seen[t]:
			errs.add(Field("tags"), "tag %q is listed twice", t)
		}
		seen[t] = true
	}
}

func checkLimit(errs *fieldErrs, field FieldPath, v *int64) {
	if v != nil && *v < -1 {
		errs.add(field, "is %d; use a positive number, 0 for none, or -1 (or leave it unset) for unlimited", *v)
	}
}

func (l AccountLimits) validate(errs *fieldErrs) {
	checkLimit(errs, Field("limits").AtName("max_connections"), l.Conn)
	checkLimit(errs, Field("limits").AtName("max_leaf_nodes"), l.LeafNodeConn)
	checkLimit(errs, Field("limits").AtName("max_subscriptions"), l.Subs)
	checkLimit(errs, Field("limits").AtName("max_data"), l.Data)
	checkLimit(errs, Field("limits").AtName("max_payload"), l.Payload)
	checkLimit(errs, Field("limits").AtName("max_imports"), l.Imports)
	checkLimit(errs, Field("limits").AtName("max_exports"), l.Exports)
}

func (j JetStreamSpec) validate(errs *fieldErrs) {
	if len(j.Tiers) > 0 && j.JetStreamLimits.isSet() {
		errs.add(Field("jetstream"), "sets both untiered limits and tiers, which nats-server treats as mutually exclusive; "+
			"move the limits into tiers (\"R1\", \"R3\", …) or remove tiers")
		return
	}
	if len(j.Tiers) == 0 {
		j.JetStreamLimits.validate(errs, Field("jetstream"))
		return
	}
	for _, name := range sortedKeys(j.Tiers) {
		field := Field("jetstream").AtName("tiers").AtKey(name)
		if err := ValidateTier(name); err != nil {
			errs.wrap(field, err)
			continue
		}
		j.Tiers[name].validate(errs, field)
	}
}

func (l JetStreamLimits) validate(errs *fieldErrs, field FieldPath) {
	checkLimit(errs, field.AtName("memory_storage"), l.MemoryStorage)
	checkLimit(errs, field.AtName("disk_storage"), l.DiskStorage)
	checkLimit(errs, field.AtName("max_streams"), l.Streams)
	checkLimit(errs, field.AtName("max_consumers"), l.Consumer)
	checkLimit(errs, field.AtName("max_ack_pending"), l.MaxAckPending)
	checkLimit(errs, field.AtName("memory_max_stream_bytes"), l.MemoryMaxStreamBytes)
	checkLimit(errs, field.AtName("disk_max_stream_bytes"), l.DiskMaxStreamBytes)
	if isZero(l.MemoryStorage) && isZero(l.DiskStorage) {
		errs.add(field, "memory_storage and disk_storage are both 0, which leaves JetStream disabled; "+
			"allow some storage (-1 for unlimited), or remove the block to disable JetStream")
	}
}

func isZero(v *int64) bool { return v != nil && *v == 0 }

func (a ExternalAuth) validate(errs *fieldErrs) {
	if len(a.AllowedAccounts) > 0 && len(a.AuthUsers) == 0 {
		errs.add(Field("authorization").AtName("allowed_accounts"), "is set but auth_users is empty; nats-server only enables auth callout "+
			"with auth_users: list the callout service's user public key(s) there")
	}
	for _, u := range a.AuthUsers {
		if err := ValidatePublicKey(u, KindUser); err != nil {
			errs.wrap(Field("authorization").AtName("auth_users"), err)
		}
	}
	for _, acc := range a.AllowedAccounts {
		if acc == jwt.AnyAccount {
			if len(a.AllowedAccounts) > 1 {
				errs.add(Field("authorization").AtName("allowed_accounts"), "%q (any account) cannot be combined with account keys; use either \"*\" alone or a list of accounts", jwt.AnyAccount)
			}
			continue
		}
		if err := ValidatePublicKey(acc, KindAccount); err != nil {
			errs.wrap(Field("authorization").AtName("allowed_accounts"), fmt.Errorf("%w, or \"*\" for any account", err))
		}
	}
	if a.XKey != "" {
		if err := ValidatePublicKey(a.XKey, KindCurve); err != nil {
			errs.wrap(Field("authorization").AtName("xkey"), err)
		}
	}
}

// validateWithLibrary builds the claims and runs nats-io/jwt's own validation. Before the
// account exists a throwaway key stands in for it and activation tokens are left out: they
// name the importing account, and their other checks already ran in validateImports.
func validateWithLibrary(s AccountSpec, opts ValidateOptions) error {
	pub := opts.AccountPublicKey
	if pub == "" {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return err
		}
		if pub, err = kp.PublicKey(); err != nil {
			return err
		}
		s.Imports = append([]ImportSpec(nil), s.Imports...)
		for i := range s.Imports {
			s.Imports[i].Token = ""
		}
	}
	claims := s.claims(pub)
	vr := jwt.CreateValidationResults()
	claims.Validate(vr)
	var errs []error
	for _, e := range vr.Errors() {
		errs = append(errs, &FieldError{Err: fmt.Errorf("the NATS JWT library rejects the account: %w", e)})
	}
	return errors.Join(errs...)
}

// SignAccount validates the spec, builds the account claims for accountPublicKey and signs
// them with an operator signer (the operator identity or one of its signing keys).
func SignAccount(spec AccountSpec, accountPublicKey string, operator *Signer) (string, error) {
	if operator == nil || operator.KeyPair() == nil {
		return "", errors.New("no operator signer given; pass the signer output of natsping_operator or an operator seed (SO…)")
	}
	if operator.Kind != KindOperator {
		return "", fmt.Errorf("the signer is an %s key; account JWTs are signed by an operator key (SO…)", operator.Kind)
	}
	if err := ValidatePublicKey(accountPublicKey, KindAccount); err != nil {
		return "", fmt.Errorf("account public key: %w", err)
	}
	if err := spec.Validate(ValidateOptions{AccountPublicKey: accountPublicKey}); err != nil {
		return "", err
	}
	if err := spec.issueActivations(accountPublicKey); err != nil {
		return "", err
	}
	token, err := spec.claims(accountPublicKey).Encode(operator.KeyPair())
	if err != nil {
		return "", fmt.Errorf("signing the account JWT: %w", err)
	}
	return token, nil
}

// issueActivations signs the activation tokens of imports that carry the exporter's signer;
// spec is a copy, so the caller's imports are left as they were.
func (s *AccountSpec) issueActivations(accountPublicKey string) error {
	imports := append([]ImportSpec(nil), s.Imports...)
	for i, imp := range imports {
		if imp.ActivationSigner == nil {
			continue
		}
		token, err := SignActivation(imp.ActivationSigner, ActivationSpec{Type: imp.Type, Subject: imp.Subject, Importer: accountPublicKey, Name: imp.Name})
		if err != nil {
			return &FieldError{Path: Field("imports").AtIndex(i).AtName("activation_signer"), Err: err}
		}
		imports[i].Token = token
		imports[i].ActivationSigner = nil
	}
	s.Imports = imports
	return nil
}

// claims renders a validated spec; every list is sorted so equal specs give equal claims.
func (s AccountSpec) claims(pub string) *jwt.AccountClaims {
	c := jwt.NewAccountClaims(pub)
	c.Name = s.Name
	c.Description = s.Description
	c.InfoURL = s.InfoURL
	if !s.Expires.IsZero() {
		c.Expires = s.Expires.Unix()
	}
	for _, t := range sortedList(s.Tags) {
		c.Tags.Add(t)
	}
	l := &c.Limits
	l.Conn = orNoLimit(s.Limits.Conn)
	l.LeafNodeConn = orNoLimit(s.Limits.LeafNodeConn)
	l.Subs = orNoLimit(s.Limits.Subs)
	l.Data = orNoLimit(s.Limits.Data)
	l.Payload = orNoLimit(s.Limits.Payload)
	l.Imports = orNoLimit(s.Limits.Imports)
	l.Exports = orNoLimit(s.Limits.Exports)
	l.WildcardExports = s.Limits.WildcardExports == nil || *s.Limits.WildcardExports
	l.DisallowBearer = s.Limits.DisallowBearer
	if js := s.JetStream; js != nil {
		if len(js.Tiers) > 0 {
			l.JetStreamTieredLimits = make(jwt.JetStreamTieredLimits, len(js.Tiers))
			for name, t := range js.Tiers {
				l.JetStreamTieredLimits[name] = t.toJWT()
			}
		} else {
			l.JetStreamLimits = js.JetStreamLimits.toJWT()
		}
	}
	c.Exports = exportsToJWT(s.Exports)
	c.Imports = importsToJWT(s.Imports)
	for _, k := range sortedList(s.SigningKeys) {
		c.SigningKeys.Add(k)
	}
	for _, r := range s.Roles {
		c.SigningKeys.AddScopedSigner(r.scope())
		r.addOverlapScopes(c.SigningKeys)
	}
	c.DefaultPermissions = s.DefaultPermissions.ToJWT()
	if a := s.Authorization; a != nil {
		c.Authorization.AuthUsers = sortedList(a.AuthUsers)
		c.Authorization.AllowedAccounts = sortedList(a.AllowedAccounts)
		c.Authorization.XKey = a.XKey
	}
	c.Revocations = s.RevokedUsers.toJWT()
	return c
}

func (l JetStreamLimits) toJWT() jwt.JetStreamLimits {
	// Storage, stream and consumer counts use -1 for unlimited; the per-stream and ack-pending
	// limits use 0, which is how nats-io/jwt renders "unlimited" for them (IsUnlimited).
	return jwt.JetStreamLimits{
		MemoryStorage:        orNoLimit(l.MemoryStorage),
		DiskStorage:          orNoLimit(l.DiskStorage),
		Streams:              orNoLimit(l.Streams),
		Consumer:             orNoLimit(l.Consumer),
		MaxAckPending:        orZero(l.MaxAckPending),
		MemoryMaxStreamBytes: orZero(l.MemoryMaxStreamBytes),
		DiskMaxStreamBytes:   orZero(l.DiskMaxStreamBytes),
		MaxBytesRequired:     l.MaxBytesRequired,
	}
}

func orNoLimit(v *int64) int64 {
	if v == nil {
		return jwt.NoLimit
	}
	return *v
}

func orZero(v *int64) int64 {
	if v == nil || *v < 0 {
		return 0
	}
	return *v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package natsjwt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nats-io/nkeys"
)

// KeyKind names the nkey roles that appear in this product. The letters are the ones
// users see at the start of public keys (O, A, U, X) and seeds (SO, SA, SU, SX).
type KeyKind nkeys.PrefixByte

const (
	KindOperator KeyKind = KeyKind(nkeys.PrefixByteOperator)
	KindAccount  KeyKind = KeyKind(nkeys.PrefixByteAccount)
	KindUser     KeyKind = KeyKind(nkeys.PrefixByteUser)
	KindCurve    KeyKind = KeyKind(nkeys.PrefixByteCurve)
)

func (k KeyKind) String() string {
	switch k {
	case KindOperator:
		return "operator"
	case KindAccount:
		return "account"
	case KindUser:
		return "user"
	case KindCurve:
		return "curve (xkey)"
	default:
		return fmt.Sprintf("unknown nkey kind %d", byte(k))
	}
}

// SeedPrefix is what a seed of this kind starts with, for error messages.
func (k KeyKind) SeedPrefix() string {
	switch k {
	case KindOperator:
		return "SO"
	case KindAccount:
		return "SA"
	case KindUser:
		return "SU"
	case KindCurve:
		return "SX"
	default:
		return "S?"
	}
}

// PublicPrefix is what a public key of this kind starts with, for error messages.
func (k KeyKind) PublicPrefix() string { return k.SeedPrefix()[1:] }

// NewKey creates a fresh key pair of the given kind and returns its public key and seed.
func NewKey(kind KeyKind) (public string, seed string, err error) {
	var kp nkeys.KeyPair
	if kind == KindCurve {
		kp, err = nkeys.CreateCurveKeys()
	} else {
		kp, err = nkeys.CreatePair(nkeys.PrefixByte(kind))
	}
	if err != nil {
		return "", "", fmt.Errorf("creating %s key: %w", kind, err)
	}
	public, err = kp.PublicKey()
	if err != nil {
		return "", "", err
	}
	raw, err := kp.Seed()
	if err != nil {
		return "", "", err
	}
	return public, string(raw), nil
}

// ParseSeed decodes an nkey seed and checks that it is of the expected kind. The error
// never contains the seed itself, only what was wrong with it and what was expected.
func ParseSeed(seed string, want KeyKind) (nkeys.KeyPair, error) {
	seed = strings.TrimSpace(seed)
	if seed == "" {
		return nil, fmt.Errorf("the seed is empty; expected an %s seed starting with %q", want, want.SeedPrefix())
	}
	prefix, _, err := nkeys.DecodeSeed([]byte(seed))
	if err != nil {
		return nil, fmt.Errorf("the value is not a valid nkey seed (%s); expected an %s seed starting with %q", describeSeedError(err), want, want.SeedPrefix())
	}
	if KeyKind(prefix) != want {
		return nil, fmt.Errorf("the seed is an %s seed (%s…) but an %s seed (%s…) is expected here", KeyKind(prefix), KeyKind(prefix).SeedPrefix(), want, want.SeedPrefix())
	}
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return nil, fmt.Errorf("the %s seed cannot be decoded: %s", want, describeSeedError(err))
	}
	return kp, nil
}

func describeSeedError(err error) string {
	switch {
	case errors.Is(err, nkeys.ErrInvalidChecksum):
		return "checksum mismatch: the seed was truncated or mistyped"
	case errors.Is(err, nkeys.ErrInvalidEncoding):
		return "not base32 nkey encoding"
	case errors.Is(err, nkeys.ErrInvalidSeed), errors.Is(err, nkeys.ErrInvalidPrefixByte):
		return "not an nkey seed: seeds start with S (SO, SA, SU, SX)"
	default:
		return "malformed"
	}
}

// ValidatePublicKey checks that s is a public nkey of the wanted kind.
func ValidatePublicKey(s string, want KeyKind) error {
	if s == "" {
		return fmt.Errorf("the public key is empty; expected an %s public key starting with %q", want, want.PublicPrefix())
	}
	// Secrets put here by mistake are described, never shown: callers put this error into
	// diagnostics, which Terraform prints unredacted.
	if strings.Contains(s, signerTokenPrefix) {
		return fmt.Errorf("this is a signer (it contains a seed), not a public key; pass the %s public key (%s…), e.g. the public_key output instead of signer", want, want.PublicPrefix())
	}
	if strings.HasPrefix(strings.TrimSpace(s), "S") {
		// Public keys never start with S; a value that does is a seed, possibly mistyped.
		return fmt.Errorf("this is a seed, not a public key; pass the %s public key (%s…) and keep seeds out of plain attributes", want, want.PublicPrefix())
	}
	if _, err := nkeys.Decode(nkeys.PrefixByte(want), []byte(s)); err != nil {
		got := nkeys.Prefix(s)
		if got != nkeys.PrefixByteUnknown && KeyKind(got) != want {
			return fmt.Errorf("%q is an %s public key but an %s public key (%s…) is expected", s, KeyKind(got), want, want.PublicPrefix())
		}
		return fmt.Errorf("%q is not a valid %s public key (%s…): %s", s, want, want.PublicPrefix(), describeSeedError(err))
	}
	return nil
}

// Signer is a key that signs JWTs on behalf of an owner: the operator identity or one of its
// signing keys, an account identity, one of its signing keys, or one of its roles (scoped
// signing keys). Terraform passes signers between resources as one sensitive string (see
// EncodeSigner), so a change of signer is visible in a plan as a changed sensitive input
// instead of being hidden behind a write-only attribute.
type Signer struct {
	// Owner is the identity public key of the operator or account the key signs for.
	// Empty when the signer was given as a raw signing-key seed whose owner is unknown.
	Owner string
	// Role is the name of the scoped signing key, empty for unscoped keys.
	Role string
	// Seed is the nkey seed of the signing key.
	Seed string
	// Kind is the key kind of the seed (operator or account).
	Kind KeyKind
	// PublicKey is the signing key's own public key.
	PublicKey string
	// Rotation is set for a role whose key rotates (see CheckSessionCoversRotation).
	Rotation *SignerRotation
	kp       nkeys.KeyPair
}

// KeyPair returns the parsed key pair for signing.
func (s *Signer) KeyPair() nkeys.KeyPair { return s.kp }

// IsIdentity reports whether the signing key is the owner's identity key.
func (s *Signer) IsIdentity() bool { return s.Owner != "" && s.Owner == s.PublicKey }

const signerTokenPrefix = "natsping-signer:v1:"

var roleNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidateRoleName checks the shape of a role name; role names appear in signer tokens,
// tags and audit lines, so they are kept to a safe alphabet.
func ValidateRoleName(name string) error {
	if !roleNamePattern.MatchString(name) {
		return fmt.Errorf("role name %q is invalid: use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit", name)
	}
	return nil
}

// NewSigner builds a signer from a seed and the owner it signs for.
func NewSigner(owner, role, seed string, kind KeyKind) (*Signer, error) {
	kp, err := ParseSeed(seed, kind)
	if err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, err
	}
	if owner != "" {
		if err := ValidatePublicKey(owner, kind); err != nil {
			return nil, fmt.Errorf("signer owner: %w", err)
		}
	}
	if role != "" {
		if err := ValidateRoleName(role); err != nil {
			return nil, err
		}
	}
	return &Signer{Owner: owner, Role: role, Seed: strings.TrimSpace(seed), Kind: kind, PublicKey: pub, kp: kp}, nil
}

// EncodeSigner renders the signer as the sensitive string that resources exchange:
// "natsping-signer:v1:<owner>:<role>:<seed>". The role part is empty for unscoped keys. A
// role whose key rotates adds ":rotation=<period>/<grace>", which only such roles carry, so
// the signers of every other role keep their value.
func EncodeSigner(s *Signer) string {
	out := signerTokenPrefix + s.Owner + ":" + s.Role + ":" + s.Seed
	if s.Rotation != nil {
		out += ":" + s.Rotation.encode()
	}
	return out
}

// ParseSigner accepts either a signer string produced by EncodeSigner or a raw nkey seed of
// the wanted kind (as nsc stores them). A raw identity seed owns itself; a raw signing-key seed
// has an unknown owner, which callers must then get from elsewhere.
func ParseSigner(value string, want KeyKind) (*Signer, error) {
	value = strings.TrimSpace(value)
	if !strings.HasPrefix(value, signerTokenPrefix) {
		s, err := NewSigner("", "", value, want)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	parts := strings.Split(strings.TrimPrefix(value, signerTokenPrefix), ":")
	if len(parts) != 3 && len(parts) != 4 {
		return nil, fmt.Errorf("the signer value is malformed: expected %q followed by owner, role and seed separated by ':'; pass the signer output of a natsping resource unchanged", signerTokenPrefix)
	}
	s, err := NewSigner(parts[0], parts[1], parts[2], want)
	if err != nil || len(parts) == 3 {
		return s, err
	}
	if s.Rotation, err = parseSignerRotation(parts[3]); err != nil {
		return nil, err
	}
	return s, nil
}

// ResolveOwner fills in the owner of a signer given as a raw seed: an identity seed owns
// itself; otherwise the caller-supplied owner is used. It fails when neither is known, or when
// the two disagree (a signer of one account used for another).
func (s *Signer) ResolveOwner(declared string) error {
	switch {
	case s.Owner != "" && declared != "" && s.Owner != declared:
		if s.Role != "" {
			return fmt.Errorf("role %q belongs to %s %s, not to %s; use a role of the %s this resource belongs to", s.Role, s.Kind, s.Owner, declared, s.Kind)
		}
		return fmt.Errorf("the signer belongs to %s %s, not to %s", s.Kind, s.Owner, declared)
	case s.Owner != "":
		return nil
	case declared != "":
		s.Owner = declared
		return nil
	default:
		// A raw seed with no declared owner: it can only be the owner's identity key.
		s.Owner = s.PublicKey
		return nil
	}
}

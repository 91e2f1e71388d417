package natsjwt

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// Key rotation with overlap. A rotating key has a successor prepared one apply ahead and
// listed in the JWT that trusts it (with the same template, for a role), so servers know it
// before anything is signed with it, whichever of the account JWT and the signer's new
// configuration is deployed first. At the rotation the successor becomes the signing key and
// the old key stays listed, unchanged, for the grace period, so every user it signed keeps
// working until it expires; then the old key is dropped. nats-server closes the connections
// of users signed by a scoped key that disappears from the account JWT (server/accounts.go,
// alteredScope), which is why the grace must cover the longest session the key signs.

// The bounds of a rotation schedule.
const (
	// MinRotationPeriod keeps a rotation from turning every plan into an update.
	MinRotationPeriod = time.Hour
	// MaxRotationGrace bounds how long a retired key may stay trusted.
	MaxRotationGrace = 30 * 24 * time.Hour
	// DefaultRotationGrace covers the longest session the callout hands out (a mapping's
	// max_session is at most 24h), so the default never cuts a live user off.
	DefaultRotationGrace = 24 * time.Hour
)

// RotationPolicy is how one key rotates.
type RotationPolicy struct {
	// Period rotates the key once it is this old; 0 rotates on keepers alone.
	Period time.Duration
	// Grace is how long the previous key stays listed after a rotation.
	Grace time.Duration
	// Emergency drops the previous key at once: at a rotation, and on the next plan for a
	// previous key still in its grace.
	Emergency bool
}

// CheckRotationPeriod is the rule for a rotation period.
func CheckRotationPeriod(d time.Duration) error {
	if d < MinRotationPeriod {
		return fmt.Errorf("rotation period %s is shorter than the minimum of %s", d, MinRotationPeriod)
	}
	return nil
}

// CheckRotationGrace is the rule for a grace period on its own.
func CheckRotationGrace(d time.Duration) error {
	switch {
	case d < 0:
		return fmt.Errorf("grace period %s is negative", d)
	case d > MaxRotationGrace:
		return fmt.Errorf("grace period %s is longer than the maximum of %s: a retired key would stay trusted for that long", d, MaxRotationGrace)
	}
	return nil
}

// Validate checks the policy as a whole: only one previous key is kept, so a key must not
// rotate again while its predecessor is still in its grace period.
func (p RotationPolicy) Validate() error {
	var errs []error
	if p.Period != 0 {
		errs = append(errs, CheckRotationPeriod(p.Period))
	}
	errs = append(errs, CheckRotationGrace(p.Grace))
	if p.Period != 0 && p.Grace > p.Period {
		errs = append(errs, fmt.Errorf("grace period %s is longer than the rotation period %s: the key would rotate again "+
			"while its predecessor is still listed, and only one previous key is kept; use a grace period of at most the "+
			"rotation period", p.Grace, p.Period))
	}
	return errors.Join(errs...)
}

// KeySchedule is where one rotating key stands.
type KeySchedule struct {
	// CreatedAt is when the current key became the signing key.
	CreatedAt time.Time
	// HasPrevious is true while a retired key is still listed.
	HasPrevious bool
}

// RotationStep is what a plan does to one key.
type RotationStep struct {
	// Rotate makes the prepared successor the signing key.
	Rotate bool
	// KeepPrevious keeps the key being retired listed for the grace period (Rotate only).
	KeepPrevious bool
	// DropPrevious removes the previous key still listed (Rotate, or its grace is over, or emergency).
	DropPrevious bool
	// Why says what made the step, for plan warnings.
	Why string
}

// Changes reports whether the step changes anything.
func (s RotationStep) Changes() bool { return s.Rotate || s.DropPrevious }

// DecideRotation is the schedule: what a plan at now does to a key, given whether its keepers
// changed since the last apply.
func DecideRotation(p RotationPolicy, k KeySchedule, keepersChanged bool, now time.Time) RotationStep {
	var step RotationStep
	due, at := RotationDue(p, k.CreatedAt, now)
	switch {
	case keepersChanged:
		step.Rotate, step.Why = true, "its keepers changed"
	case due:
		step.Rotate, step.Why = true, fmt.Sprintf("its rotation period of %s ended at %s", p.Period, at.UTC().Format(time.RFC3339))
	}
	if step.Rotate {
		step.KeepPrevious = p.Grace > 0 && !p.Emergency
		step.DropPrevious = k.HasPrevious
		if p.Emergency {
			step.Why += " (emergency: the old key is dropped at once)"
		}
		return step
	}
	if !k.HasPrevious {
		return step
	}
	switch until := k.CreatedAt.Add(p.Grace); {
	case p.Emergency:
		step.DropPrevious, step.Why = true, "emergency is set"
	case !now.Before(until):
		step.DropPrevious, step.Why = true, fmt.Sprintf("its grace period of %s ended at %s", p.Grace, until.UTC().Format(time.RFC3339))
	}
	return step
}

// RotationDue reports whether a key created at createdAt is due at now, and when it is (or
// was) due; a policy without a period is never due by time.
func RotationDue(p RotationPolicy, createdAt, now time.Time) (bool, time.Time) {
	if p.Period == 0 {
		return false, time.Time{}
	}
	at := createdAt.Add(p.Period)
	return !now.Before(at), at
}

// PreviousKeyDropAt is when a previous key retired at createdAt is dropped.
func PreviousKeyDropAt(p RotationPolicy, createdAt time.Time) time.Time {
	return createdAt.Add(p.Grace)
}

// ErrSessionOutlivesGrace is returned when users could outlive the key that signed them.
var ErrSessionOutlivesGrace = errors.New("session outlives the key rotation grace period")

// CheckSessionCoversRotation is the rule that ties a role's rotation to the sessions signed
// with its key: a user signed just before a rotation lives for up to maxSession, and its key
// stays listed for grace after the rotation, so grace must be at least maxSession (and the
// period, which is at least the grace, then is too). An emergency rotation cuts sessions
// short on purpose and is not checked.
func CheckSessionCoversRotation(maxSession time.Duration, r SignerRotation) error {
	switch {
	case r.Period != 0 && maxSession > r.Period:
		return fmt.Errorf("%w: max_session %s is longer than the rotation period %s of role %q's key; users signed before a "+
			"rotation would still be connected when their key is dropped, and nats-server would disconnect them. Use a "+
			"max_session of at most %s, or a longer key_rotation.period", ErrSessionOutlivesGrace, maxSession, r.Period, r.role, r.Period)
	case maxSession > r.Grace:
		return fmt.Errorf("%w: max_session %s is longer than the grace period %s of role %q's key rotation; users signed "+
			"before a rotation would still be connected when their key is dropped, and nats-server would disconnect them. "+
			"Use a max_session of at most %s, or a longer key_rotation.grace_period", ErrSessionOutlivesGrace, maxSession, r.Grace, r.role, r.Grace)
	}
	return nil
}

// SignerRotation is what a role signer says about its key's rotation, so that whoever uses
// the signer (a role mapping, the callout document) can check its sessions against it
// without a reference back to the account.
type SignerRotation struct {
	Period time.Duration
	Grace  time.Duration
	role   string
}

// WithRole names the role in error messages.
func (r SignerRotation) WithRole(role string) SignerRotation { r.role = role; return r }

const signerRotationPrefix = "rotation="

// encode renders the rotation as the signer token's optional fourth part: "rotation=<period>/<grace>".
func (r SignerRotation) encode() string {
	return signerRotationPrefix + r.Period.String() + "/" + r.Grace.String()
}

func parseSignerRotation(part string) (*SignerRotation, error) {
	rest, ok := strings.CutPrefix(part, signerRotationPrefix)
	period, grace, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return nil, fmt.Errorf("the signer value is malformed: its rotation part must be %q; pass the signer output of a natsping resource unchanged", "rotation=<period>/<grace>")
	}
	p, err1 := time.ParseDuration(period)
	g, err2 := time.ParseDuration(grace)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("the signer value is malformed: rotation: %w", err)
	}
	return &SignerRotation{Period: p, Grace: g}, nil
}

// addOverlapScopes lists the role's successor and previous keys with the role's own
// template: a template that differed would make the server re-scope (and disconnect) the
// users of the previous key.
func (r RoleSpec) addOverlapScopes(keys jwt.SigningKeys) {
	for _, k := range sortedList(r.OverlapKeys) {
		s := r.scope()
		s.Key = k
		keys.AddScopedSigner(s)
	}
}

func validateOverlapKeys(errs *fieldErrs, field FieldPath, r RoleSpec, byKey map[string]string) {
	for _, k := range r.OverlapKeys {
		if err := ValidatePublicKey(k, KindAccount); err != nil {
			errs.wrap(field, fmt.Errorf("rotation key: %w", err))
		} else if other, dup := byKey[k]; dup {
			errs.add(field, "rotation key %s is already a key of role %q; every key belongs to one role", k, other)
		} else {
			byKey[k] = r.Name
		}
	}
}

package offboard

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Kind is what an entry revokes.
type Kind string

const (
	// KindSubject is a person: the token's sub.
	KindSubject Kind = "sub"
	// KindClient is a service: the client_id of a token without sub (client credentials).
	// A person's token also carries the client_id of the app they signed in through; it is
	// not matched, as the callout admits persons by sub and tags them so.
	KindClient Kind = "client"
	// KindMapping is every user admitted through one mapping.
	KindMapping Kind = "mapping"
	// KindRole is every user placed in one role of one account, whatever mapping chose it.
	KindRole Kind = "role"
)

// MaxFutureCutoff bounds how far ahead a cutoff may lie. A cutoff in the future refuses every
// token of the entry until then, including tokens issued after the apply; a day is the longest
// token lifetime the callout accepts (calloutconfig.TokenLifetimeBounds), so a later cutoff
// is almost certainly a typo in the year and would lock someone out without anyone noticing.
var MaxFutureCutoff = calloutconfig.TokenLifetimeBounds.Max

// CheckCutoff refuses a cutoff further ahead of now than MaxFutureCutoff.
func CheckCutoff(cutoff, now time.Time) error {
	if ahead := cutoff.Sub(now); ahead > MaxFutureCutoff {
		return fmt.Errorf("cutoff %s is %s in the future, more than the %s allowed: a cutoff ahead refuses every token of "+
			"the entry until then; give the time the access should end (usually now: leave cutoff out)",
			cutoff.UTC().Format(time.RFC3339), calloutconfig.ShortDuration(ahead.Round(time.Minute)), calloutconfig.ShortDuration(MaxFutureCutoff))
	}
	return nil
}

// CutoffOutlived reports whether every token a cutoff could refuse has expired by now: a
// token issued before the cutoff lives at most maxLifetime (the trust's max_token_lifetime,
// which the callout enforces), so once now passes cutoff + maxLifetime the entry refuses only
// tokens without iat. Such a cutoff is allowed (the entry stays harmless) but worth a warning.
func CutoffOutlived(cutoff, now time.Time, maxLifetime time.Duration) bool {
	return maxLifetime > 0 && now.After(cutoff.Add(maxLifetime))
}

// DefaultCutoff is the cutoff for an apply at now: the next whole second, because token iat
// values are whole seconds and a token issued earlier in the same second must be refused.
func DefaultCutoff(now time.Time) time.Time {
	t := now.Truncate(time.Second)
	if t.Before(now) {
		t = t.Add(time.Second)
	}
	return t
}

// Entry is one revocation as the bucket stores it (JSON), under Key().
type Entry struct {
	Kind Kind `json:"kind"`
	// Value is the subject, client id, mapping name or role name, exactly as the token or
	// the callout document has it.
	Value string `json:"value"`
	// Account is the role's account public key; only for KindRole, whose names are per account.
	Account string `json:"account,omitempty"`
	// Cutoff in unix seconds: tokens issued before it (iat < cutoff) are refused.
	Cutoff int64  `json:"cutoff"`
	Reason string `json:"reason,omitempty"`
}

// Validate checks an entry on its own (not against a callout document; see CheckAgainst).
func (e Entry) Validate() error {
	switch e.Kind {
	case KindSubject:
		// Subjects are compared exactly; PingFederate may issue DNs with spaces, so only what
		// no token's sub could hold is refused.
		if e.Value == "" || strings.TrimSpace(e.Value) != e.Value || strings.ContainsFunc(e.Value, unicode.IsControl) {
			return fmt.Errorf("sub %q is empty, starts or ends with a space or holds a control character; give the token's sub exactly", e.Value)
		}
	case KindClient:
		if err := calloutconfig.CheckClientID(e.Value); err != nil {
			return fmt.Errorf("client: %w", err)
		}
	case KindMapping:
		if e.Value == "" {
			return errors.New("mapping: the name is empty")
		}
	case KindRole:
		if err := natsjwt.ValidatePublicKey(e.Account, natsjwt.KindAccount); err != nil {
			return fmt.Errorf("role %q: account: %w", e.Value, err)
		}
		if err := natsjwt.ValidateRoleName(e.Value); err != nil {
			return fmt.Errorf("role: %w", err)
		}
	default:
		return fmt.Errorf("unknown kind %q (sub, client, mapping or role)", e.Kind)
	}
	if e.Kind != KindRole && e.Account != "" {
		return fmt.Errorf("%s %q: account is only for roles", e.Kind, e.Value)
	}
	return nil
}

var b64 = base64.RawURLEncoding

// Key is the entry's key in the bucket. Subjects, client ids and mapping names may hold any
// character, and key-value keys only letters, digits and -/_=., so values are base64url
// (unpadded); role keys carry the account key in clear. Kinds use distinct prefixes, so a
// person and a service with the same string never share a key.
func (e Entry) Key() string {
	if e.Kind == KindRole {
		return "role." + e.Account + "." + b64.EncodeToString([]byte(e.Value))
	}
	return string(e.Kind) + "." + b64.EncodeToString([]byte(e.Value))
}

// ParseKey is the inverse of Key: the entry it names, without cutoff or reason.
func ParseKey(key string) (Entry, error) {
	kind, rest, ok := strings.Cut(key, ".")
	if !ok {
		return Entry{}, fmt.Errorf("key %q has no kind prefix", key)
	}
	e := Entry{Kind: Kind(kind)}
	if e.Kind == KindRole {
		if e.Account, rest, ok = strings.Cut(rest, "."); !ok {
			return Entry{}, fmt.Errorf("role key %q has no account", key)
		}
	}
	v, err := b64.DecodeString(rest)
	if err != nil {
		return Entry{}, fmt.Errorf("key %q: the value is not base64url: %v", key, err)
	}
	e.Value = string(v)
	if err := e.Validate(); err != nil {
		return Entry{}, fmt.Errorf("key %q: %w", key, err)
	}
	return e, nil
}

// Marshal is the value stored under Key.
func (e Entry) Marshal() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// Decode reads a stored value for key. A value that does not parse, or that names another
// entry than its key, still revokes: the entry its key names, with no cutoff in sight
// (every token refused), because a broken value must not re-admit anyone. The error says why.
func Decode(key string, value []byte) (Entry, error) {
	want, err := ParseKey(key)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(value, &e); err != nil {
		want.Cutoff = neverReadmit
		return want, fmt.Errorf("key %q: the value is not an entry (%v); refusing every token it could name", key, err)
	}
	if e.Kind != want.Kind || e.Value != want.Value || e.Account != want.Account {
		want.Cutoff = neverReadmit
		return want, fmt.Errorf("key %q holds an entry for %s %q; refusing every token of the key's own entry", key, e.Kind, e.Value)
	}
	return e, nil
}

// neverReadmit is a cutoff no token's iat reaches.
const neverReadmit = int64(1<<62 - 1)

// String names the entry for audit lines and messages, never with its reason.
func (e Entry) String() string {
	if e.Kind == KindRole {
		return fmt.Sprintf("role %s of account %s", e.Value, e.Account)
	}
	return fmt.Sprintf("%s %s", e.Kind, e.Value)
}

// CutoffTime is the cutoff as a time.
func (e Entry) CutoffTime() time.Time { return time.Unix(e.Cutoff, 0).UTC() }

package access

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Permissions are a user's publish and subscribe rules as nats-server holds them after
// expansion: a role template before Expand, the user's effective permissions after.
// Empty and nil lists are the same thing, because a JWT cannot carry an empty list.
type Permissions struct {
	PubAllow, PubDeny, SubAllow, SubDeny []string
	Responses                            *ResponsePermission
}

// ResponsePermission is allow_responses: replies to requests the user received pass the
// publish check, up to MaxMsgs replies within Expires of each request.
type ResponsePermission struct {
	MaxMsgs int
	Expires time.Duration
}

// The server's defaults for a zero MaxMsgs or Expires (server/const.go).
const (
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
	sysQueue               = "_sys_"
	maxTemplateExpansions  = 4096
)

// FromJWT takes permissions as nats-io/jwt carries them (a role template's Permissions, a
// user's, or an account's default_permissions; natsjwt.Permissions.ToJWT gives this form).
func FromJWT(p jwt.Permissions) Permissions {
	out := Permissions{
		PubAllow: clone(p.Pub.Allow), PubDeny: clone(p.Pub.Deny),
		SubAllow: clone(p.Sub.Allow), SubDeny: clone(p.Sub.Deny),
	}
	if p.Resp != nil {
		out.Responses = &ResponsePermission{MaxMsgs: p.Resp.MaxMsgs, Expires: p.Resp.Expires}
	}
	return out
}

// ToJWT is the inverse of FromJWT.
func (p Permissions) ToJWT() jwt.Permissions {
	var out jwt.Permissions
	out.Pub.Allow, out.Pub.Deny = clone(p.PubAllow), clone(p.PubDeny)
	out.Sub.Allow, out.Sub.Deny = clone(p.SubAllow), clone(p.SubDeny)
	if p.Responses != nil {
		out.Resp = &jwt.ResponsePermission{MaxMsgs: p.Responses.MaxMsgs, Expires: p.Responses.Expires}
	}
	return out
}

// IsEmpty reports whether no rule is set; the server then applies the account's default
// permissions instead (see Effective).
func (p Permissions) IsEmpty() bool {
	return len(p.PubAllow)+len(p.PubDeny)+len(p.SubAllow)+len(p.SubDeny) == 0 && p.Responses == nil
}

// Effective is what the server enforces for a user whose (expanded) permissions are user:
// a user JWT without any rule gets the account's default_permissions
// (server/accounts.go buildInternalNkeyUser), never "allow all".
func Effective(user, accountDefault Permissions) Permissions {
	if user.IsEmpty() {
		return accountDefault
	}
	return user
}

// Op is what a client asks the server to do.
type Op int

const (
	Publish Op = iota + 1
	Subscribe
)

func (o Op) String() string {
	switch o {
	case Publish:
		return "publish"
	case Subscribe:
		return "subscribe"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Reason says which rule decided, for an access view that explains itself.
type Reason string

const (
	NoRules       Reason = "no_rules"          // no list applies: everything passes
	AllowedBy     Reason = "allowed"           // Decision.Rule is the allow entry that admitted it
	NotInAllow    Reason = "not_in_allow"      // an allow list exists and no entry covers it
	QueueNotAllow Reason = "queue_not_allowed" // allow entries for this subject name other queue groups
	DeniedBy      Reason = "denied"            // Decision.Rule is the deny entry that refused it
	SystemQueue   Reason = "system_queue"      // the queue group "_sys_" is reserved by the server
)

// Decision is the server's answer to one request.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Rule is the entry that decided (for AllowedBy, DeniedBy, QueueNotAllow), as written.
	Rule string
	// Replies is set on a refused publish when allow_responses is on: the server still lets
	// the user publish to this subject as a reply to a request it received (server/client.go
	// responseAllowed runs after both allow and deny).
	Replies bool
}

// Allows reports whether the server admits op on subject, for a plain (non-queue)
// subscription. Subjects that natsjwt.ValidateSubject refuses are never allowed.
func (p Permissions) Allows(op Op, subject string) bool {
	d, err := p.Check(op, subject, "")
	return err == nil && d.Allowed
}

// AllowsQueue reports whether the server admits a queue subscription on subject in queue.
func (p Permissions) AllowsQueue(subject, queue string) bool {
	d, err := p.Check(Subscribe, subject, queue)
	return err == nil && d.Allowed
}

// Check decides op on subject (queue only with Subscribe; "" for a plain subscription).
// It returns an error, and no decision, for a subject or queue natsjwt refuses, so a
// provider function reports the same message as every other subject attribute.
func (p Permissions) Check(op Op, subject, queue string) (Decision, error) {
	if err := natsjwt.ValidateSubject(subject, natsjwt.SubjectOptions{Wildcards: true}); err != nil {
		return Decision{}, err
	}
	switch op {
	case Publish:
		if queue != "" {
			return Decision{}, fmt.Errorf("queue group %q given for a publish; queue groups apply to subscriptions only", queue)
		}
		return p.checkPublish(subject), nil
	case Subscribe:
		if queue != "" {
			if err := natsjwt.ValidateSubject(queue, natsjwt.SubjectOptions{Wildcards: true}); err != nil {
				return Decision{}, fmt.Errorf("queue group: %w", err)
			}
		}
		return p.checkSubscribe(subject, queue), nil
	}
	return Decision{}, fmt.Errorf("unknown operation %v; use publish or subscribe", op)
}

// checkPublish is server/client.go pubAllowedWithResp with the lists setPermissions builds
// from buildPermissionsFromJwt: allow_responses with no publish allow list turns the
// blanket allow off (validateResponsePermissions).
func (p Permissions) checkPublish(subject string) Decision {
	hasAllow := len(p.PubAllow) > 0 || p.Responses != nil
	if !hasAllow && len(p.PubDeny) == 0 {
		return Decision{Allowed: true, Reason: NoRules}
	}
	d := Decision{Allowed: true, Reason: NoRules}
	if hasAllow {
		d = Decision{Reason: NotInAllow}
		for _, e := range p.PubAllow {
			// setPermissions skips invalid publish allow entries.
			if serverValidSubject(e) && Match(e, subject) {
				d = Decision{Allowed: true, Reason: AllowedBy, Rule: e}
				break
			}
		}
	}
	if d.Allowed {
		for _, e := range p.PubDeny {
			// setPermissions keeps the subject part of a deny entry it cannot read whole.
			s := e
			if !serverValidSubject(e) {
				var ok bool
				if s, _, ok = splitSubjectQueue(e); !ok {
					continue
				}
			}
			if Match(s, subject) {
				d = Decision{Reason: DeniedBy, Rule: e}
				break
			}
		}
	}
	if !d.Allowed && p.Responses != nil {
		d.Replies = true
	}
	return d
}

// checkSubscribe is server/client.go canSubscribeInternal for a CLIENT connection, plus
// processSub's refusal of the "_sys_" queue.
func (p Permissions) checkSubscribe(subject, queue string) Decision {
	d := Decision{Allowed: true, Reason: NoRules}
	if len(p.SubAllow) > 0 {
		d = Decision{Reason: NotInAllow}
		var groups []entry
		for _, e := range p.SubAllow {
			s, q, ok := splitSubjectQueue(e)
			if !ok || !Match(s, subject) {
				continue
			}
			if q == "" {
				if !d.Allowed {
					d = Decision{Allowed: true, Reason: AllowedBy, Rule: e}
				}
			} else {
				groups = append(groups, entry{raw: e, queue: q})
			}
		}
		// A queue subscription that matches queue entries is decided by them alone, even
		// when a plain entry also covers the subject.
		if queue != "" && len(groups) > 0 {
			if g, ok := queueMatches(queue, groups); ok {
				d = Decision{Allowed: true, Reason: AllowedBy, Rule: g.raw}
			} else {
				d = Decision{Reason: QueueNotAllow, Rule: groups[0].raw}
			}
		}
	}
	if d.Allowed && len(p.SubDeny) > 0 {
		var groups []entry
		for _, e := range p.SubDeny {
			s, q, ok := splitSubjectQueue(e)
			if !ok || !Match(s, subject) {
				continue
			}
			if q == "" {
				return Decision{Reason: DeniedBy, Rule: e}
			}
			groups = append(groups, entry{raw: e, queue: q})
		}
		if queue != "" && len(groups) > 0 {
			if g, ok := queueMatches(queue, groups); ok {
				return Decision{Reason: DeniedBy, Rule: g.raw}
			}
		}
	}
	if d.Allowed && queue == sysQueue {
		return Decision{Reason: SystemQueue}
	}
	return d
}

type entry struct{ raw, queue string }

// queueMatches is the server's queueMatches: a queue entry names the group literally, or
// with wildcards that must cover the requested name as a subset.
func queueMatches(queue string, groups []entry) (entry, bool) {
	for _, g := range groups {
		if queue == g.queue || (hasWildcard(g.queue) && subsetMatch(queue, g.queue)) {
			return g, true
		}
	}
	return entry{}, false
}

// splitSubjectQueue is the server's parse of a subscribe entry: "subject" or
// "subject queue", both valid subjects, separated by any whitespace.
func splitSubjectQueue(sq string) (subject, queue string, ok bool) {
	f := strings.Fields(sq)
	switch {
	case len(f) == 0 || len(f) > 2:
		return "", "", false
	case len(f) == 2:
		queue = f[1]
		if !serverValidSubject(queue) {
			return "", "", false
		}
	}
	if !serverValidSubject(f[0]) {
		return "", "", false
	}
	return f[0], queue, true
}

func clone(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	return append([]string(nil), in...)
}

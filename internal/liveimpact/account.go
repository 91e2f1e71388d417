package liveimpact

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// deliverFix is how an account JWT reaches running servers; the same text for every account
// so the warnings group.
const deliverFix = "with `resolver = { type = \"memory\" }` the JWT sits in the config's resolver_preload: deploy the new " +
	"natsping_server_config output to every server and reload it (`nats-server --signal reload`, SIGHUP, or " +
	"$SYS.REQ.SERVER.<id>.RELOAD) — a reload picks up changed and added accounts; with a full resolver, " +
	"natsping_resolver_push pushes it (in this apply when it lists the account), or seed it with resolver_files"

// Account lists what replacing the account JWT old with planned does to live servers. planned must
// be the claims that will be signed (its Issuer the planned signer); old is the JWT the
// servers hold now. A nil old (a new account) has no live impact: nothing uses it yet.
func Account(old, planned *jwt.AccountClaims) []Finding {
	if old == nil || planned == nil || sameAccount(old, planned) {
		return nil
	}
	what := accountName(planned)
	out := []Finding{{
		Action: Deliver, What: what, Change: "the account JWT is re-signed",
		Effect: "every server keeps enforcing the JWT it holds, and users keep its permissions and limits, until the " +
			"new JWT reaches it",
		Fix: deliverFix,
	}}
	out = append(out, signingKeyFindings(what, old, planned)...)
	out = append(out, revocationFindings(what, old, planned)...)
	if f, ok := connectionLimitFinding(what, old, planned); ok {
		out = append(out, f)
	}
	if f, ok := subscriptionLimitFinding(what, old, planned); ok {
		out = append(out, f)
	}
	if !old.Limits.DisallowBearer && planned.Limits.DisallowBearer {
		out = append(out, Finding{
			Action: Disconnect, What: what, Change: "bearer tokens are no longer allowed (disallow_bearer)",
			Effect: "every connected user whose JWT is a bearer token is closed with an authorization violation and " +
				"cannot reconnect with it",
			Fix:    "issue those users JWTs that are not bearer tokens before delivering this change",
			closes: func(u User) bool { return u.Bearer },
		})
	}
	return out
}

// sameAccount ignores what every signing changes (issued-at, id) and activation tokens of
// imports (signed afresh each time, with the same grant), so re-signing equal content is no
// change for live servers.
func sameAccount(a, b *jwt.AccountClaims) bool {
	return sameJSON(normalizeAccount(a), normalizeAccount(b))
}

func normalizeAccount(c *jwt.AccountClaims) jwt.AccountClaims {
	n := *c
	n.IssuedAt, n.ID = 0, ""
	n.Imports = make(jwt.Imports, len(c.Imports))
	for i, imp := range c.Imports {
		cp := *imp
		cp.Token = ""
		n.Imports[i] = &cp
	}
	return n
}

func accountName(c *jwt.AccountClaims) string {
	if c.Name == "" {
		return fmt.Sprintf("account %s", c.Subject)
	}
	return fmt.Sprintf("account %q (%s)", c.Name, c.Subject)
}

// signingKeyFindings: nats-server closes the connections of users signed by a signing key that
// the new JWT no longer lists, and of users signed by a key whose scope differs in any way
// (role name, description, template), since it compares scopes with reflect.DeepEqual.
func signingKeyFindings(what string, old, planned *jwt.AccountClaims) []Finding {
	var out []Finding
	keys := make([]string, 0, len(old.SigningKeys))
	for k := range old.SigningKeys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		oldScope := old.SigningKeys[k]
		key := k
		closes := func(u User) bool { return u.SigningKey == key }
		newScope, kept := planned.SigningKeys[k]
		switch {
		case !kept:
			change := fmt.Sprintf("account signing key %s is removed", k)
			fix := "re-issue the creds of static users signed by this key (natsping_user with another signer) before delivering this change"
			if role := roleName(oldScope); role != "" {
				change = fmt.Sprintf("role %q (scoped signing key %s) is removed", role, k)
				fix = "move the role's mappings and static users to another role first if they must keep access"
			}
			out = append(out, Finding{
				Action: Disconnect, What: what, Change: change,
				Effect: "every connected user signed by this key (static users and the callout's users of the role) is " +
					"closed with an authentication violation and cannot reconnect with that JWT",
				Fix: fix, closes: closes,
			})
		case !sameJSON(oldScope, newScope):
			role := roleName(newScope)
			if role == "" {
				role = roleName(oldScope)
			}
			out = append(out, Finding{
				Action: Disconnect, What: what,
				Change: fmt.Sprintf("role %q (scoped signing key %s) changes its %s", role, k, scopeChanges(oldScope, newScope)),
				Effect: "every connected user of this role is closed with an authentication violation (nats-server closes the " +
					"users of a signing key whose scope changed in any way, even only its description); they can reconnect " +
					"at once and get the new template: static users with their creds, callout users through the callout",
				Fix: "roll it out when a reconnect of this role's clients is acceptable; clients with reconnect enabled " +
					"(the nats.go default) come back by themselves",
				closes: closes,
			})
		}
	}
	return out
}

func roleName(s jwt.Scope) string {
	if us, ok := s.(*jwt.UserScope); ok && us != nil {
		return us.Role
	}
	return ""
}

// scopeChanges names the parts of a scope that differ, for the warning.
func scopeChanges(a, b jwt.Scope) string {
	ua, _ := a.(*jwt.UserScope)
	ub, _ := b.(*jwt.UserScope)
	if ua == nil || ub == nil {
		return "kind (scoped or unscoped signing key)"
	}
	var parts []string
	if ua.Role != ub.Role {
		parts = append(parts, fmt.Sprintf("name (%q → %q)", ua.Role, ub.Role))
	}
	if ua.Description != ub.Description {
		parts = append(parts, "description")
	}
	if !sameJSON(ua.Template.Permissions, ub.Template.Permissions) {
		parts = append(parts, "permissions")
	}
	if !sameJSON(ua.Template.Limits, ub.Template.Limits) || ua.Template.BearerToken != ub.Template.BearerToken {
		parts = append(parts, "limits")
	}
	if len(parts) == 0 {
		return "template"
	}
	return strings.Join(parts, ", ")
}

// revocationFindings: on every account update nats-server closes the connections of users the
// JWT revokes (issued at or before the revocation time; "*" for every user). Entries the old
// JWT already had closed their users when it arrived, so only new or later entries close
// connections now.
func revocationFindings(what string, old, planned *jwt.AccountClaims) []Finding {
	keys := make([]string, 0, len(planned.Revocations))
	for k, t := range planned.Revocations {
		if prev, ok := old.Revocations[k]; !ok || prev < t {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Finding
	for _, k := range keys {
		key, at := k, planned.Revocations[k]
		when := time.Unix(at, 0).UTC().Format(time.RFC3339)
		change := fmt.Sprintf("user %s is revoked for JWTs issued at or before %s", key, when)
		effect := "that user's connections are closed (User Authentication Revoked) and a JWT issued at or before that time cannot reconnect"
		if key == jwt.All {
			change = fmt.Sprintf("every user JWT issued at or before %s is revoked", when)
			effect = "every connected user of the account whose JWT was issued at or before that time is closed " +
				"(User Authentication Revoked), static and callout users alike"
		}
		out = append(out, Finding{
			Action: Disconnect, What: what, Change: change, Effect: effect,
			closes: func(u User) bool {
				return (u.PublicKey == key || key == jwt.All) && u.IssuedAt > 0 && u.IssuedAt <= at
			},
		})
	}
	return out
}

// connectionLimitFinding: a lowered max_connections makes each server close the account's
// newest connections beyond the limit (server/accounts.go, maxAccountConnExceeded).
func connectionLimitFinding(what string, old, planned *jwt.AccountClaims) (Finding, bool) {
	n, prev := planned.Limits.Conn, old.Limits.Conn
	if n < 0 || (prev >= 0 && n >= prev) {
		return Finding{}, false
	}
	was := "unlimited"
	if prev >= 0 {
		was = fmt.Sprint(prev)
	}
	return Finding{
		Action: Disconnect, What: what,
		Change: fmt.Sprintf("max_connections is lowered from %s to %d", was, n),
		Effect: fmt.Sprintf("a server holding more than %d of the account's connections closes its newest ones beyond %d "+
			"(Maximum Account Connections Exceeded)", n, n),
		Fix: "check the account's connection count (e.g. `nats server report connections --account`) before lowering it",
	}, true
}

// subscriptionLimitFinding: a lowered max_subscriptions closes every connection that already
// holds at least that many subscriptions (server/client.go applyAccountLimits: subsAtLimit is
// len(subs) >= limit, then Maximum Subscriptions Exceeded).
func subscriptionLimitFinding(what string, old, planned *jwt.AccountClaims) (Finding, bool) {
	n, prev := planned.Limits.Subs, old.Limits.Subs
	if n < 0 || (prev >= 0 && n >= prev) {
		return Finding{}, false
	}
	was := "unlimited"
	if prev >= 0 {
		was = fmt.Sprint(prev)
	}
	return Finding{
		Action: Disconnect, What: what,
		Change: fmt.Sprintf("max_subscriptions is lowered from %s to %d", was, n),
		Effect: fmt.Sprintf("every connection of the account that holds %d or more subscriptions is closed "+
			"(Maximum Subscriptions Exceeded), not only those above the limit", n),
		Fix:    "check how many subscriptions the account's clients hold (e.g. `nats server report connections --account`) and leave room above the largest",
		closes: func(u User) bool { return n >= 0 && u.Subscriptions >= int(n) },
	}, true
}

// AccountPartlyKnown is Account for a plan in which some inputs of planned are known only at
// apply (their old values stand in): the JWT is re-signed whatever they turn out to be, so
// delivering it is always needed; the findings of the known parts follow.
func AccountPartlyKnown(old, planned *jwt.AccountClaims) []Finding {
	if old == nil || planned == nil {
		return nil
	}
	out := Account(old, planned)
	if len(out) > 0 {
		return out
	}
	return []Finding{{
		Action: Deliver, What: accountName(planned), Change: "the account JWT is re-signed with values known only at apply",
		Effect: "every server keeps enforcing the JWT it holds until the new JWT reaches it; the final plan at apply " +
			"warns about any connections it closes",
		Fix: deliverFix,
	}}
}

// AccountRemoved is what removing an account from live servers does: a MEMORY resolver
// reloaded without it, and a full resolver told to delete it (server/accounts.go removeCb:
// the account expires at once), close every connection of the account and refuse new ones.
// A full resolver that is not told keeps serving the account.
func AccountRemoved(old *jwt.AccountClaims) []Finding {
	if old == nil {
		return nil
	}
	return []Finding{{
		Action: Disconnect, What: accountName(old), Change: "the account is removed",
		Effect: "a server that drops it — a MEMORY resolver reloaded without it, a full resolver when " +
			"natsping_resolver_push deletes it (with operator_signer set) — closes every connection of the account and " +
			"refuses new ones; a full resolver that is not told to delete it keeps serving the account",
		Fix:    "move the account's users and mappings elsewhere first; with a full resolver and no deletion, remember the account stays usable",
		closes: func(User) bool { return true },
	}}
}

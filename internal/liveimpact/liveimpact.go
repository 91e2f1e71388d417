// Package liveimpact says what replacing an operator or account JWT does to nats-server
// instances that are already running: whether they must be restarted, whether they keep the
// old JWT until it is delivered (a config reload for a MEMORY resolver, a push for a full
// resolver), and which live connections the servers close when the new JWT arrives.
//
// Every rule here mirrors nats-server v2.15.3 and is pinned by a test against a real
// embedded server (live_test.go): server/reload.go refuses a reload whose trusted operators
// or system account changed; server/accounts.go (updateAccountClaimsWithRefresh) closes the
// connections of users signed by a signing key that was removed or whose scope changed in
// any way (alteredScope, a reflect.DeepEqual of the scope), the connections of revoked users,
// bearer users once bearer tokens are disallowed, and the newest connections above a lowered
// connection limit.
//
// The package only decides; internal/provider turns findings into plan warnings and
// natsping_resolver_push acts on them. Findings never carry secrets: they name accounts,
// roles and public keys only.
package liveimpact

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Action is what a finding means for live servers.
type Action string

const (
	// Restart: servers must be restarted with the new config; a reload is refused.
	Restart Action = "restart"
	// Deliver: servers keep the old JWT until a MEMORY resolver's config is reloaded or a full
	// resolver is pushed the new JWT.
	Deliver Action = "deliver"
	// Disconnect: when the new JWT reaches a server, it closes some live connections.
	Disconnect Action = "disconnect"
	// Refuse: once servers run the new operator JWT, they refuse some accounts.
	Refuse Action = "refuse"
)

// Finding is one consequence of a change for live servers.
type Finding struct {
	Action Action
	// What names the thing that changes, e.g. `role "reader" of account "ORDERS"`.
	What string
	// Change says how it changes.
	Change string
	// Effect says what running servers do about it.
	Effect string
	// Fix says how to roll it out.
	Fix string

	closes func(User) bool
}

// Summary is a one-line title for the finding, the same for every finding of one kind so
// Terraform can group them.
func (f Finding) Summary() string {
	switch f.Action {
	case Restart:
		return "Live servers must be restarted"
	case Deliver:
		return "Live servers keep the old account JWT until it is delivered"
	case Disconnect:
		return "Live connections will be closed"
	case Refuse:
		return "Servers restarted with this operator JWT will refuse accounts"
	}
	return string(f.Action)
}

// Detail is the whole explanation: what changes, what happens on live servers, what to do.
func (f Finding) Detail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s.\n\nOn live servers: %s.", f.What, f.Change, f.Effect)
	if f.Fix != "" {
		fmt.Fprintf(&b, "\n\nWhat to do: %s.", f.Fix)
	}
	return b.String()
}

// User is a live connection as the server sees it: who the user is, which key signed its JWT
// (empty for a user signed by the account identity key), when the JWT was issued, whether it
// is a bearer token, and how many subscriptions it holds.
type User struct {
	PublicKey  string
	SigningKey string
	IssuedAt   int64
	Bearer     bool
	// Subscriptions is how many subscriptions the connection holds.
	Subscriptions int
}

// Closes reports whether the server closes u's connection because of this finding. Only
// Disconnect findings close connections; a lowered connection limit closes connections by
// their age, not their user, and never matches a single user.
func (f Finding) Closes(u User) bool {
	return f.closes != nil && f.closes(u)
}

// sameJSON compares two values by their JSON encoding, which is how both sides of a
// comparison look after a JWT round trip (nil and empty lists encode alike under omitempty).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

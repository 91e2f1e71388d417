package resolver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// LookupResult is what the full resolvers hold for the accounts asked about.
type LookupResult struct {
	// JWT maps every account asked about to the JWT the resolvers hold, "" when none holds it.
	// When servers disagree it is the one they converge to: full resolvers keep the JWT
	// issued last when they exchange their stores (nats-server DirJWTStore.saveIfNewer).
	JWT map[string]string
	// Diverged lists the accounts whose JWT is not the same on every server that answered
	// (including servers that do not hold it at all), sorted.
	Diverged []string
	// Resolvers is the number of full resolvers that were asked.
	Resolvers int
}

// Lookup asks every full resolver behind nc (a system account connection) for its JWT of
// each account. Lookups are pipelined like pushes. An account no server answered for within
// the timeout is an error, so a missing answer is never mistaken for a missing account.
func Lookup(ctx context.Context, nc *nats.Conn, accounts []string, opts Options) (LookupResult, error) {
	opts = opts.withDefaults()
	for _, a := range accounts {
		if err := natsjwt.ValidatePublicKey(a, natsjwt.KindAccount); err != nil {
			return LookupResult{}, fmt.Errorf("cannot look up account: %w", err)
		}
	}
	resolvers, err := Discover(ctx, nc, opts)
	if err != nil {
		return LookupResult{}, err
	}
	reqs := make([]request, len(accounts))
	for i, a := range accounts {
		reqs[i] = request{subject: fmt.Sprintf(subjLookupFormat, a)}
	}
	// A lookup answer carries only the JWT (or nothing for "not found"), no server identity,
	// so answers are counted rather than matched to servers.
	answers := make([][]string, len(accounts))
	var noResponders bool
	states, err := pipeline(ctx, nc, reqs, opts.Window, opts.Timeout, func(i int, m *nats.Msg) bool {
		if isNoResponders(m) {
			noResponders = true
			return true
		}
		answers[i] = append(answers[i], string(m.Data))
		return len(answers[i]) >= resolvers
	})
	if err != nil {
		return LookupResult{}, err
	}
	if noResponders {
		return LookupResult{}, errNoResolver("nothing answers account lookups")
	}
	out := LookupResult{JWT: make(map[string]string, len(accounts)), Resolvers: resolvers}
	var silent []string
	for i, a := range accounts {
		if states[i] == expired && len(answers[i]) == 0 {
			silent = append(silent, a)
			continue
		}
		live, diverged := converge(answers[i])
		out.JWT[a] = live
		if diverged {
			out.Diverged = append(out.Diverged, a)
		}
	}
	if len(silent) > 0 {
		return LookupResult{}, fmt.Errorf("no server answered the lookup of %d account(s) within %s (first: %s)",
			len(silent), opts.Timeout, silent[0])
	}
	slices.Sort(out.Diverged)
	return out, nil
}

// converge picks, among the answers of the servers, the JWT the cluster settles on: the one
// issued last; equal issue times are broken by the token itself so the choice is stable.
func converge(answers []string) (live string, diverged bool) {
	if len(answers) == 0 {
		return "", false
	}
	for _, a := range answers[1:] {
		diverged = diverged || a != answers[0]
	}
	if !diverged {
		return answers[0], false
	}
	var bestIAT int64
	for _, a := range answers {
		if a == "" {
			continue
		}
		iat := issuedAt(a)
		if live == "" || iat > bestIAT || (iat == bestIAT && a < live) {
			live, bestIAT = a, iat
		}
	}
	return live, diverged
}

// issuedAt reads a JWT's iat without verifying it: the tokens come from the servers, which
// verified them before storing, and verifying every answer again would cost more than the
// lookup itself. A token that does not parse counts as issued at 0.
func issuedAt(token string) int64 {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var c struct {
		IssuedAt int64 `json:"iat"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return 0
	}
	return c.IssuedAt
}

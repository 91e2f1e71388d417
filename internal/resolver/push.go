package resolver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

// Defaults of Options.
const (
	DefaultTimeout = 10 * time.Second
	DefaultSettle  = 250 * time.Millisecond
	DefaultWindow  = 1024
)

// Options tune Push, Delete, Lookup and Discover. The zero value uses the defaults.
type Options struct {
	// Timeout is how long one request waits for all servers to answer. Default 10s.
	Timeout time.Duration
	// Settle is how long discovery waits for one more server after the last one answered,
	// when Servers is 0. Default 250ms.
	Settle time.Duration
	// Servers ends discovery as soon as that many full resolvers have answered, instead of
	// waiting for Settle; 0 waits. Fewer answering within Timeout is not an error: requests
	// then wait for the ones that did answer.
	Servers int
	// Window is how many requests may be in flight at once. Default 1024.
	Window int
	// Trust overrides the operators the servers are asked about (FetchTrust). Tests use it
	// to send what a careless client would.
	Trust *Trust
	// Operator is the operator JWT the servers are meant to run, when known: a refusal of an
	// account signed by a key only it lists then names it as the JWT to restart with.
	Operator *jwt.OperatorClaims
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	return o
}

// Report says what happened to every account of a Push, in the order they were given.
type Report struct {
	// Resolvers is the number of full resolvers expected to answer each push.
	Resolvers int
	Accounts  []AccountResult
}

// AccountResult is the outcome of pushing (Push) or deleting (Delete) one account.
type AccountResult struct {
	// Account is the account public key (the JWT's subject), or the JWT's position when it
	// does not decode.
	Account string
	// Stored lists the names of the servers that stored the JWT, or for Delete, that deleted
	// the account.
	Stored []string
	// Refused lists the servers that refused the JWT, with their reason.
	Refused []ServerError
	// Missing is how many of the expected full resolvers did not answer within the timeout.
	Missing int
	// Invalid is set when the JWT was not sent at all, because the servers would refuse it
	// or it would never work (not an account JWT, or signed by a key they do not trust).
	Invalid error

	deleting bool // the result of Delete: messages speak of deleting, not pushing
}

// ServerError is one server's refusal, as it reported it.
type ServerError struct {
	Server      string
	Code        int
	Description string
}

// Err explains why the account did not land; nil when at least one server stored it and
// none refused it. Missing servers alone are not an error: full resolvers exchange JWTs
// among themselves (every resolver interval), so a server that missed the push catches up.
func (r AccountResult) Err() error {
	pushed, update := "pushed", "update"
	if r.deleting {
		pushed, update = "deleted", "deletion"
	}
	switch {
	case r.Invalid != nil:
		return fmt.Errorf("account %s was not %s: %w", r.Account, pushed, r.Invalid)
	case len(r.Refused) > 0:
		msgs := make([]string, len(r.Refused))
		for i, e := range r.Refused {
			msgs[i] = fmt.Sprintf("%s: %s (code %d)", e.Server, e.Description, e.Code)
		}
		if r.deleting {
			return fmt.Errorf("deleting account %s was refused by %s", r.Account, strings.Join(msgs, "; "))
		}
		return fmt.Errorf("account %s was refused by %s", r.Account, strings.Join(msgs, "; "))
	case len(r.Stored) == 0:
		return fmt.Errorf("account %s: none of the %d full resolvers confirmed the %s in time", r.Account, r.Missing, update)
	}
	return nil
}

// Err joins the errors of all accounts; nil when every account landed.
func (r Report) Err() error {
	var errs []error
	for _, a := range r.Accounts {
		if err := a.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pushed counts the accounts that landed on at least one server without a refusal.
func (r Report) Pushed() int {
	n := 0
	for _, a := range r.Accounts {
		if a.Err() == nil {
			n++
		}
	}
	return n
}

// Incomplete lists the landed accounts that some expected server did not confirm.
func (r Report) Incomplete() []string {
	var out []string
	for _, a := range r.Accounts {
		if a.Err() == nil && a.Missing > 0 {
			out = append(out, a.Account)
		}
	}
	return out
}

// serverInfo is the part of nats-server's ServerInfo that identifies the server.
type serverInfo struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// updateResponse is nats-server's ServerAPIClaimUpdateResponse: exactly one of data
// (code 200, "jwt updated") and error (code 500, "<what> - <why>").
type updateResponse struct {
	Server *serverInfo `json:"server"`
	Data   *struct {
		Account string `json:"account"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"data"`
	Error *struct {
		Account     string `json:"account"`
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

// Push sends every account JWT to the full resolvers behind nc, which must be a connection of
// a system account user. JWTs that the servers would refuse, or that another operator signed,
// are not sent and are reported as Invalid. The returned error is Report.Err() unless the
// servers could not be reached at all; the Report is complete in both cases.
func Push(ctx context.Context, nc *nats.Conn, jwts []string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	trusted := trustFor(ctx, nc, opts)
	resolvers, err := Discover(ctx, nc, opts)
	trust, terr := trusted()
	if err != nil {
		return Report{}, err
	}
	if terr != nil {
		return Report{Resolvers: resolvers}, terr
	}
	if opts.Operator != nil {
		withTarget := *trust
		withTarget.Target = opts.Operator
		trust = &withTarget
	}
	report := Report{Resolvers: resolvers, Accounts: make([]AccountResult, len(jwts))}
	var reqs []request
	var reqAccount []int // request index → account index
	seen := map[string]int{}
	for i, token := range jwts {
		res := &report.Accounts[i]
		res.Account = fmt.Sprintf("#%d", i)
		claims, err := jwt.DecodeAccountClaims(token)
		if err != nil {
			res.Invalid = fmt.Errorf("not a valid account JWT: %w", err)
			continue
		}
		res.Account = claims.Subject
		if j, dup := seen[claims.Subject]; dup {
			res.Invalid = fmt.Errorf("the same account is also JWT #%d; push each account once", j)
			continue
		}
		seen[claims.Subject] = i
		vr := &jwt.ValidationResults{}
		claims.Validate(vr)
		if vr.IsBlocking(false) {
			res.Invalid = fmt.Errorf("the servers would refuse it: %w", errors.Join(vr.Errors()...))
			continue
		}
		if err := trust.Check(claims.Issuer); err != nil {
			res.Invalid = err
			continue
		}
		reqs = append(reqs, request{subject: subjClaimsUpdate, data: []byte(token)})
		reqAccount = append(reqAccount, i)
	}

	// Cache resolvers answer updates too, but what they keep expires; only the full resolvers
	// are awaited and reported.
	fullResolverAnswer := func(resp updateResponse) bool { return !fromCache(resp) }
	if err := collect(ctx, nc, reqs, reqAccount, &report, resolvers, opts, fullResolverAnswer, nil); err != nil {
		return report, err
	}
	return report, report.Err()
}

// fromCache tells a cache resolver's answer ("jwt updated cache", "jwt update cache skipped",
// "jwt update cache resulted in error - …") from a full resolver's ("jwt updated", …): the
// response carries no resolver type, only these messages (nats-server accounts.go).
func fromCache(r updateResponse) bool {
	msg := ""
	if r.Data != nil {
		msg = r.Data.Message
	} else if r.Error != nil {
		msg = r.Error.Description
	}
	return strings.HasPrefix(msg, "jwt update cache") || strings.HasPrefix(msg, "jwt updated cache")
}

func serverName(s *serverInfo) string {
	if s.Name != "" && s.Name != s.ID {
		return s.Name
	}
	return s.ID
}

// collect sends the requests through the pipeline and records, per account, which full
// resolvers confirmed, which refused (explain adds a fix to a refusal's description) and how
// many never answered. accept filters the answers that count.
func collect(ctx context.Context, nc *nats.Conn, reqs []request, reqAccount []int, report *Report, resolvers int, opts Options,
	accept func(updateResponse) bool, explain func(string) string) error {
	answered := make([]map[string]bool, len(reqs))
	states, err := pipeline(ctx, nc, reqs, opts.Window, opts.Timeout, func(i int, m *nats.Msg) bool {
		res := &report.Accounts[reqAccount[i]]
		if isNoResponders(m) {
			res.Refused = append(res.Refused, ServerError{Server: "(none)", Code: 503, Description: "no server listens on " + reqs[i].subject})
			return true
		}
		var resp updateResponse
		if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Server == nil || !accept(resp) {
			return false
		}
		if answered[i] == nil {
			answered[i] = make(map[string]bool, resolvers)
		}
		if answered[i][resp.Server.ID] {
			return false
		}
		answered[i][resp.Server.ID] = true
		name := serverName(resp.Server)
		switch {
		case resp.Error != nil:
			desc := resp.Error.Description
			if explain != nil {
				desc = explain(desc)
			}
			res.Refused = append(res.Refused, ServerError{Server: name, Code: resp.Error.Code, Description: desc})
		case resp.Data != nil && resp.Data.Code == 200:
			res.Stored = append(res.Stored, name)
		default:
			res.Refused = append(res.Refused, ServerError{Server: name, Description: "unexpected answer: " + string(m.Data)})
		}
		return len(answered[i]) >= resolvers
	})
	if err != nil {
		return err
	}
	for i, st := range states {
		if st == expired {
			report.Accounts[reqAccount[i]].Missing = max(0, resolvers-len(answered[i]))
		}
	}
	for i := range report.Accounts {
		slices.Sort(report.Accounts[i].Stored)
	}
	return nil
}

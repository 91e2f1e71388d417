package resolver

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Subjects of the nats-server full resolver (server/events.go, server/accounts.go).
const (
	subjClaimsUpdate = "$SYS.REQ.CLAIMS.UPDATE"
	subjLookupFormat = "$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP"
	subjVarzPing     = "$SYS.REQ.SERVER.PING.VARZ"
)

// Discover counts the servers that run a full resolver. It looks up an account that cannot
// exist (a fresh key): every full resolver answers a lookup, with an empty message when it
// does not hold the account, and nothing else does. $SYS.REQ.CLAIMS.LIST would name the
// servers, but each of them reads and verifies every JWT it stores to answer it, which costs
// more than the push itself once an operator has thousands of accounts.
//
// With opts.Servers set it stops at that many answers; otherwise it waits for the first
// answer (up to opts.Timeout) and then until opts.Settle passes without another, since a
// cluster does not announce how many full resolvers it has.
func Discover(ctx context.Context, nc *nats.Conn, opts Options) (int, error) {
	opts = opts.withDefaults()
	probe, _, err := natsjwt.NewKey(natsjwt.KindAccount)
	if err != nil {
		return 0, err
	}
	subject := fmt.Sprintf(subjLookupFormat, probe)
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return 0, err
	}
	found := 0
	deadline := time.Now().Add(opts.Timeout)
	for opts.Servers == 0 || found < opts.Servers {
		wait := time.Until(deadline)
		if found > 0 && opts.Servers == 0 {
			wait = min(wait, opts.Settle)
		}
		if wait <= 0 {
			break
		}
		m, err := nextMsg(ctx, sub, wait)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			break // quiet for long enough, or the deadline passed
		}
		if isNoResponders(m) {
			return 0, errNoResolver("nothing answers account lookups")
		}
		found++
	}
	if found == 0 {
		return 0, errNoResolver(fmt.Sprintf("no server answered an account lookup within %s", opts.Timeout))
	}
	return found, nil
}

func errNoResolver(what string) error {
	return fmt.Errorf("%s: no full account resolver is reachable. Check that the servers run "+
		"`resolver { type: full }` and that the creds are those of a user of the operator's system account "+
		"(natsping_operator.system_user_creds); other accounts cannot see $SYS subjects", what)
}

func nextMsg(ctx context.Context, sub *nats.Subscription, wait time.Duration) (*nats.Msg, error) {
	c, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return sub.NextMsgWithContext(c)
}

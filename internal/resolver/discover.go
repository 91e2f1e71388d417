package resolver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
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

// Trust is what the servers trust: the operators of their configuration.
type Trust struct {
	Operators []*jwt.OperatorClaims
}

type varzResponse struct {
	Data struct {
		TrustedOperatorsClaim []*jwt.OperatorClaims `json:"trusted_operators_claim"`
	} `json:"data"`
	Error *struct {
		Description string `json:"description"`
	} `json:"error"`
}

// FetchTrust asks the servers which operators they trust (the first answer counts: servers
// of one cluster trust the same operator, or their routes would not connect accounts). A full resolver stores any
// well-formed account JWT it is sent, whoever signed it (server/accounts.go
// DirAccResolver.Start only refuses the operator identity key under strict signing keys);
// an account of another operator then sits in the resolver and fails only when a client
// connects. Checking the issuer here lets Push refuse it with a useful message instead.
func FetchTrust(ctx context.Context, nc *nats.Conn, timeout time.Duration) (Trust, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := nc.RequestWithContext(rctx, subjVarzPing, nil)
	if err != nil {
		return Trust{}, fmt.Errorf("asking the servers which operator they trust: %w", err)
	}
	var resp varzResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return Trust{}, fmt.Errorf("the servers answered a VARZ request with something that is not JSON: %w", err)
	}
	if resp.Error != nil {
		return Trust{}, fmt.Errorf("the servers refused a VARZ request: %s", resp.Error.Description)
	}
	if len(resp.Data.TrustedOperatorsClaim) == 0 {
		return Trust{}, errors.New("the servers trust no operator; a full resolver needs operator mode")
	}
	return Trust{Operators: resp.Data.TrustedOperatorsClaim}, nil
}

// Check tells whether an account signed by issuer is accepted under this trust, and why not.
func (t Trust) Check(issuer string) error {
	var names []string
	for _, op := range t.Operators {
		if issuer == op.Subject {
			if op.StrictSigningKeyUsage {
				return fmt.Errorf("it is signed by the identity key of operator %q (%s), which uses strict signing keys: "+
					"the servers accept only accounts signed by one of its signing keys; sign it with natsping_operator.signer", op.Name, op.Subject)
			}
			return nil
		}
		if op.SigningKeys.Contains(issuer) {
			return nil
		}
		names = append(names, fmt.Sprintf("%q (%s)", op.Name, op.Subject))
	}
	return fmt.Errorf("it is signed by %s, which is neither the operator the servers trust (%s) nor one of its "+
		"signing keys; sign the account with that operator's signer, or push it to the servers of its own operator",
		issuer, strings.Join(names, ", "))
}

package resolver

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

const subjClaimsDelete = "$SYS.REQ.CLAIMS.DELETE"

// deleteDisabled is how nats-server refuses deletes when its full resolver lacks
// allow_delete (server/accounts.go handleDeleteRequest).
const deleteDisabled = "delete must be enabled in server config"

// Delete removes accounts from the full resolvers behind nc (a system account connection)
// with $SYS.REQ.CLAIMS.DELETE. The servers honour the request only when it is a JWT that the
// operator identity or one of its signing keys issued about itself (subject = issuer), and
// only when their resolver runs with allow_delete: true.
//
// A server answers a delete request as a whole, not per account, so every account is its own
// request (pipelined like pushes): a refusal then names the account it is about. Deleting an
// account a server does not hold succeeds, which keeps a retried delete harmless. In the
// Report, AccountResult.Stored lists the servers that deleted the account.
func Delete(ctx context.Context, nc *nats.Conn, accounts []string, operator *natsjwt.Signer, opts Options) (Report, error) {
	opts = opts.withDefaults()
	if operator == nil {
		return Report{}, fmt.Errorf("deleting accounts needs the operator's signer")
	}
	if operator.Kind != natsjwt.KindOperator {
		return Report{}, fmt.Errorf("deleting accounts needs an operator key (SO… seed), got a %s key", operator.Kind)
	}
	trusted := trustFor(ctx, nc, opts)
	resolvers, err := Discover(ctx, nc, opts)
	trust, terr := trusted()
	if err != nil {
		return Report{}, err
	}
	if terr != nil {
		return Report{Resolvers: resolvers}, terr
	}
	if err := trust.checkDeleter(operator.PublicKey); err != nil {
		return Report{Resolvers: resolvers}, err
	}

	report := Report{Resolvers: resolvers, Accounts: make([]AccountResult, len(accounts))}
	var reqs []request
	var reqAccount []int
	first := map[string]int{} // account → index of the account that carries its request
	dups := map[int]int{}
	for i, acc := range accounts {
		res := &report.Accounts[i]
		res.Account, res.deleting = acc, true
		if err := natsjwt.ValidatePublicKey(acc, natsjwt.KindAccount); err != nil {
			res.Invalid = err
			continue
		}
		if j, dup := first[acc]; dup {
			dups[i] = j
			continue
		}
		first[acc] = i
		token, err := deleteRequest(acc, operator)
		if err != nil {
			res.Invalid = err
			continue
		}
		reqs = append(reqs, request{subject: subjClaimsDelete, data: []byte(token)})
		reqAccount = append(reqAccount, i)
	}

	explainRefusal := func(desc string) string {
		if strings.Contains(desc, deleteDisabled) {
			desc += "; set `allow_delete: true` in that server's resolver block (natsping_server_config: " +
				"`allow_delete = true` in `resolver`) and reload it"
		}
		return desc
	}
	anyAnswer := func(updateResponse) bool { return true }
	if err := collect(ctx, nc, reqs, reqAccount, &report, resolvers, opts, anyAnswer, explainRefusal); err != nil {
		return report, err
	}
	// A duplicate shares the outcome of the one request sent for its account.
	for i, j := range dups {
		report.Accounts[i] = report.Accounts[j]
	}
	return report, report.Err()
}

// deleteRequest is the claim nats-server expects: a generic JWT whose subject is the signing
// key itself, listing the accounts under nats.accounts.
func deleteRequest(account string, operator *natsjwt.Signer) (string, error) {
	claims := jwt.NewGenericClaims(operator.PublicKey)
	claims.Data["accounts"] = []string{account}
	token, err := claims.Encode(operator.KeyPair())
	if err != nil {
		return "", fmt.Errorf("signing the delete request: %w", err)
	}
	return token, nil
}

// checkDeleter tells whether the servers accept delete requests signed by key: the operator
// identity (unless it uses strict signing keys) or one of its signing keys.
func (t Trust) checkDeleter(key string) error {
	var names []string
	for _, op := range t.Operators {
		switch {
		case key == op.Subject && op.StrictSigningKeyUsage:
			return fmt.Errorf("the operator signer is the identity key of operator %q (%s), which uses strict signing keys: "+
				"the servers accept deletes only from one of its signing keys; use natsping_operator.signer", op.Name, op.Subject)
		case key == op.Subject || op.SigningKeys.Contains(key):
			return nil
		}
		names = append(names, fmt.Sprintf("%q (%s)", op.Name, op.Subject))
	}
	return fmt.Errorf("the operator signer %s is neither the operator the servers trust (%s) nor one of its signing keys, "+
		"so the servers would refuse its deletes; use the signer of that operator", key, strings.Join(names, ", "))
}

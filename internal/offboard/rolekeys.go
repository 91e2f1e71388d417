package offboard

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

// subjAccountInfo is answered by every server that has the account loaded (nats-server
// server/events.go, "INFO"): its answer carries the account JWT that server holds.
const subjAccountInfo = "$SYS.REQ.ACCOUNT.%s.INFO"

// accountInfo is nats-server's AccountInfo as far as it is read here.
type accountInfo struct {
	JWT string `json:"jwt"`
}

// learnRoleKeys adds to the selector's issuers every scoped signing key that the servers'
// account JWTs list for the role of one of the account's mappings. A role rotates with
// overlap (natsjwt rotation.go): the document names only the current key, while users the
// callout signed with the previous key stay connected for the grace period, and the
// successor is listed one apply ahead. The servers' JWTs are the ones that keep those users
// connected, so they say which keys count; unscoped keys never do, which keeps static users
// out. A server that does not have the account loaded has none of its connections, so its
// refusal is no loss.
func learnRoleKeys(ctx context.Context, nc *nats.Conn, sel *selector, quiet, timeout time.Duration) error {
	accounts := sel.accounts()
	if len(accounts) == 0 {
		return nil
	}
	inbox := nc.NewInbox()
	ch := make(chan *nats.Msg, 4*len(accounts)+64)
	sub, err := nc.ChanSubscribe(inbox+".*", ch)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	for i, acc := range accounts {
		if err := nc.PublishRequest(fmt.Sprintf(subjAccountInfo, acc), fmt.Sprintf("%s.%d", inbox, i), nil); err != nil {
			return err
		}
	}
	if err := nc.FlushTimeout(timeout); err != nil {
		return err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var idle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-idle:
			return nil
		case m := <-ch:
			idle = time.After(quiet)
			var idx int
			if _, err := fmt.Sscanf(m.Subject[len(inbox)+1:], "%d", &idx); err != nil || idx >= len(accounts) {
				continue
			}
			sel.addRoleKeys(accounts[idx], m.Data)
		}
	}
}

// addRoleKeys reads one server's INFO answer for acc. An answer that is an error or does not
// decode adds nothing: the document's own role keys are always issuers.
func (s *selector) addRoleKeys(acc string, data []byte) {
	var r apiResponse
	if json.Unmarshal(data, &r) != nil || r.Error != nil || len(r.Data) == 0 {
		return
	}
	var info accountInfo
	if json.Unmarshal(r.Data, &info) != nil || info.JWT == "" {
		return
	}
	claims, err := jwt.DecodeAccountClaims(info.JWT)
	if err != nil || claims.Subject != acc {
		return
	}
	for key, scope := range claims.SigningKeys {
		us, ok := scope.(*jwt.UserScope)
		if ok && us != nil && s.roles[acc][us.Role] {
			s.issuers[acc][key] = true
		}
	}
}

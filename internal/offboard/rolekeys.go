package offboard

import (
	"encoding/json"
	"fmt"

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

// askRoleKeys asks every server for the account JWT it holds of each account, answers to
// inbox.<index>; scan sends it with its first CONNZ round, so learning costs no round of its
// own, and matches that round's connections only once the answers are in (addRoleKeys).
//
// Why: a role rotates with overlap (natsjwt rotation.go). The document names only the current
// key, while users the callout signed with the previous key stay connected for the grace
// period, and the successor is listed one apply ahead. The servers' JWTs are the ones that
// keep those users connected, so they say which keys count. A server that does not have the
// account loaded has none of its connections, so its refusal is no loss.
func askRoleKeys(nc *nats.Conn, inbox string, accounts []string) error {
	for i, acc := range accounts {
		if err := nc.PublishRequest(fmt.Sprintf(subjAccountInfo, acc), fmt.Sprintf("%s.%d", inbox, i), nil); err != nil {
			return err
		}
	}
	return nil
}

// addRoleKeys reads one server's INFO answer for acc and adds every scoped key it lists for
// the role of one of acc's mappings; unscoped keys never count, which keeps static users out.
// An answer that is an error or does not decode adds nothing: the document's own role keys
// are always issuers.
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

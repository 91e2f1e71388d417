package liveimpact

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/jwt/v2"
)

// PendingKey stands, in a planned operator's SigningKeys, for a signing key that is generated
// at apply and so has no public key yet.
const PendingKey = ""

// Operator lists what replacing the operator JWT old with planned does to live servers. planned is
// the planned claims; a signing key not known yet is listed as PendingKey.
func Operator(old, planned *jwt.OperatorClaims) []Finding {
	if old == nil || planned == nil || sameOperator(old, planned) {
		return nil
	}
	what := fmt.Sprintf("operator %q (%s)", planned.Name, planned.Subject)
	out := []Finding{{
		Action: Restart, What: what, Change: "the operator JWT is re-signed",
		Effect: "servers read the operator JWT only when they start: a config reload with a changed operator is refused " +
			"(\"config reload not supported for TrustedOperators\") as a whole, so nothing else in that config — the " +
			"accounts in resolver_preload, the system account — takes effect either, and the server keeps running " +
			"on its old config",
		Fix: "deploy the new natsping_server_config output and restart the servers one at a time (lame duck mode " +
			"`nats-server --signal ldm` lets clients move to the other nodes)",
	}}
	added, removed := keyDiff(old.SigningKeys, planned.SigningKeys)
	if len(added) > 0 {
		out = append(out, Finding{
			Action: Restart, What: what,
			Change: "signing key " + strings.Join(added, ", ") + " is added",
			Effect: "a server still running the old operator JWT does not trust accounts signed by the new key: it cannot " +
				"load them (their users cannot connect there) and natsping_resolver_push refuses to push them, naming " +
				"the servers that lack the key",
			Fix: "restart every server with the new operator JWT first, then push or reload the accounts signed by the new key" +
				keptNote(removed),
		})
	}
	if len(removed) > 0 {
		out = append(out, Finding{
			Action: Refuse, What: what,
			Change: "signing key " + strings.Join(removed, ", ") + " is no longer listed",
			Effect: "a server restarted with this operator JWT refuses accounts still signed by the removed key: their users " +
				"cannot connect to it",
			Fix: "before restarting servers, make sure every account they hold is signed by a key this JWT lists " +
				"(natsping_account.operator_signer = natsping_operator.<name>.signer re-signs them) and delivered; " +
				"natsping_resolver_push with operator_jwt set warns about every account that is not",
		})
	}
	if !old.StrictSigningKeyUsage && planned.StrictSigningKeyUsage {
		out = append(out, Finding{
			Action: Refuse, What: what, Change: "strict signing keys are turned on",
			Effect: "a server restarted with this operator JWT refuses accounts signed by the operator identity key",
			Fix:    "re-sign such accounts with a signing key before restarting servers",
		})
	}
	if old.SystemAccount != planned.SystemAccount {
		out = append(out, Finding{
			Action: Restart, What: what,
			Change: fmt.Sprintf("the system account changes from %s to %s", old.SystemAccount, planned.SystemAccount),
			Effect: "nats-server cannot change its system account on a reload either; monitoring and natsping_resolver_push " +
				"need the new system account's creds once servers restart",
			Fix: "restart every server with the new config",
		})
	}
	return out
}

func sameOperator(a, b *jwt.OperatorClaims) bool {
	na, nb := *a, *b
	na.IssuedAt, na.ID, nb.IssuedAt, nb.ID = 0, "", 0, ""
	na.SigningKeys, nb.SigningKeys = sortedKeys(a.SigningKeys), sortedKeys(b.SigningKeys)
	return !slices.Contains(b.SigningKeys, PendingKey) && sameJSON(na, nb)
}

func sortedKeys(l jwt.StringList) jwt.StringList {
	out := slices.Clone(l)
	slices.Sort(out)
	return out
}

// keyDiff lists the keys of b that a lacks (a pending key as "a new key generated at apply")
// and the keys of a that b lacks.
func keyDiff(a, b jwt.StringList) (added, removed []string) {
	for _, k := range sortedKeys(b) {
		switch {
		case k == PendingKey:
			added = append(added, "(a new key generated at apply)")
		case !a.Contains(k):
			added = append(added, k)
		}
	}
	for _, k := range sortedKeys(a) {
		if !b.Contains(k) {
			removed = append(removed, k)
		}
	}
	return added, removed
}

// keptNote says whether the accounts servers hold keep working while the rotation rolls out.
func keptNote(removed []string) string {
	if len(removed) == 0 {
		return "; the previous key stays listed (signing_key_grace_period), so the accounts the servers hold keep working meanwhile"
	}
	return "; the previous key is dropped in the same JWT, so accounts still signed by it stop working on each server as it restarts"
}

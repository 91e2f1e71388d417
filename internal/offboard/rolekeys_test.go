package offboard

import (
	"encoding/json"
	"testing"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

func newKey(t *testing.T, kind natsjwt.KeyKind) (string, string) {
	t.Helper()
	pub, seed, err := natsjwt.NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	return pub, seed
}

// TestRoleKeysFromTheServersAccountJWT: the reader role's previous and successor keys, listed
// with its template, count as callout issuers; the scoped key of a role no mapping uses, the
// unscoped account key, and an answer about another account do not.
func TestRoleKeysFromTheServersAccountJWT(t *testing.T) {
	opPub, opSeed := newKey(t, natsjwt.KindOperator)
	op, err := natsjwt.NewSigner(opPub, "", opSeed, natsjwt.KindOperator)
	if err != nil {
		t.Fatal(err)
	}
	accPub, _ := newKey(t, natsjwt.KindAccount)
	otherPub, _ := newKey(t, natsjwt.KindAccount)
	unscoped, _ := newKey(t, natsjwt.KindAccount)
	cur, curSeed := newKey(t, natsjwt.KindAccount)
	prev, _ := newKey(t, natsjwt.KindAccount)
	next, _ := newKey(t, natsjwt.KindAccount)
	ops, _ := newKey(t, natsjwt.KindAccount)
	perms := natsjwt.Permissions{SubAllow: []string{"orders.>"}}
	accountJWT := func(pub string) []byte {
		t.Helper()
		j, err := natsjwt.SignAccount(natsjwt.AccountSpec{Name: "ORDERS", SigningKeys: []string{unscoped}, Roles: []natsjwt.RoleSpec{
			{Name: "reader", PublicKey: cur, Permissions: perms, OverlapKeys: []string{prev, next}},
			{Name: "ops", PublicKey: ops, Permissions: perms},
		}}, pub, op)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(accountInfo{JWT: j})
		answer, _ := json.Marshal(apiResponse{Data: data})
		return answer
	}
	doc := &calloutconfig.Document{Mappings: []calloutconfig.Mapping{
		{Name: "orders-readers", Account: accPub, Role: "reader", RoleSigningKey: cur, RoleSigningKeySeed: curSeed},
	}}
	tag := calloutconfig.TagPingSub + ":" + calloutconfig.IdentityTagValue("alice")
	conn := func(acc, issuer string) connInfo {
		return connInfo{Account: acc, IssuerKey: issuer, Tags: []string{tag}}
	}
	sel := newSelector(doc, []Entry{{Kind: KindSubject, Value: "alice"}})
	if _, ok := sel.match(conn(accPub, prev)); ok {
		t.Fatal("the previous key matched before the servers listed it")
	}
	// The same JWT under another account's id is not this account's answer.
	sel.addRoleKeys(accPub, accountJWT(otherPub))
	sel.addRoleKeys(accPub, []byte(`{"error":{"code":404,"description":"Account does not exist"}}`))
	if _, ok := sel.match(conn(accPub, prev)); ok {
		t.Fatal("an answer about another account, or an error, added keys")
	}
	sel.addRoleKeys(accPub, accountJWT(accPub))
	for _, k := range []string{cur, prev, next} {
		if _, ok := sel.match(conn(accPub, k)); !ok {
			t.Errorf("a user signed by reader key %s is not selected", k)
		}
	}
	for name, k := range map[string]string{"unscoped key (static user)": unscoped, "unmapped role ops": ops} {
		if _, ok := sel.match(conn(accPub, k)); ok {
			t.Errorf("a user signed by the %s is selected", name)
		}
	}
	if _, ok := sel.match(conn(otherPub, prev)); ok {
		t.Error("a key learned for one account selects in another")
	}
}

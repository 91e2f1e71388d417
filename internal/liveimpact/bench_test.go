package liveimpact_test

import (
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/liveimpact"
)

// BenchmarkAccount is the plan-time cost of one changed account: decoding the JWT the servers
// hold and comparing it with the planned claims (a role template edited).
func BenchmarkAccount(b *testing.B) {
	op, a := newOperator(b), newAccount(b)
	token := encode(b, a.claims(), op.signer)
	planned := a.claims()
	scope(planned, a.rolePubs["reader"]).Template.Pub.Allow = jwt.StringList{"orders.read.*"}
	for b.Loop() {
		old, err := jwt.DecodeAccountClaims(token)
		if err != nil {
			b.Fatal(err)
		}
		if len(liveimpact.Account(old, planned)) != 2 {
			b.Fatal("want deliver and disconnect")
		}
	}
}

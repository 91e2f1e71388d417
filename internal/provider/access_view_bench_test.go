package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// BenchmarkAccessView500Accounts computes the access view the way the data source and the
// access_view function do, for 500 account JWTs with 5 roles each and 2,000 mappings: decode
// and verify every account JWT, join each mapping to its role, sort, render the markdown.
func BenchmarkAccessView500Accounts(b *testing.B) {
	op, err := nkeys.CreateOperator()
	if err != nil {
		b.Fatal(err)
	}
	var jwts []attr.Value
	var keys []string
	for i := range 500 {
		akp, _ := nkeys.CreateAccount()
		apub, _ := akp.PublicKey()
		ac := jwt.NewAccountClaims(apub)
		ac.Name = fmt.Sprintf("ACC%03d", i)
		for r := range 5 {
			rkp, _ := nkeys.CreateAccount()
			rpub, _ := rkp.PublicKey()
			scope := jwt.NewUserScope()
			scope.Key, scope.Role = rpub, fmt.Sprintf("role%d", r)
			scope.Template.Sub.Allow.Add(fmt.Sprintf("orders.%d.>", r), "_INBOX.>")
			scope.Template.Pub.Allow.Add(fmt.Sprintf("orders.%d.{{tag(team)}}.>", r), "users.{{name()}}.>")
			scope.Template.Pub.Deny.Add("orders.admin.>")
			ac.SigningKeys.AddScopedSigner(scope)
		}
		token, err := ac.Encode(op)
		if err != nil {
			b.Fatal(err)
		}
		jwts = append(jwts, types.StringValue(token))
		keys = append(keys, apub)
	}
	accounts := types.DynamicValue(types.ListValueMust(types.StringType, jwts))
	mappings := make([]viewMapping, 2000)
	for i := range mappings {
		mappings[i] = viewMapping{name: fmt.Sprintf("m%04d", i), account: keys[i%500], role: fmt.Sprintf("role%d", i%5),
			groups: []string{fmt.Sprintf("group-%d", i)}, tags: []string{"team:blue"}, priority: int64(i % 3)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		accs, err := accessViewAccounts(ctx, accounts)
		if err != nil {
			b.Fatal(err)
		}
		entries := make([]accessViewEntry, 0, len(mappings))
		for _, m := range mappings {
			e, _, err := accessViewEntryFor(m, accs)
			if err != nil {
				b.Fatal(err)
			}
			entries = append(entries, e)
		}
		sortAccessEntries(entries)
		if md := accessViewMarkdown(entries); len(md) == 0 {
			b.Fatal("empty view")
		}
	}
}

package resolver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// TestDelete_Cluster deletes accounts from a 3-node cluster of full resolvers with
// allow_delete: every node drops them, lookups report them as not found, the others stay,
// and deleting again (or an account no server holds) succeeds.
func TestDelete_Cluster(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	c := startClusterDeletes(t, op, 3, true)
	nc := c.connect(t)
	ctx := context.Background()

	pubs := make([]string, 5)
	tokens := make([]string, 5)
	for i := range pubs {
		pubs[i], tokens[i] = op.account(t, "ACC"+string(rune('A'+i)))
	}
	if _, err := resolver.Push(ctx, nc, tokens, resolver.Options{Servers: 3}); err != nil {
		t.Fatalf("push: %v", err)
	}
	never, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	gone := []string{pubs[0], pubs[2], pubs[0], never}
	report, err := resolver.Delete(ctx, nc, gone, op.signer, resolver.Options{Servers: 3, Window: 2})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if report.Resolvers != 3 || len(report.Accounts) != len(gone) {
		t.Fatalf("want a result per account from 3 resolvers, got %+v", report)
	}
	for i, res := range report.Accounts {
		if res.Account != gone[i] || strings.Join(res.Stored, ",") != "n1,n2,n3" || res.Err() != nil {
			t.Fatalf("account %d: want deleted on n1,n2,n3, got %+v", i, res)
		}
	}
	for _, node := range c.nodes {
		for _, p := range []string{pubs[0], pubs[2]} {
			if node.storedJWT(t, p) != "" {
				t.Fatalf("node %s still stores deleted account %s", node.Name(), p)
			}
		}
	}
	live, err := resolver.Lookup(ctx, nc, pubs, resolver.Options{Servers: 3})
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	for i, p := range pubs {
		deleted := i == 0 || i == 2
		if got := live.JWT[p]; (got == "") != deleted || (!deleted && got != tokens[i]) {
			t.Fatalf("account %d: deleted=%v but lookup returned %q", i, deleted, got)
		}
	}
	if _, err := resolver.Delete(ctx, nc, pubs[:1], op.signer, resolver.Options{Servers: 3}); err != nil {
		t.Fatalf("deleting an account again must succeed: %v", err)
	}
}

// TestDelete_Refusals: deletes the servers would refuse fail with the reason and the fix,
// and nothing is deleted.
func TestDelete_Refusals(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	strict := startClusterDeletes(t, op, 1, true)
	noDelete := startCluster(t, op, 2)
	pub, token := op.account(t, "KEEP")
	for _, c := range []*cluster{strict, noDelete} {
		if _, err := resolver.Push(context.Background(), c.connect(t), []string{token}, resolver.Options{Servers: len(c.nodes)}); err != nil {
			t.Fatal(err)
		}
	}
	other := newOperator(t, "OTHER")
	tests := []struct {
		name     string
		c        *cluster
		accounts []string
		signer   *natsjwt.Signer
		want     []string
	}{
		{name: "allow_delete off", c: noDelete, accounts: []string{pub}, signer: op.signer,
			want: []string{"deleting account " + pub, "n1:", "n2:", "delete must be enabled", "allow_delete = true", "natsping_server_config"}},
		{name: "identity key under strict signing keys", c: strict, accounts: []string{pub}, signer: op.identity,
			want: []string{"strict signing keys", "natsping_operator.signer"}},
		{name: "another operator", c: strict, accounts: []string{pub}, signer: other.signer,
			want: []string{"neither the operator the servers trust (\"ACME\""}},
		{name: "not an operator key", c: strict, accounts: []string{pub}, signer: op.sysSigner,
			want: []string{"needs an operator key"}},
		{name: "system account", c: strict, accounts: []string{op.sys}, signer: op.signer,
			want: []string{"deleting account " + op.sys, "not allowed to delete system account"}},
		{name: "not an account key", c: strict, accounts: []string{op.public}, signer: op.signer,
			want: []string{"account " + op.public + " was not deleted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nc := tc.c.connect(t)
			_, err := resolver.Delete(context.Background(), nc, tc.accounts, tc.signer, resolver.Options{Servers: len(tc.c.nodes)})
			if err == nil {
				t.Fatal("delete must fail")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("the error must contain %q, got: %v", w, err)
				}
			}
			live, err := resolver.Lookup(context.Background(), nc, []string{pub}, resolver.Options{Servers: len(tc.c.nodes)})
			if err != nil || live.JWT[pub] != token {
				t.Fatalf("a refused delete must leave the account in place: err=%v", err)
			}
		})
	}
}

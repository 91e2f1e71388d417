package resolver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// TestPushLookup_Cluster pushes to a 3-node cluster of full resolvers through one node and
// proves every node stores every JWT, lookups return them, a second push replaces them and
// unknown accounts are reported as not found.
func TestPushLookup_Cluster(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	c := startCluster(t, op, 3)
	nc := c.connect(t)
	ctx := context.Background()

	const n = 40
	pubs := make([]string, n)
	tokens := make([]string, n)
	for i := range n {
		pubs[i], tokens[i] = op.account(t, fmt.Sprintf("ACC%d", i))
	}
	report, err := resolver.Push(ctx, nc, tokens, resolver.Options{})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if report.Resolvers != 3 {
		t.Fatalf("push expected %d full resolvers, want 3", report.Resolvers)
	}
	if got := report.Pushed(); got != n {
		t.Fatalf("pushed %d accounts, want %d", got, n)
	}
	for i, res := range report.Accounts {
		if res.Account != pubs[i] || strings.Join(res.Stored, ",") != "n1,n2,n3" || res.Missing > 0 {
			t.Fatalf("account %d: got %+v, want stored on n1,n2,n3", i, res)
		}
		for _, node := range c.nodes {
			if got := node.storedJWT(t, pubs[i]); got != tokens[i] {
				t.Fatalf("node %s does not hold the pushed JWT of %s", node.Name(), pubs[i])
			}
		}
	}

	unknown, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	// A small window makes the pipeline refill many times.
	live, err := resolver.Lookup(ctx, nc, append([]string{unknown}, pubs...), resolver.Options{Window: 7})
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	for i, p := range pubs {
		if live.JWT[p] != tokens[i] {
			t.Fatalf("lookup of %s returned another JWT than the one pushed", p)
		}
	}
	if got, ok := live.JWT[unknown]; !ok || got != "" {
		t.Fatalf("an unknown account must be reported as not found (\"\"), got present=%v %q", ok, got)
	}
	if len(live.Diverged) != 0 {
		t.Fatalf("no account should diverge, got %v", live.Diverged)
	}

	// Replace one account: a changed limit re-signs it, and every node takes the new JWT.
	updated := op.sign(t, pubs[0], natsjwt.AccountSpec{Name: "ACC0", Limits: natsjwt.AccountLimits{Conn: natsjwt.Limit(5)}})
	if _, err := resolver.Push(ctx, nc, []string{updated}, resolver.Options{Servers: 3}); err != nil {
		t.Fatalf("update: %v", err)
	}
	for _, node := range c.nodes {
		if node.storedJWT(t, pubs[0]) != updated {
			t.Fatalf("node %s still holds the old JWT of %s", node.Name(), pubs[0])
		}
	}
	live, err = resolver.Lookup(ctx, nc, pubs[:1], resolver.Options{Servers: 3})
	if err != nil || live.JWT[pubs[0]] != updated {
		t.Fatalf("lookup after update: err=%v, JWT replaced=%v", err, live.JWT[pubs[0]] == updated)
	}

	// A fourth "resolver" that answers lookups (so discovery counts it) but never updates:
	// every push waits out its timeout, the accounts still land, and the report says one
	// resolver stayed silent. Lookups answered by three of four still count.
	ghost, err := nc.Subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP", func(m *nats.Msg) { _ = m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ghost.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	expectFour := resolver.Options{Servers: 4, Timeout: 300 * time.Millisecond, Window: 5}
	report, err = resolver.Push(ctx, nc, tokens[1:11], expectFour)
	if err != nil {
		t.Fatalf("a silent resolver is not an error when others stored the account: %v", err)
	}
	if got := len(report.Incomplete()); got != 10 || report.Accounts[0].Missing != 1 || len(report.Accounts[0].Stored) != 3 {
		t.Fatalf("want 10 incomplete accounts, each stored by 3 and missing 1; got %d incomplete, first %+v", got, report.Accounts[0])
	}
	live, err = resolver.Lookup(ctx, nc, pubs[1:11], expectFour)
	if err != nil || live.JWT[pubs[1]] != tokens[1] || len(live.Diverged) != 10 {
		t.Fatalf("lookups answered by fewer resolvers than expected still count: err=%v", err)
	}
}

// TestPush_Refusals covers every way an account is refused: locally before sending (it could
// never work, and a full resolver would store some of them anyway) and by the servers.
func TestPush_Refusals(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	c := startCluster(t, op, 3)
	nc := c.connect(t)
	ctx := context.Background()

	goodPub, good := op.account(t, "GOOD")
	foreignPub, foreign := foreignAccount(t)
	identityPub, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	byIdentity, err := natsjwt.SignAccount(natsjwt.AccountSpec{Name: "BYID"}, identityPub, op.identity)
	if err != nil {
		t.Fatal(err)
	}
	badMapPub, badMap := op.badMappingAccount(t)
	userJWT, _ := must2(resolver.ParseCreds(op.sysCreds))

	tests := []struct {
		name, account, token string
		invalid, refused     string
	}{
		{name: "another operator", account: foreignPub, token: foreign, invalid: "which is neither the operator the servers trust (\"ACME\""},
		{name: "operator identity under strict signing keys", account: identityPub, token: byIdentity, invalid: "uses strict signing keys"},
		{name: "not an account JWT", account: "#2", token: userJWT, invalid: "not a valid account JWT"},
		{name: "not a JWT", account: "#3", token: "garbage", invalid: "not a valid account JWT"},
		{name: "duplicate", account: goodPub, token: good, invalid: "the same account is also JWT #4"},
		{name: "refused by the servers", account: badMapPub, token: badMap, refused: "jwt validation failed"},
	}
	// good is pushed at #4 and again at #5 to exercise the duplicate check.
	tokens := []string{foreign, byIdentity, userJWT, "garbage", good, good, badMap}
	report, err := resolver.Push(ctx, nc, tokens, resolver.Options{Servers: 3})
	if err == nil {
		t.Fatal("push must fail when accounts are refused")
	}
	if report.Pushed() != 1 || report.Accounts[4].Err() != nil {
		t.Fatalf("the good account must still be pushed: %+v", report.Accounts[4])
	}
	byAccount := map[string]resolver.AccountResult{}
	for i, a := range report.Accounts {
		if i == 4 {
			continue
		}
		byAccount[a.Account] = a
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, ok := byAccount[tc.account]
			if !ok {
				t.Fatalf("no result for %s", tc.account)
			}
			if tc.invalid != "" {
				if res.Invalid == nil || !strings.Contains(res.Invalid.Error(), tc.invalid) || len(res.Stored)+len(res.Refused) > 0 {
					t.Fatalf("want a local refusal containing %q and nothing sent, got %+v", tc.invalid, res)
				}
				if !strings.Contains(err.Error(), tc.invalid) {
					t.Fatalf("Push's error must carry the reason %q, got: %v", tc.invalid, err)
				}
			}
			if tc.refused != "" {
				if len(res.Refused) != 3 || len(res.Stored) != 0 || !strings.Contains(res.Refused[0].Description, tc.refused) {
					t.Fatalf("want all three servers to refuse with %q, got %+v", tc.refused, res)
				}
				if !strings.Contains(res.Err().Error(), "n1") || !strings.Contains(res.Err().Error(), tc.refused) {
					t.Fatalf("the error must name the servers and their reason, got: %v", res.Err())
				}
			}
		})
	}
	live, err := resolver.Lookup(ctx, nc, []string{foreignPub, identityPub, badMapPub, goodPub}, resolver.Options{Servers: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{foreignPub, identityPub, badMapPub} {
		if live.JWT[p] != "" {
			t.Fatalf("refused account %s must not be stored", p)
		}
	}
	if live.JWT[goodPub] != good {
		t.Fatal("the good account must be stored")
	}
}

// TestPush_ServersStoreForeignAccounts documents why Push checks issuers itself: a full
// resolver stores an account of another operator when it is sent one.
func TestPush_ServersStoreForeignAccounts(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	c := startCluster(t, op, 1)
	nc := c.connect(t)
	foreignPub, foreign := foreignAccount(t)
	other := must(natsjwt.DecodeAny(foreign)).Claims["iss"].(string)
	careless := &resolver.Trust{Operators: nil}
	trust, err := resolver.FetchTrust(context.Background(), nc, resolver.DefaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	careless.Operators = append(careless.Operators, trust.Operators...)
	careless.Operators[0].SigningKeys.Add(other)
	if _, err := resolver.Push(context.Background(), nc, []string{foreign}, resolver.Options{Servers: 1, Trust: careless}); err != nil {
		t.Fatalf("the server was expected to accept the foreign account: %v", err)
	}
	if c.nodes[0].storedJWT(t, foreignPub) != foreign {
		t.Fatal("the server was expected to store the foreign account")
	}
}

// TestDiscover_NotSystemUser: a user of an ordinary account sees no $SYS subjects, and the
// error says what to fix instead of timing out per account.
func TestDiscover_NotSystemUser(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	c := startCluster(t, op, 1)
	skPub, skSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	appPub, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	app := op.sign(t, appPub, natsjwt.AccountSpec{Name: "APP", SigningKeys: []string{skPub}})
	if _, err := resolver.Push(context.Background(), c.connect(t), []string{app}, resolver.Options{Servers: 1}); err != nil {
		t.Fatal(err)
	}
	signer := must(natsjwt.NewSigner(appPub, "", skSeed, natsjwt.KindAccount))
	_, _, _, creds := must4(natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "dev", Account: appPub}, signer))
	nc := c.connectAs(t, creds)
	for _, call := range []func() error{
		func() error {
			_, err := resolver.Push(context.Background(), nc, []string{app}, resolver.Options{})
			return err
		},
		func() error {
			_, err := resolver.Lookup(context.Background(), nc, []string{appPub}, resolver.Options{})
			return err
		},
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), "system account") || !strings.Contains(err.Error(), "type: full") {
			t.Fatalf("want an error naming the system account creds and the full resolver, got %v", err)
		}
	}
}

package callout

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// TestClusterResolverPushAdmitsNewAccount: a new account and the callout account that now
// allows it are pushed to the cluster's full resolvers (internal/resolver, what
// natsping_resolver_push runs) through one node; every node stores both, and once the
// replicas reload a mapping for the new account a person is admitted into it on every node.
func TestClusterResolverPushAdmitsNewAccount(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t)
	a := c.replica(t, "replica-a", 0, nil)
	b := c.replica(t, "replica-b", 1, nil)

	var shippingJWT string
	shipping := (&natsEnv{t: t}).targetAccount("SHIPPING", map[string]func(*jwt.UserScope){
		"clerk": func(s *jwt.UserScope) {
			s.Template.Pub.Allow.Add("shipping.>", "_INBOX.>")
			s.Template.Sub.Allow.Add("shipping.>", "_INBOX.>")
		},
	}, func(ac *jwt.AccountClaims) { shippingJWT = must(ac.Encode(c.operator)) })
	// A full resolver keeps the newer of two JWTs by issue time, in seconds.
	time.Sleep(1100 * time.Millisecond)
	c.callout.Authorization.AllowedAccounts.Add(shipping.pub)
	calloutJWT := must(c.callout.Encode(c.operator))

	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{c.nodes[2].URL()}, Creds: c.sysCreds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	report, err := resolver.Push(ctx, nc, []string{shippingJWT, calloutJWT}, resolver.Options{Servers: len(c.nodes)})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if report.Resolvers != 3 || report.Pushed() != 2 {
		t.Fatalf("push reached %d resolvers and stored %d of 2 accounts: %+v", report.Resolvers, report.Pushed(), report.Accounts)
	}
	for _, res := range report.Accounts {
		if !slices.Equal(res.Stored, clusterNodes) {
			t.Fatalf("%s stored on %v, want every node %v", res.Account, res.Stored, clusterNodes)
		}
	}

	mappings := append(c.mappings(), shipping.mapping("shipping-clerks", "clerk", 0, "shipping-clerks"))
	for i, s := range []*Service{a, b} {
		if err := s.Reload(c.doc(i, mappings...)); err != nil {
			t.Fatalf("reload of replica %d: %v", i, err)
		}
	}
	for i, n := range c.nodes {
		nc, err := connectOnce(n.URL(), c.token(i, "shipping-clerks"))
		if err != nil {
			t.Fatalf("%s: a shipping clerk is refused after the push: %v", n.Name, err)
		}
		cid, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		cz, err := n.Server().Connz(&server.ConnzOptions{CID: cid, Username: true})
		if err != nil || len(cz.Conns) != 1 {
			t.Fatalf("%s: connz: %v", n.Name, err)
		}
		if got := cz.Conns[0].Account; got != shipping.pub {
			t.Fatalf("%s: admitted into account %s, want SHIPPING %s", n.Name, got, shipping.pub)
		}
		if err := nc.Publish("shipping.parcel", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := nc.LastError(); err != nil {
			t.Fatalf("%s: the clerk's publish: %v", n.Name, err)
		}
		nc.Close()
	}
}

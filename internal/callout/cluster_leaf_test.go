package callout

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// TestClusterLeafNodeNeedsItsOwnReplica pins why a leaf node's clients cannot be decided by
// the hub's replicas, and what works instead.
//
// The leaf is rendered by natsping (same operator, every account preloaded, the default
// sentinel) with two remotes to the hub: the callout account, bound with the callout service
// user's creds, and ORDERS with a static user's. nats-server denies the auth callout subject
// on every connection of an auth callout account (auth users may not publish requests, other
// users neither see nor answer them: denyAuthCalloutSubjects), and a leaf connection is such a
// connection, so the hub never advertises its replicas' interest in $SYS.REQ.USER.AUTH to the
// leaf. The leaf's request has no subscriber and its client is refused after the auth timeout,
// while the hub's replicas hear nothing. A replica attached to the leaf itself admits the
// client, which then exchanges messages with the hub through the ORDERS remote.
func TestClusterLeafNodeNeedsItsOwnReplica(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t)
	a := c.replica(t, "replica-a", 0, nil)
	b := c.replica(t, "replica-b", 1, nil)
	hub := []string{
		fmt.Sprintf("nats-leaf://127.0.0.1:%d", c.leafPorts[0]),
		fmt.Sprintf("nats-leaf://127.0.0.1:%d", c.leafPorts[1]),
	}
	out, err := serverconfig.Render(serverconfig.Input{
		OperatorJWT:     c.in.OperatorJWT,
		AccountJWTs:     c.in.AccountJWTs,
		DefaultSentinel: c.sentinelJWT,
		ServerName:      "leaf-1",
		LeafNodes: &serverconfig.LeafNodes{Remotes: []serverconfig.LeafRemote{
			{URLs: hub, Account: c.calloutPub, Credentials: writeFile(t, "callout.creds", c.serviceCreds)},
			{URLs: hub, Account: c.orders.pub, Credentials: writeFile(t, "orders.creds", c.staticCreds)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	leaf := natstest.StartServer(t, out.Config)
	waitUntilCtx(t, "the leaf's two remotes", 10*time.Second, func() bool { return leaf.NumLeafNodes() == 2 })
	// The hub's replicas' service subjects do reach the leaf, so the callout remote is up and
	// carries interest; only the auth subject is withheld.
	acc, err := leaf.LookupAccount(c.calloutPub)
	if err != nil {
		t.Fatal(err)
	}
	waitUntilCtx(t, "the replicas' $SRV interest on the leaf", 10*time.Second, func() bool { return acc.SubscriptionInterest("$SRV.PING") })
	if acc.SubscriptionInterest(AuthCalloutSubject) {
		t.Fatalf("the hub advertised %s to the leaf; this test's premise no longer holds", AuthCalloutSubject)
	}
	before := requestsOf(a) + requestsOf(b)
	start := time.Now()
	if nc, err := connectOnce(leaf.URL, c.token(1, "order-readers")); err == nil {
		nc.Close()
		t.Fatal("a leaf client was admitted with no replica attached to the leaf")
	} else if !errors.Is(err, nats.ErrAuthorization) && time.Since(start) < 2*time.Second {
		t.Fatalf("leaf client without a leaf replica: %v after %s, want a refusal at the auth timeout", err, time.Since(start))
	}
	if got := requestsOf(a) + requestsOf(b) - before; got != 0 {
		t.Fatalf("the hub's replicas received %d requests from the leaf", got)
	}

	// A replica on the leaf: same document, the leaf's URL.
	doc := c.doc(0)
	doc.NATS.URLs = []string{leaf.URL}
	startService(t, doc, Options{Name: "replica-leaf"})
	reader, err := connectWithErrs(leaf.URL, c.token(2, "order-readers"))
	if err != nil {
		t.Fatalf("a reader on the leaf with a leaf replica: %v", err)
	}
	t.Cleanup(reader.nc.Close)
	cid, _ := reader.nc.GetClientID()
	cz, err := leaf.Connz(&server.ConnzOptions{CID: cid, Username: true})
	if err != nil || len(cz.Conns) != 1 || cz.Conns[0].Account != c.orders.pub {
		t.Fatalf("the leaf's client is not in ORDERS: %v %+v", err, cz)
	}
	reader.expectDenied(t, "orders.eu.1")
	sub, err := reader.nc.SubscribeSync("orders.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	writer, err := connectOnce(c.nodes[2].URL(), c.token(3, "order-writers"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(writer.Close)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := writer.Publish("orders.eu.2", []byte("from the hub")); err != nil {
			t.Fatal(err)
		}
		if msg, err := sub.NextMsg(100 * time.Millisecond); err == nil && string(msg.Data) == "from the hub" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a message published on the hub never reached the leaf's reader")
		}
	}
}

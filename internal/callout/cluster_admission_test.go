package callout

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestClusterAdmitsOnEveryNode: on a 3-node cluster booted from the rendered node configs,
// with two callout replicas attached to different nodes, a person is admitted on every node
// with their role's permissions, messages cross the routes between the roles' users, and
// requests from the node without a replica are answered by both replicas.
func TestClusterAdmitsOnEveryNode(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t)
	a := c.replica(t, "replica-a", 0, nil)
	b := c.replica(t, "replica-b", 1, nil)

	readers := make([]*nats.Conn, len(c.nodes))
	for i, n := range c.nodes {
		errs := make(chan error, 4)
		nc, err := connectOnce(n.URL(), c.token(i, "order-readers"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		if err != nil {
			t.Fatalf("reader refused on %s: %v", n.Name, err)
		}
		t.Cleanup(nc.Close)
		if got := nc.ConnectedServerName(); got != n.Name {
			t.Fatalf("connected to %s, want %s", got, n.Name)
		}
		// The reader's role denies every publish: the server says so on this node too.
		if err := nc.Publish("orders.eu.1", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), "orders.eu.1") {
				t.Fatalf("%s: reader publish: %v, want a permissions violation", n.Name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: a reader published without a permissions violation", n.Name)
		}
		readers[i] = nc
	}

	// Cross-node delivery: the writer on nats-c publishes, the readers on every node receive.
	subs := make([]*nats.Subscription, len(readers))
	for i, nc := range readers {
		sub, err := nc.SubscribeSync("orders.>")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		subs[i] = sub
	}
	writer, err := connectOnce(c.nodes[2].URL(), c.token(9, "order-writers"))
	if err != nil {
		t.Fatalf("writer refused: %v", err)
	}
	t.Cleanup(writer.Close)
	for i, sub := range subs {
		deadline := time.Now().Add(5 * time.Second)
		for {
			if err := writer.Publish("orders.eu.1", []byte("order")); err != nil {
				t.Fatal(err)
			}
			msg, err := sub.NextMsg(100 * time.Millisecond)
			if err == nil && string(msg.Data) == "order" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reader on %s never received the writer's message from nats-c", c.nodes[i].Name)
			}
		}
	}

	// nats-c has no replica of its own: its requests cross the routes to either replica.
	before := requestsOf(a) + requestsOf(b)
	beforeA, beforeB := requestsOf(a), requestsOf(b)
	for i := range 40 {
		nc, err := connectOnce(c.nodes[2].URL(), c.token(100+i, "order-readers"))
		if err != nil {
			t.Fatalf("connect %d on nats-c refused: %v", i, err)
		}
		nc.Close()
	}
	if got := requestsOf(a) + requestsOf(b) - before; got != 40 {
		t.Fatalf("the replicas received %d requests for 40 connects", got)
	}
	if requestsOf(a) == beforeA || requestsOf(b) == beforeB {
		t.Fatalf("one replica took every request from nats-c: a %d, b %d", requestsOf(a)-beforeA, requestsOf(b)-beforeB)
	}
}

package offboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
)

// TestOffboardAcrossRoleKeyRotation: the reader role rotates with overlap while alice is
// connected. Her connection from before the rotation is signed by the previous key, which the
// account JWT still lists (same role, same template) for the grace period, and the callout
// document now names only the new key; her connection from after is signed by the new key.
// Offboarding her closes both, and the static user with her tags (signed by the account's
// unscoped key) stays.
func TestOffboardAcrossRoleKeyRotation(t *testing.T) {
	w := newWorld(t)
	before := w.connect(t, w.person(alice, "readers"), 0)
	colleague := w.connect(t, w.person(carol, "readers"), 2)

	// The rotation as the callout sees it: its document's reader mapping carries the successor.
	w.stopCallout()
	for i := range w.doc.Mappings {
		if m := &w.doc.Mappings[i]; m.Role == "reader" {
			m.RoleSigningKey, m.RoleSigningKeySeed = w.readerNextPub, w.readerNextSeed
		}
	}
	if err := w.doc.Validate(); err != nil {
		t.Fatal(err)
	}
	w.startCallout(t)
	after := w.connect(t, w.person(alice, "readers"), 1)
	if prev, next := w.issuerOf(t, before), w.issuerOf(t, after); prev == next || next != w.readerNextPub {
		t.Fatalf("want the connections signed by the previous and the new reader key, got %s and %s", prev, next)
	}
	static := must(natstest.ConnectCreds(w.urls[0], w.staticCfg))
	defer static.Close()

	entry := offboard.Entry{Kind: offboard.KindSubject, Value: alice, Cutoff: offboard.DefaultCutoff(time.Now()).Unix(), Reason: "left the company"}
	start := time.Now()
	rep, err := offboard.Apply(context.Background(), w.opts([]offboard.Entry{entry}, nil))
	if err != nil {
		t.Fatal(err)
	}
	closedWithin(t, 2*time.Second, start, before, after)
	if len(rep.Closed) != 2 {
		t.Fatalf("kicked %v, want alice's 2 connections", rep.Closed)
	}
	untouched(t, "colleague signed by the previous key", colleague)
	if !static.IsConnected() {
		t.Fatal("the static user with the same tags was closed; it was not admitted by the callout")
	}
}

// issuerOf is the key that signed the connection's user JWT, as its server reports it.
func (w *world) issuerOf(tb testing.TB, c *client) string {
	tb.Helper()
	cz, err := w.nodes[c.node].Connz(&server.ConnzOptions{CID: must(c.nc.GetClientID()), Username: true})
	if err != nil || len(cz.Conns) != 1 {
		tb.Fatalf("connz of node %d: %v (%d connections)", c.node+1, err, len(cz.Conns))
	}
	return cz.Conns[0].IssuerKey
}

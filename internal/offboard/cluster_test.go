package offboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
)

// closedWithin waits until every client in cs lost its connection, failing after d.
func closedWithin(tb testing.TB, d time.Duration, start time.Time, cs ...*client) time.Duration {
	tb.Helper()
	var last time.Duration
	timeout := time.After(d)
	for i, c := range cs {
		select {
		case <-c.lost:
			if took := c.lostAt.Load().Sub(start); took > last {
				last = took
			}
		case <-timeout:
			tb.Fatalf("connection %d (node %d) still open %s after apply", i, c.node+1, d)
		}
	}
	return last
}

func untouched(tb testing.TB, what string, cs ...*client) {
	tb.Helper()
	for i, c := range cs {
		select {
		case <-c.lost:
			tb.Fatalf("%s connection %d (node %d) was closed; only the offboarded may be", what, i, c.node+1)
		default:
		}
		if !c.nc.IsConnected() {
			tb.Fatalf("%s connection %d (node %d) is not connected", what, i, c.node+1)
		}
	}
}

// TestOffboardPersonOnThreeNodes: a person with live connections on all three nodes is
// offboarded; every connection is closed within 2 s of apply, reconnects are refused (the
// callout learned of it through the bucket), a colleague in the same role and a static user
// carrying the same tags are untouched, a restarted callout still refuses, and deleting the
// entry re-admits a fresh token.
func TestOffboardPersonOnThreeNodes(t *testing.T) {
	// Pages of 2 connections: each node holds 3 of the account's, so every node is paged.
	t.Cleanup(offboard.SetConnzPage(2))
	w := newWorld(t)
	token := w.person(alice, "readers")
	colleagueToken := w.person(carol, "readers")
	var hers, colleague []*client
	for node := range 3 {
		hers = append(hers, w.connect(t, token, node), w.connect(t, token, node))
		colleague = append(colleague, w.connect(t, colleagueToken, node))
	}
	static := must(natstest.ConnectCreds(w.urls[1], w.staticCfg))
	defer static.Close()

	entry := offboard.Entry{Kind: offboard.KindSubject, Value: alice, Cutoff: offboard.DefaultCutoff(time.Now()).Unix(), Reason: "left the company"}
	start := time.Now()
	rep, err := offboard.Apply(context.Background(), w.opts([]offboard.Entry{entry}, nil))
	if err != nil {
		t.Fatal(err)
	}
	last := closedWithin(t, 2*time.Second, start, hers...)
	t.Logf("last of %d connections closed %s after apply; %d kicked; servers %v", len(hers), last, len(rep.Closed), rep.Servers)
	if len(rep.Closed) != len(hers) || len(rep.Servers) != 3 {
		t.Fatalf("kicked %d connections on servers %v, want %d on 3", len(rep.Closed), rep.Servers, len(hers))
	}
	if len(rep.Returned) != 0 || len(rep.Warnings()) != 0 {
		t.Fatalf("connections came back: %v", rep.Warnings())
	}
	untouched(t, "colleague", colleague...)
	if !static.IsConnected() {
		t.Fatal("the static user with the same tags was closed; it was not admitted by the callout")
	}
	w.refused(t, token)
	// Her client reconnected (3 attempts) and was refused each time.
	for _, c := range hers {
		if c.nc.IsConnected() {
			t.Fatal("a kicked connection is connected again")
		}
	}
	var offboarded int
	for _, r := range w.audit.records(t) {
		if r.Reason == callout.ReasonOffboarded {
			offboarded++
			if r.Subject != alice || r.Mapping != "orders-readers" {
				t.Fatalf("audit line of the refusal: %+v", r)
			}
		}
	}
	if offboarded == 0 {
		t.Fatal("no audit line says offboarded")
	}

	// A token issued after the cutoff is not hers to lose: the entry refuses older tokens only.
	w.connect(t, w.personAt(alice, "readers", time.Unix(entry.Cutoff, 0).Add(time.Second)), 0)

	// The callout restarts and reads the bucket before it answers anything.
	w.stopCallout()
	w.startCallout(t)
	w.refused(t, token)
	if !auditSays(t, w, callout.ReasonOffboarded) {
		t.Fatal("the restarted callout refused without the reason offboarded")
	}
	untouched(t, "colleague", colleague...)

	// Deleting the entry re-admits her with a fresh token (and her old one).
	if _, err := offboard.Apply(context.Background(), w.opts(nil, []string{entry.Key()})); err != nil {
		t.Fatal(err)
	}
	waitAdmitted(t, w, w.person(alice, "readers"))
	waitAdmitted(t, w, token)
}

func waitAdmitted(tb testing.TB, w *world, token string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := connectOnce(w, token)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("token still refused after the entry was deleted: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auditSays waits for an audit line of the current callout with reason.
func auditSays(tb testing.TB, w *world, reason callout.Reason) bool {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range w.audit.records(tb) {
			if r.Reason == reason {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestOffboardWarnsWhenTheCalloutDoesNotEnforce: a callout running a config without the
// offboarding section (a replica not yet restarted) lets kicked users straight back in; the
// apply closes them again for its rounds and then reports them, naming the entry.
func TestOffboardWarnsWhenTheCalloutDoesNotEnforce(t *testing.T) {
	w := newWorld(t)
	w.stopCallout()
	enforcing := w.doc
	old := *w.doc
	old.Offboarding = nil
	w.doc = &old
	w.startCallout(t)
	w.doc = enforcing
	token := w.person(alice, "readers")
	for node := range 3 {
		w.connect(t, token, node)
	}
	opts := w.opts([]offboard.Entry{{Kind: offboard.KindSubject, Value: alice, Cutoff: offboard.DefaultCutoff(time.Now()).Unix()}}, nil)
	opts.Rounds = 2
	rep, err := offboard.Apply(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Returned) == 0 || len(rep.Warnings()) != 1 || !strings.Contains(rep.Warnings()[0], "sub "+alice) {
		t.Fatalf("returned %d, warnings %q; want the reconnected connections reported", len(rep.Returned), rep.Warnings())
	}
	t.Logf("%d closed, %d came back: %s", len(rep.Closed), len(rep.Returned), rep.Warnings()[0])
}

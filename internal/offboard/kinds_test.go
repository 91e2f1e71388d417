package offboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/offboard"
)

// TestOffboardServiceMappingAndRole revokes, one after the other, a service client id, a whole
// mapping and a whole role, on the same 3-node cluster: each time exactly the users it names
// lose their connections and are refused, everyone else stays.
func TestOffboardServiceMappingAndRole(t *testing.T) {
	w := newWorld(t)
	apply := func(e offboard.Entry) {
		t.Helper()
		e.Cutoff = offboard.DefaultCutoff(time.Now()).Unix()
		start := time.Now()
		rep, err := offboard.Apply(context.Background(), w.opts([]offboard.Entry{e}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Warnings()) > 0 {
			t.Fatal(rep.Warnings())
		}
		t.Logf("%s: %d kicked, applied in %s", e, len(rep.Closed), time.Since(start).Round(time.Millisecond))
	}

	svcAToken, svcBToken := w.service(svcA), w.service(svcB)
	writerToken, readerToken, bobToken := w.person(carol, "writers"), w.person(alice, "readers"), w.person(bob, "readers")
	var svcAConns, svcBConns, writers, readers []*client
	for node := range 3 {
		svcAConns = append(svcAConns, w.connect(t, svcAToken, node))
		svcBConns = append(svcBConns, w.connect(t, svcBToken, node))
		writers = append(writers, w.connect(t, writerToken, node))
		readers = append(readers, w.connect(t, readerToken, node), w.connect(t, bobToken, node))
	}

	// A service client id: only that service's connections (tag ping-client) go.
	start := time.Now()
	apply(offboard.Entry{Kind: offboard.KindClient, Value: svcA})
	closedWithin(t, 2*time.Second, start, svcAConns...)
	w.refused(t, svcAToken)
	untouched(t, "other service", svcBConns...)
	untouched(t, "writer", writers...)
	untouched(t, "reader", readers...)

	// A whole mapping: orders-writers; the services share its role (writer) but not the mapping.
	start = time.Now()
	apply(offboard.Entry{Kind: offboard.KindMapping, Value: "orders-writers"})
	closedWithin(t, 2*time.Second, start, writers...)
	w.refused(t, writerToken)
	untouched(t, "service in the same role", svcBConns...)
	untouched(t, "reader", readers...)

	// A whole role: reader of ORDERS, whichever person holds it (bob's subject is upper case,
	// so his tag is the encoded form).
	start = time.Now()
	apply(offboard.Entry{Kind: offboard.KindRole, Value: "reader", Account: w.ordersPub})
	closedWithin(t, 2*time.Second, start, readers...)
	w.refused(t, readerToken)
	w.refused(t, bobToken)
	untouched(t, "service", svcBConns...)
}

// TestOffboardUnknownMappingRefusedBeforeWriting: Apply checks the entries against the callout
// document before it touches the bucket.
func TestOffboardUnknownMappingRefusedBeforeWriting(t *testing.T) {
	w := newWorld(t)
	_, err := offboard.Apply(context.Background(), w.opts([]offboard.Entry{{Kind: offboard.KindMapping, Value: "orders-admins", Cutoff: time.Now().Unix()}}, nil))
	if err == nil {
		t.Fatal("an unknown mapping was accepted")
	}
	got, lerr := offboard.Load(context.Background(), w.opts(nil, nil), []string{offboard.Entry{Kind: offboard.KindMapping, Value: "orders-admins"}.Key()})
	if lerr != nil || len(got) != 0 {
		t.Fatalf("the bucket holds %v (%v); nothing may be written when the check fails", got, lerr)
	}
}

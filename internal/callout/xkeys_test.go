package callout

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

// While the xkey rotates the callout holds the current, the next and the previous xkey; a
// server seals to whichever its account JWT names, and the reply must be sealed with that
// same key, since the server opens it with the key it sealed to.
func TestXKeyRing_opensWithAnyKeyAndRepliesWithIt(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, true)
	current := c.xkeyPub
	_, nextPub, nextSeed := newKP(t, nkeys.CreateCurveKeys)
	_, prevPub, prevSeed := newKP(t, nkeys.CreateCurveKeys)
	doc := c.doc(c.orders.mapping("m", "reader", 0, "g"))
	doc.NATS.XKeySeeds = []string{nextSeed, prevSeed}
	e, err := newEngine(doc, fakeVerifier{"tok-alice": identity("alice", "g")}, func() time.Time { return c.now })
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]string{"current": current, "next": nextPub, "previous": prevPub} {
		c.xkeyPub = pub // the server seals to this key and opens the reply with it
		data, hdr, _ := c.request(t, nil)
		reply, d := e.handle(context.Background(), data, hdr)
		if !d.Allowed {
			t.Fatalf("%s: refused (%s: %s)", name, d.Reason, d.Detail)
		}
		if rc := c.response(t, reply); rc.Jwt == "" {
			t.Fatalf("%s: no user JWT in the reply", name)
		}
	}
	_, strangerPub, _ := newKP(t, nkeys.CreateCurveKeys)
	c.xkeyPub = strangerPub
	data, hdr, _ := c.request(t, nil)
	if reply, d := e.handle(context.Background(), data, hdr); d.Allowed || d.Reason != ReasonUndecryptable || len(reply) != 0 {
		t.Fatalf("a request sealed to an unknown xkey: allowed=%v reason=%s reply=%d bytes", d.Allowed, d.Reason, len(reply))
	}
	if _, err := newXKeyRing(c.xkeySeed, []string{c.calloutSeed}); err == nil {
		t.Fatal("an account seed was accepted as an extra xkey")
	}
}

func BenchmarkXKeyRing_openSecondKey(b *testing.B) {
	c := newCoreEnv(b, true)
	_, nextPub, nextSeed := newKP(b, nkeys.CreateCurveKeys)
	ring, err := newXKeyRing(c.xkeySeed, []string{nextSeed})
	if err != nil {
		b.Fatal(err)
	}
	for name, pub := range map[string]string{"first": c.xkeyPub, "second": nextPub} {
		sealed, err := c.serverXKP.Seal([]byte("eyJ a request of typical size "+string(make([]byte, 1500))), pub)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ring.open(sealed, c.serverXPub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

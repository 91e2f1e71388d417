package callout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// TestOffboardingBucketUnreadableFailsClosed: with offboarding configured and a server that
// has no JetStream, the service never becomes ready and answers no request: the client is
// refused (by the server's auth timeout), and the audit line says why.
func TestOffboardingBucketUnreadableFailsClosed(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "readers"))
	doc.Offboarding = &calloutconfig.Offboarding{Bucket: calloutconfig.DefaultOffboardingBucket, Replicas: 1}
	sink := &auditSink{}
	s, err := New(doc, Options{AuditWriter: sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	tok := idp.IssueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"readers"}})
	if nc, err := e.connectToken(tok, ""); err == nil {
		nc.Close()
		t.Fatal("a client was admitted before the offboarding bucket was read")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := sink.records(t)
		if len(recs) > 0 {
			if r := recs[0]; r.Reason != ReasonOffboardingNotLoaded || r.Decision != "deny" || !strings.Contains(r.Detail, "JetStream") {
				t.Fatalf("audit line %+v, want a deny for %s naming JetStream", r, ReasonOffboardingNotLoaded)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no audit line for the unanswered request")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Ready(); err == nil || !strings.Contains(err.Error(), "offboarding bucket") {
		t.Fatalf("Ready() = %v, want the offboarding bucket named", err)
	}
	if err := s.Reload(&calloutconfig.Document{}); err == nil {
		t.Fatal("reload of an empty document accepted")
	}
	other := *doc
	other.Offboarding = &calloutconfig.Offboarding{Bucket: "other", Replicas: 1}
	if err := s.Reload(&other); err == nil || !strings.Contains(err.Error(), "offboarding") {
		t.Fatalf("a changed offboarding section reloaded: %v", err)
	}
}

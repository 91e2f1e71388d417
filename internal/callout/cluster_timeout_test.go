package callout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// slowAdmit admits every token as a reader after a delay, ignoring the decision's own
// 1.5 s limit (defaultDecisionLimit) to stand for a server or callout too slow to keep it.
type slowAdmit struct{ d time.Duration }

func (s slowAdmit) Verify(_ context.Context, raw string) (*oidc.Identity, error) {
	time.Sleep(s.d)
	return (&heldVerifier{}).Verify(context.Background(), raw)
}

// TestClusterSlowDecisionMeetsFirstPing pins what a raised auth_timeout does not fix for
// nats.go clients: nats-server sends a new client its first PING 2–2.4 s after the CONNECT
// (firstClientPingInterval plus up to 20%), whatever the auth timeout, and nats.go fails a
// handshake that reads a PING before its PONG. With auth_timeout = "5s" and a callout that
// takes 3 s, the server would admit the client, but the client has already given up with
// "expected 'PONG', got 'PING'". A decision must stay below about 2 s for nats.go clients,
// which is why the callout bounds its own at 1.5 s; the same message is how a lost request
// can surface (natspingclient retries it).
func TestClusterSlowDecisionMeetsFirstPing(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, func(in *serverconfig.Input) { in.Limits.AuthTimeout = "5s" })
	startService(t, c.doc(0), Options{Name: "slow", NewVerifier: func(calloutconfig.Issuer) (Verifier, error) {
		return slowAdmit{3 * time.Second}, nil
	}})
	start := time.Now()
	nc, err := connectOnce(c.nodes[0].URL(), c.token(1, "order-readers"), nats.Timeout(10*time.Second))
	if err == nil {
		nc.Close()
		t.Fatal("a nats.go client waited out a 3 s decision; the server's first PING no longer ends the handshake")
	}
	if took := time.Since(start); !strings.Contains(err.Error(), "expected 'PONG', got 'PING'") || took < 2*time.Second || took > 3*time.Second {
		t.Fatalf("after %s: %v, want the first PING between 2 and 2.4 s", took, err)
	}
}

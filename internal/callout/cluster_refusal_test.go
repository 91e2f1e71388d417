package callout

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// TestClusterRefusalCostsOneDecisionPerNode pins the defaults of natspingclient.Connect on a
// cluster: nats.go walks its server pool, every server the cluster advertised included, so a
// token the callout refuses costs one decision per node (three here) and comes back as one
// Authorization Violation; the refusal is quick, so the package does not retry it (which
// would cost three more per attempt). nats.IgnoreDiscoveredServers and one URL make it one
// decision.
func TestClusterRefusalCostsOneDecisionPerNode(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t)
	a := c.replica(t, "replica-a", 0, nil)
	b := c.replica(t, "replica-b", 1, nil)
	denied := c.token(1, "marketing") // no mapping admits this group
	retries := 0
	src := source(t, denied, natspingclient.Options{OnConnectRetry: func(int, error) { retries++ }})

	count := func(connect func() error) int {
		t.Helper()
		before := requestsOf(a) + requestsOf(b)
		if err := connect(); !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("a denied token: %v, want an Authorization Violation", err)
		}
		return requestsOf(a) + requestsOf(b) - before
	}
	// One URL given; the other two nodes come from the first server's INFO.
	if got := count(func() error { _, err := src.Connect(c.nodes[0].URL()); return err }); got != len(c.nodes) {
		t.Fatalf("a refused Connect cost %d decisions, want one per node (%d)", got, len(c.nodes))
	}
	if retries != 0 {
		t.Fatalf("a quick refusal was retried %d times", retries)
	}
	all := strings.Join(c.urls(), ",")
	if got := count(func() error { _, err := src.Connect(all); return err }); got != len(c.nodes) {
		t.Fatalf("with every URL listed: %d decisions, want %d", got, len(c.nodes))
	}
	if got := count(func() error { _, err := src.Connect(c.nodes[0].URL(), nats.IgnoreDiscoveredServers()); return err }); got != 1 {
		t.Fatalf("with IgnoreDiscoveredServers and one URL: %d decisions, want 1", got)
	}
}

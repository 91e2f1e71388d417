package callout

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// clusterStormSize is the storm of the measurement: 2,000 connects, 50 at a time.
const (
	clusterStormConnects = 2000
	clusterStormParallel = 50
)

// BenchmarkClusterConnectStorm: 2,000 connects at 50 in parallel spread over the three
// nodes of a cluster booted from rendered configs, through the two callout replicas (token
// only, sentinel, xkey on) and then with static user creds. One op is one storm of each.
// Run with -benchtime=1x.
func BenchmarkClusterConnectStorm(b *testing.B) {
	c := newClusterEnv(b)
	c.replica(b, "replica-a", 0, nil)
	c.replica(b, "replica-b", 1, nil)
	tokens := c.clusterTokens(clusterStormParallel)
	urls := c.urls()
	creds := writeFile(b, "static.creds", c.staticCreds)
	viaStatic := func(i int) (bool, error) {
		nc, err := nats.Connect(urls[i%len(urls)], nats.UserCredentials(creds), nats.MaxReconnects(0), nats.IgnoreDiscoveredServers())
		if err == nil {
			nc.Close()
		}
		return false, err
	}
	storm := func(connect func(int) (bool, error)) *clusterStormResult {
		return clusterStorm{total: clusterStormConnects, parallel: clusterStormParallel, connect: connect}.run(b)
	}
	storm(c.viaOneNode(tokens)) // warm the verifier caches and the servers' account lookups
	var callout, static *clusterStormResult
	for b.Loop() {
		callout = storm(c.viaOneNode(tokens))
		static = storm(viaStatic)
	}
	rate := func(r *clusterStormResult) float64 { return float64(r.connects) / r.wall.Seconds() }
	b.ReportMetric(rate(callout), "callout_conn/s")
	b.ReportMetric(rate(static), "static_conn/s")
	b.ReportMetric(rate(callout)/rate(static), "callout/static")
	b.ReportMetric(percentile(callout.lat, 50), "callout_p50_ms")
	b.ReportMetric(percentile(callout.lat, 99), "callout_p99_ms")
	b.ReportMetric(percentile(static.lat, 50), "static_p50_ms")
	b.ReportMetric(percentile(static.lat, 99), "static_p99_ms")
	b.ReportMetric(float64(callout.failed+static.failed), "refusals")
}

// BenchmarkClusterKill: the same storm, with a node (the one replica-b is attached to) or
// replica-b itself killed after 1,000 connects. Each case runs twice on a fresh cluster: once
// with clients that connect to one node and never retry (the refusals a kill causes), once
// as natspingclient users (every node's URL, nats.go's walk of the pool, the package's retry
// with its defaults). recovery_ms is how long after the kill the last connect that needed a
// retry, or waited out the auth timeout, completed (on this loaded machine some connects take
// that long without any kill, so it is an upper bound). Run with -benchtime=1x.
func BenchmarkClusterKill(b *testing.B) {
	for _, kind := range []string{"node", "replica"} {
		b.Run(kind, func(b *testing.B) {
			run := func(viaClient bool) *clusterStormResult {
				c := newClusterEnv(b)
				c.replica(b, "replica-a", 0, nil)
				victim := c.replica(b, "replica-b", 1, nil)
				kill := victim.kill
				if kind == "node" {
					kill = c.nodes[1].Kill
				}
				tokens := c.clusterTokens(clusterStormParallel)
				connect := c.viaOneNode(tokens)
				if viaClient {
					connect = c.viaClient(b, tokens)
				}
				return clusterStorm{total: clusterStormConnects, parallel: clusterStormParallel, at: clusterStormConnects / 2,
					connect: connect, event: kill}.run(b)
			}
			var before, after *clusterStormResult
			for b.Loop() {
				before = run(false)
				after = run(true)
			}
			// Connects to a dead node fail too (connection refused, EOF) and are not counted here:
			// refused_no_retry are valid tokens refused the way a lost request is.
			b.ReportMetric(float64(before.refused), "refused_no_retry")
			b.ReportMetric(float64(after.failed), "refused_after_retry")
			b.ReportMetric(float64(after.retried), "retried")
			b.ReportMetric(float64(after.slowConnects(natspingclient.DefaultLostRequestAfter)), "slow_connects")
			b.ReportMetric(float64(after.recovery.Milliseconds()), "recovery_ms")
			b.ReportMetric(percentile(after.lat, 50), "p50_ms")
			b.ReportMetric(percentile(after.lat, 99), "p99_ms")
			b.Logf("no retry: %v", before)
			b.Logf("natspingclient: %v", after)
			if len(before.errs) > 0 {
				b.Logf("refusals without retry look like: %s", strings.Join(before.errs, " | "))
			}
		})
	}
}

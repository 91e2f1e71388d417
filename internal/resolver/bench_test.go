package resolver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// BenchmarkPush1000Accounts pushes 1,000 freshly signed accounts per iteration to a local
// 3-node cluster of full resolvers, through one node, and waits for all three to confirm
// every account. nsc push manages about one account per second (nats-io/nsc#464).
func BenchmarkPush1000Accounts(b *testing.B) {
	op := newOperator(b, "BENCH")
	c := startCluster(b, op, 3)
	nc := c.connect(b)
	const n = 1000
	ctx := context.Background()
	// window=1 is the pipeline switched off (one account at a time, each waiting for the three
	// servers, not for a timeout as nsc does); the default window is what Push uses.
	for _, window := range []int{1, resolver.DefaultWindow} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			pushed := 0
			for b.Loop() {
				b.StopTimer()
				tokens := make([]string, n)
				for i := range tokens {
					_, tokens[i] = op.account(b, fmt.Sprintf("A%d", i))
				}
				b.StartTimer()
				report, err := resolver.Push(ctx, nc, tokens, resolver.Options{Servers: 3, Window: window})
				if err != nil {
					b.Fatal(err)
				}
				if len(report.Incomplete()) > 0 {
					b.Fatalf("%d accounts were not confirmed by every server", len(report.Incomplete()))
				}
				pushed += n
			}
			b.ReportMetric(float64(pushed)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}

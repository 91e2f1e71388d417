package serverconfig

import (
	"testing"
)

// BenchmarkRender10kAccounts measures the SPEC target: a 10,000-account server config must
// render in well under a second; signature verification of every account dominates.
func BenchmarkRender10kAccounts(b *testing.B) {
	f := newFixture(b, 10_000)
	in := f.input()
	in.DefaultSentinel = f.sentinel
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		out, err := Render(in)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out.Config)
	}
	b.ReportMetric(float64(size), "config-bytes")
}

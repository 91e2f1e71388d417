package offboard_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/offboard"
)

// BenchmarkOffboard1000Connections measures, on the 3-node cluster with the callout, the time
// from offboard.Apply being called to the last of a person's 10 connections (spread over the
// three nodes) being closed, with 990 connections of 330 other people live beside them. It
// reports that time (ms_to_last_close), the whole Apply including its settle period
// (ms_apply), and how many of the 990 lost their connection (others_closed, must be 0).
func BenchmarkOffboard1000Connections(b *testing.B) {
	w := newWorld(b)
	var others []*client
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for p := range 330 {
		tok := w.person(fmt.Sprintf("0a1b2c3d-0000-4000-8000-%012d", p), "readers")
		for node := range 3 {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				c := w.connect(b, tok, node)
				mu.Lock()
				others = append(others, c)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	b.ResetTimer()
	var last, apply time.Duration
	for i := range b.N {
		b.StopTimer()
		sub := fmt.Sprintf("leaver-%d", i)
		tok := w.person(sub, "writers")
		var hers []*client
		for k := range 10 {
			hers = append(hers, w.connect(b, tok, k%3))
		}
		entry := offboard.Entry{Kind: offboard.KindSubject, Value: sub, Cutoff: offboard.DefaultCutoff(time.Now()).Unix()}
		opts := w.opts([]offboard.Entry{entry}, nil)
		opts.Settle = 0 // the default, as the provider runs it
		b.StartTimer()
		start := time.Now()
		rep, err := offboard.Apply(context.Background(), opts)
		apply += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		last += closedWithin(b, 10*time.Second, start, hers...)
		b.StopTimer()
		if len(rep.Closed) != 10 || len(rep.Returned) != 0 {
			b.Fatalf("kicked %d, returned %d; want 10 and 0", len(rep.Closed), len(rep.Returned))
		}
		if _, err := offboard.Apply(context.Background(), w.opts(nil, []string{entry.Key()})); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	closed := 0
	for _, c := range others {
		select {
		case <-c.lost:
			closed++
		default:
		}
	}
	b.ReportMetric(float64(last.Milliseconds())/float64(b.N), "ms_to_last_close")
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "ms_apply")
	b.ReportMetric(float64(closed), "others_closed")
	b.ReportMetric(float64(len(others)+10), "live_connections")
	if closed != 0 {
		b.Fatalf("%d connections of other people were closed", closed)
	}
}

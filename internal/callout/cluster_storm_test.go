package callout

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// clusterStorm runs connects at a fixed parallelism against the cluster and fires one event
// (a kill, a rolling restart) once `at` connects have completed; it keeps going until at
// least `total` connects are done and the event has finished.
type clusterStorm struct {
	total, parallel, at int
	// connect makes connect number i; retried says whether its first attempt failed.
	connect func(i int) (retried bool, err error)
	event   func()
}

type clusterStormResult struct {
	connects  int
	retried   int // connects whose first attempt failed and that were tried again
	failed    int // connects that failed for good
	refused   int // of those, refused as a lost request looks: Authorization Violation, or PING before PONG
	errs      []string
	lat       []time.Duration
	wall      time.Duration
	eventAt   time.Time
	eventTook time.Duration
	// recovery is how long after the event the last connect that needed a retry (or took
	// longer than a lost request does) completed: until then some clients noticed the event.
	recovery time.Duration
}

func (s clusterStorm) run(tb testing.TB) *clusterStormResult {
	tb.Helper()
	var (
		mu        sync.Mutex
		r         = &clusterStormResult{}
		next      atomic.Int64
		completed atomic.Int64
		eventDone = make(chan struct{})
		fired     sync.Once
		lastSlow  time.Time
	)
	if s.event == nil {
		close(eventDone)
	}
	more := func() (int, bool) {
		i := int(next.Add(1)) - 1
		if i < s.total {
			return i, true
		}
		select {
		case <-eventDone:
			return 0, false
		default:
			return i, true
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range s.parallel {
		wg.Go(func() {
			for {
				i, ok := more()
				if !ok {
					return
				}
				t0 := time.Now()
				retried, err := s.connect(i)
				d := time.Since(t0)
				done := int(completed.Add(1))
				mu.Lock()
				r.connects++
				r.lat = append(r.lat, d)
				if retried {
					r.retried++
				}
				if err != nil {
					r.failed++
					if looksRefused(err) {
						r.refused++
					}
					if len(r.errs) < 5 {
						r.errs = append(r.errs, err.Error())
					}
				}
				if retried || err != nil || d >= natspingclient.DefaultLostRequestAfter {
					lastSlow = time.Now()
				}
				mu.Unlock()
				if s.event != nil && done == s.at {
					fired.Do(func() {
						go func() {
							defer close(eventDone)
							mu.Lock()
							r.eventAt = time.Now()
							mu.Unlock()
							s.event()
							mu.Lock()
							r.eventTook = time.Since(r.eventAt)
							mu.Unlock()
						}()
					})
				}
			}
		})
	}
	wg.Wait()
	<-eventDone
	r.wall = time.Since(start)
	if !r.eventAt.IsZero() && lastSlow.After(r.eventAt) {
		r.recovery = lastSlow.Sub(r.eventAt)
	}
	return r
}

// looksRefused says whether a failed connect is what a valid token sees when its
// authorization request was lost, rather than a connection to a dead node.
func looksRefused(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || strings.Contains(err.Error(), "expected 'PONG', got 'PING'")
}

func (r *clusterStormResult) String() string {
	return fmt.Sprintf("%d connects in %s (%.0f/s), %d retried, %d failed (%d refused), p50 %.1f ms, p99 %.1f ms, event took %s, recovery %s; errors: %s",
		r.connects, r.wall.Round(time.Millisecond), float64(r.connects)/r.wall.Seconds(), r.retried, r.failed, r.refused,
		percentile(r.lat, 50), percentile(r.lat, 99), r.eventTook.Round(time.Millisecond), r.recovery.Round(time.Millisecond),
		strings.Join(r.errs, " | "))
}

// clusterTokens issues n distinct reader tokens.
func (c *clusterEnv) clusterTokens(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = c.token(i, "order-readers")
	}
	return out
}

// viaClient connects the way a natspingclient user does: every node's URL, the package's
// retry with its defaults. retried reports a first attempt that failed.
func (c *clusterEnv) viaClient(tb testing.TB, tokens []string) func(i int) (bool, error) {
	urls := strings.Join(c.urls(), ",")
	sources := make([]*natspingclient.Source, len(tokens))
	retried := make([]atomic.Int64, len(tokens))
	for i, tok := range tokens {
		sources[i] = source(tb, tok, natspingclient.Options{OnConnectRetry: func(int, error) { retried[i].Add(1) }})
	}
	return func(i int) (bool, error) {
		k := i % len(tokens)
		before := retried[k].Load()
		nc, err := sources[k].Connect(urls, nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
		}
		return retried[k].Load() != before, err
	}
}

// viaOneNode connects each client to one node (round robin) with no fallback and no retry:
// every lost request is a refusal.
func (c *clusterEnv) viaOneNode(tokens []string) func(i int) (bool, error) {
	urls := c.urls()
	return func(i int) (bool, error) {
		nc, err := connectOnce(urls[i%len(urls)], tokens[i%len(tokens)])
		if err == nil {
			nc.Close()
		}
		return false, err
	}
}

// TestClusterRollingRestartLosesNothing: both replicas are restarted one after the other
// (Shutdown drains, then a new replica starts on the same node) while clients connect, each
// to one node with no fallback and no retry. Not one connect is refused, and the replicas
// received exactly one request per connect: none was lost in the drain and none answered
// twice. 25 clients in parallel (5 under the race detector) keep decisions well below the 2 s
// auth timeout on this loaded machine, so a refusal here can only be a lost request; the storm
// tests are not parallel to other tests for the same reason.
func TestClusterRollingRestartLosesNothing(t *testing.T) {
	c := newClusterEnv(t)
	decisions := &lineCounter{}
	replicas := []*Service{c.replica(t, "replica-a", 0, decisions), c.replica(t, "replica-b", 1, decisions)}
	restarts, parallel := 0, 25
	if raceDetector {
		parallel = 5
	}
	r := clusterStorm{
		total: 1000, parallel: parallel, at: 100,
		connect: c.viaOneNode(c.clusterTokens(50)),
		event: func() {
			for i := range replicas {
				if err := replicas[i].Shutdown(t.Context()); err != nil {
					t.Errorf("drain of replica %d: %v", i, err)
				}
				replicas[i] = c.replica(t, fmt.Sprintf("replica-%d-new", i), i, decisions)
				restarts++
			}
		},
	}.run(t)
	t.Log(r)
	for _, s := range replicas {
		if err := s.Shutdown(t.Context()); err != nil { // flushes the audit lines
			t.Fatal(err)
		}
	}
	received := int(decisions.n.Load())
	if restarts != 2 || r.failed != 0 {
		t.Fatalf("%d restarts; %d of %d connects refused during the rolling restart: %v", restarts, r.failed, r.connects, r.errs)
	}
	if received != r.connects {
		t.Fatalf("the replicas decided %d requests for %d connects", received, r.connects)
	}
}

// lineCounter counts the audit lines (one per decision) written to it by any replica.
type lineCounter struct{ n atomic.Int64 }

func (w *lineCounter) Write(p []byte) (int, error) {
	w.n.Add(int64(bytes.Count(p, []byte("\n"))))
	return len(p), nil
}

// holdThenKill arms v, waits until the replica holds at least n requests, then kills.
func holdThenKill(t testing.TB, v *heldVerifier, n int32, kill func()) func() {
	return func() {
		v.armed.Store(true)
		deadline := time.Now().Add(20 * time.Second)
		for v.held.Load() < n {
			if time.Now().After(deadline) {
				t.Errorf("the replica held %d requests, want %d", v.held.Load(), n)
				break
			}
			time.Sleep(time.Millisecond)
		}
		kill()
		// A replica whose node died reconnects to another node; from then on it decides again.
		// The requests it held stay held: their replies could only go to the dead connection.
		v.armed.Store(false)
		t.Logf("killed holding %d authorization requests", v.held.Load())
	}
}

// slowConnects counts connects that took at least d.
func (r *clusterStormResult) slowConnects(d time.Duration) int {
	n := 0
	for _, l := range r.lat {
		if l >= d {
			n++
		}
	}
	return n
}

// TestClusterReplicaKilledMidStorm: a replica that crashes while it holds requests (five at
// least, held on purpose) loses them: the servers refuse those clients after their auth
// timeout. nats.go's walk to the next node and natspingclient's retry admit every one of them.
func TestClusterReplicaKilledMidStorm(t *testing.T) {
	c := newClusterEnv(t)
	c.replica(t, "replica-a", 0, nil)
	v := newHeldVerifier(t)
	b := c.heldReplica(t, "replica-b", 1, v)
	r := clusterStorm{
		total: 600, parallel: 50, at: 150,
		connect: c.viaClient(t, c.clusterTokens(50)),
		event:   holdThenKill(t, v, 5, b.kill),
	}.run(t)
	t.Log(r)
	if r.failed != 0 {
		t.Fatalf("%d of %d connects refused after retry: %v", r.failed, r.connects, r.errs)
	}
	if slow := r.slowConnects(2 * time.Second); slow < 5 {
		t.Fatalf("only %d connects waited out the auth timeout; the held requests were not lost as expected", slow)
	}
}

// TestClusterNodeKilledMidStorm: the node a replica is attached to dies mid-storm (the
// replica holding five requests or more), taking its clients, its routes and those requests
// with it; after nats.go's walk to the other nodes and natspingclient's retry no valid token
// is refused.
func TestClusterNodeKilledMidStorm(t *testing.T) {
	c := newClusterEnv(t)
	c.replica(t, "replica-a", 0, nil)
	v := newHeldVerifier(t)
	c.heldReplica(t, "replica-b", 1, v)
	r := clusterStorm{
		total: 600, parallel: 50, at: 150,
		connect: c.viaClient(t, c.clusterTokens(50)),
		event:   holdThenKill(t, v, 5, c.nodes[1].Kill),
	}.run(t)
	t.Log(r)
	if r.failed != 0 {
		t.Fatalf("%d of %d connects refused after retry: %v", r.failed, r.connects, r.errs)
	}
}

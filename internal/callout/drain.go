package callout

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrDraining is what Ready reports from the moment Shutdown begins: the replica no longer
// takes requests, but it is still answering the ones it received, so an orchestrator must not
// count it as available (and must not kill it before the drain ends).
var ErrDraining = errors.New("draining: the replica has stopped taking authorization requests and is answering those it already received before it closes")

// Why a drain loses nothing, in the order Shutdown does it:
//
//  1. Ready fails (ErrDraining), so /readyz turns 503 at once.
//  2. Each connection's endpoint subscription is drained: nats.go sends UNSUB and keeps
//     delivering every message the server sent before it. The server stops choosing this
//     replica for new requests as soon as it reads the UNSUB, and propagates the lost interest
//     to the other nodes. A request another node routed here before that news arrived is not
//     dropped: nats-server 2.15 forwards a routed queue message it cannot deliver locally to a
//     route that still has a member of the group (client.go, processMsgResults, "just in case
//     we can no longer do local delivery"), which TestClusterRollingRestartLosesNothing
//     exercises.
//  3. Every decision already running finishes and its reply is flushed.
//  4. The connections are drained and closed.
//
// What a drain cannot save: requests held by a connection that is down (its node died), which
// the server answers after its auth timeout as an Authorization Violation; see
// natspingclient's retry of that refusal.

// beginDrain marks the service as draining; only the first call logs.
func (s *Service) beginDrain() {
	if s.draining.CompareAndSwap(false, true) {
		s.log.Info("draining: no new authorization requests; answering those already received")
	}
}

// Draining reports whether Shutdown has begun.
func (s *Service) Draining() bool { return s.draining.Load() }

func drainingCollector(s *Service) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "natsping_callout", Name: "draining",
		Help: "1 while the replica drains before it stops (it answers requests already received, takes no new ones).",
	}, func() float64 {
		if s.Draining() {
			return 1
		}
		return 0
	})
}

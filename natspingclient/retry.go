package natspingclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults of the connect retry in [Source.Connect].
const (
	// DefaultConnectAttempts is how many nats.Connect calls one Connect makes at most.
	DefaultConnectAttempts = 3
	// DefaultConnectRetryWait is the wait before the first retry (the upper half jittered),
	// doubling up to DefaultMaxConnectRetryWait.
	DefaultConnectRetryWait    = 250 * time.Millisecond
	DefaultMaxConnectRetryWait = 2 * time.Second
	// DefaultLostRequestAfter tells a lost authorization request from a decision: three
	// quarters of nats-server's default auth timeout (2s).
	DefaultLostRequestAfter = 1500 * time.Millisecond
)

// Why Connect retries, and what it costs.
//
// A callout replica (or the node it is attached to) that dies while it holds authorization
// requests never answers them; the server refuses each of those clients when its auth timeout
// runs out, with the same "Authorization Violation" as a real refusal. The token was fine and
// the next attempt is admitted. A real refusal comes back in milliseconds, a lost request only
// after the auth timeout, so Connect retries an Authorization Violation that took at least
// LostRequestAfter and returns a quick one at once: asking again would only repeat the decision.
//
// nats.go already walks its server pool inside one nats.Connect: a connect refused by one server
// is tried on the next, including every server the cluster advertised in its first INFO. So a
// lost request on one node is usually admitted by the next node within the same nats.Connect,
// and a real refusal costs one callout decision per node (3 on a 3-node cluster), not one.
// Connect keeps that (discovered servers are what a long-lived client fails over to when its
// node goes away); pass nats.IgnoreDiscoveredServers() to make it one decision per listed URL.
// A retry repeats the walk, so a slow refusal costs at most ConnectAttempts × nodes decisions.

// The same lost request can also surface as "nats: expected 'PONG', got 'PING'": the server's
// first PING to a new client races its auth timeout (see retryable); Connect treats it alike.

// ConnectError is what [Source.Connect] returns when every attempt failed.
type ConnectError struct {
	// Attempts is how many nats.Connect calls were made.
	Attempts int
	// Err is the last attempt's error (errors.Is(err, nats.ErrAuthorization) for a refusal).
	Err error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("natspingclient: connect failed after %d attempts: %v", e.Attempts, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Connect connects to url with NATSOptions followed by opts. A connect that fails in a way a
// retry can fix (an Authorization Violation that took at least LostRequestAfter, no server
// reachable, a connection dropped during the handshake) is tried again after a jittered,
// doubling wait, up to ConnectAttempts in all; OnConnectRetry hears of each retry.
func (s *Source) Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	all := append(s.NATSOptions(), opts...)
	o := s.opts
	var err error
	for attempt := 1; ; attempt++ {
		start := time.Now()
		var nc *nats.Conn
		nc, err = nats.Connect(url, all...)
		if err == nil {
			return nc, nil
		}
		if attempt >= o.ConnectAttempts || !retryable(err, time.Since(start), o.LostRequestAfter) {
			if attempt == 1 {
				return nil, err
			}
			return nil, &ConnectError{Attempts: attempt, Err: err}
		}
		if o.OnConnectRetry != nil {
			o.OnConnectRetry(attempt, err)
		}
		time.Sleep(backoff(attempt, o.ConnectRetryWait, o.MaxConnectRetryWait, s.rnd()))
	}
}

// retryable says whether a failed nats.Connect that took took could succeed when repeated.
// lostAfter < 0 retries every Authorization Violation.
func retryable(err error, took, lostAfter time.Duration) bool {
	if errors.Is(err, nats.ErrAuthorization) {
		return lostAfter < 0 || took >= lostAfter
	}
	// nats-server sends a client its first PING 2–2.4 s after the CONNECT, and nats.go fails a
	// handshake that sees a PING before its PONG. With the default 2 s auth timeout the server's
	// Authorization Violation for a lost request usually comes first, but not always (and not on
	// a loaded server): then the same lost request surfaces as this protocol error.
	if strings.Contains(err.Error(), "expected 'PONG', got 'PING'") {
		return took >= lostAfter
	}
	var ne net.Error
	return errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne)
}

package resolver

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// request is one message of a pipelined batch.
type request struct {
	subject string
	data    []byte
}

// replyFunc records a reply to request i and reports whether that request has now received
// every reply it is waiting for. It runs on the subscription's goroutine, under the
// pipeline's lock, so it may write per-request state without further locking.
type replyFunc func(i int, m *nats.Msg) (done bool)

// requestState tracks one request of a batch.
type requestState uint8

const (
	pending requestState = iota
	inFlight
	completed
	expired
)

// pipeline sends the requests on one connection with up to window of them in flight, all
// answered on a single wildcard subscription (reply subject <inbox>.<index>), and returns
// once every request has been answered completely or has waited timeout since it was sent.
//
// nsc sends one request and waits out its whole timeout before the next (nats-io/nsc#464,
// about one account per second); a resolver in a cluster answers with one message per
// server, so the number of replies is only known to the caller, which onReply encodes.
// The returned slice tells, per request, whether it completed or expired.
func pipeline(ctx context.Context, nc *nats.Conn, reqs []request, window int, timeout time.Duration, onReply replyFunc) ([]requestState, error) {
	states := make([]requestState, len(reqs))
	if len(reqs) == 0 {
		return states, nil
	}
	prefix := nc.NewInbox() + "."
	var (
		mu       sync.Mutex
		finished bool
		active   int
	)
	// wake is signalled whenever a request completes, so the sender can refill the window.
	wake := make(chan struct{}, 1)
	sub, err := nc.Subscribe(prefix+"*", func(m *nats.Msg) {
		i, err := strconv.Atoi(m.Subject[len(prefix):])
		if err != nil || i < 0 || i >= len(reqs) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if finished || states[i] != inFlight {
			return
		}
		if onReply(i, m) {
			states[i] = completed
			active--
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// Replies for a large batch arrive faster than one goroutine handles them at first; the
	// default pending limits would drop them as a slow consumer and the requests would expire.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()

	sentAt := make([]time.Time, len(reqs))
	next, head := 0, 0 // next to send; oldest request that may still be in flight
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		mu.Lock()
		for active < window && next < len(reqs) {
			// Marked in flight before publishing, so a reply that beats the bookkeeping counts.
			states[next] = inFlight
			sentAt[next] = time.Now()
			active++
			if err := nc.PublishRequest(reqs[next].subject, prefix+strconv.Itoa(next), reqs[next].data); err != nil {
				finished = true
				mu.Unlock()
				return nil, err
			}
			next++
		}
		// Every request waits the same timeout, so send order is deadline order.
		now := time.Now()
		for head < next && (states[head] != inFlight || now.Sub(sentAt[head]) >= timeout) {
			if states[head] == inFlight {
				states[head] = expired
				active--
			}
			head++
		}
		if head == len(reqs) {
			finished = true
			mu.Unlock()
			return states, nil
		}
		wait := timeout - now.Sub(sentAt[head])
		mu.Unlock()

		timer.Reset(wait)
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
			mu.Lock()
			finished = true
			mu.Unlock()
			return nil, ctx.Err()
		}
		if nc.IsClosed() {
			mu.Lock()
			finished = true
			mu.Unlock()
			return nil, errors.New("the connection to the servers closed while waiting for replies")
		}
	}
}

// isNoResponders reports the status message the server sends instead of a reply when
// nothing subscribes to the request subject.
func isNoResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == "503"
}

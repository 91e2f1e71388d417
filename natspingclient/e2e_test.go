package natspingclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/oauth2"

	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// Tokens live two seconds, so a few expiries fit in a short test; the callout ends every
// session at the token's exp (the mapping's max_session is an hour).
const tokenLifetime = 2 * time.Second

// fastRetries keeps the waits after a failure short enough for a test; the production
// defaults are seconds to a minute.
func fastRetries(o natspingclient.Options) natspingclient.Options {
	o.RetryMin, o.RetryMax = 50*time.Millisecond, 400*time.Millisecond
	o.ReconnectWait, o.MaxReconnectWait = 50*time.Millisecond, 400*time.Millisecond
	return o
}

// connEvents counts what nats.go reports about one connection.
type connEvents struct {
	expired, refused, reconnects atomic.Int64
}

func (e *connEvents) options() []nats.Option {
	return []nats.Option{
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			switch {
			case errors.Is(err, nats.ErrAuthExpired):
				e.expired.Add(1)
			case errors.Is(err, nats.ErrAuthorization):
				e.refused.Add(1)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { e.reconnects.Add(1) }),
	}
}

func (e *connEvents) String() string {
	return fmt.Sprintf("%d expiries, %d refused connects, %d reconnects", e.expired.Load(), e.refused.Load(), e.reconnects.Load())
}

func newSource(t *testing.T, w *world, o natspingclient.Options) *natspingclient.Source {
	t.Helper()
	src, err := natspingclient.New(w.tokenSource(t), fastRetries(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

func connect(t *testing.T, w *world, src *natspingclient.Source, ev *connEvents) *nats.Conn {
	t.Helper()
	nc, err := src.Connect(w.natsURL, ev.options()...)
	if err != nil {
		t.Fatalf("connect with a fresh token: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestPublishAndConsumeAcrossExpiries runs a JetStream publisher (selecting the account, so
// the token travels as the password) and an ordered consumer (token handler) until the server
// has ended each one's session at least three times. Every publish is retried until
// acknowledged under one message id, so the stream stores each message once, and the
// consumer receives each exactly once, in order.
func TestPublishAndConsumeAcrossExpiries(t *testing.T) {
	t.Parallel()
	w := newWorld(t, tokenLifetime)

	var pubRefreshes, subRefreshes atomic.Int64
	pubSrc := newSource(t, w, natspingclient.Options{Account: appAccountName, OnRefresh: func(time.Time) { pubRefreshes.Add(1) }})
	subSrc := newSource(t, w, natspingclient.Options{OnRefresh: func(time.Time) { subRefreshes.Add(1) }})
	var pubEv, subEv connEvents
	pubNC := connect(t, w, pubSrc, &pubEv)
	subNC := connect(t, w, subSrc, &subEv)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pubJS := must(jetstream.New(pubNC))
	if _, err := pubJS.CreateStream(ctx, jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"events.>"}, Storage: jetstream.MemoryStorage, Duplicates: time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
	cons, err := must(jetstream.New(subNC)).OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var received []string
	cc, err := cons.Consume(func(m jetstream.Msg) {
		mu.Lock()
		received = append(received, string(m.Data()))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()

	var sent []string
	retried := 0
	enough := func() bool {
		return pubEv.expired.Load() >= 3 && subEv.expired.Load() >= 3 &&
			pubEv.reconnects.Load() >= 3 && subEv.reconnects.Load() >= 3
	}
	for !enough() {
		if ctx.Err() != nil {
			t.Fatalf("the clients did not get through three expiries: publisher %s, consumer %s", &pubEv, &subEv)
		}
		msg := fmt.Sprintf("msg-%05d", len(sent))
		for attempt := 0; ; attempt++ {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := pubJS.Publish(pctx, "events.x", []byte(msg), jetstream.WithMsgID(msg))
			pcancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s never acknowledged: %v", msg, err)
			}
			retried++
			time.Sleep(20 * time.Millisecond)
		}
		sent = append(sent, msg)
		time.Sleep(10 * time.Millisecond)
	}

	waitFor(t, "the consumer to receive every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(received) >= len(sent)
	})
	info, err := pubJS.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != uint64(len(sent)) {
		t.Errorf("the stream holds %d messages, want the %d sent (a retried publish was stored twice or one was lost)", n, len(sent))
	}
	mu.Lock()
	got := append([]string(nil), received...)
	mu.Unlock()
	if len(got) != len(sent) {
		t.Fatalf("received %d messages, sent %d", len(got), len(sent))
	}
	for i := range sent {
		if got[i] != sent[i] {
			t.Fatalf("message %d: received %q, want %q (each message exactly once, in order)", i, got[i], sent[i])
		}
	}
	// Each session the server ended was followed by a connect with a token it accepted, so
	// each reconnect needed a token newer than the one before.
	if pubRefreshes.Load() < 3 || subRefreshes.Load() < 3 {
		t.Errorf("refreshes: publisher %d, consumer %d; want at least 3 each", pubRefreshes.Load(), subRefreshes.Load())
	}
	if pubNC.IsClosed() || subNC.IsClosed() {
		t.Error("a client was closed instead of reconnecting")
	}
	t.Logf("%d messages; publisher %s; consumer %s; %d publish retries", len(sent), &pubEv, &subEv, retried)
}

// TestIssuerOutage takes the token endpoint down while a client is connected: each failed
// refresh is reported as a *RefreshError wrapping the endpoint's answer, and once the token
// expires the server refuses the client's reconnects without nats.go giving up. When the
// endpoint returns, the next refresh clears the error and the client reconnects and works.
func TestIssuerOutage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, tokenLifetime)

	refreshErrs := make(chan error, 64)
	refreshed := make(chan struct{}, 64)
	src := newSource(t, w, natspingclient.Options{
		OnError:   func(err error) { trySend(refreshErrs, err) },
		OnRefresh: func(time.Time) { trySend(refreshed, struct{}{}) },
	})
	var ev connEvents
	nc := connect(t, w, src, &ev)
	if _, err := nc.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc, "before the outage")

	w.issuerUp.Store(false)
	first := recv(t, refreshErrs, "a refresh failure")
	var rerr *natspingclient.RefreshError
	if !errors.As(first, &rerr) {
		t.Fatalf("OnError got %T %v, want a *natspingclient.RefreshError", first, first)
	}
	var oerr *oauth2.RetrieveError
	if !errors.As(first, &oerr) || oerr.Response.StatusCode != http.StatusServiceUnavailable || oerr.ErrorCode != "temporarily_unavailable" {
		t.Fatalf("the refresh error does not carry the endpoint's 503 answer: %v", first)
	}
	if msg := first.Error(); !strings.Contains(msg, "token refresh failed") || !strings.Contains(msg, "expires in") {
		t.Errorf("the first failure, before expiry, reads %q", msg)
	}
	if !errors.Is(src.Err(), oerr) {
		t.Errorf("Err() = %v, want the last refresh failure", src.Err())
	}

	// After exp the error says the server now refuses reconnects, and it does.
	for {
		err := recv(t, refreshErrs, "a refresh failure after the token's expiry")
		if errors.As(err, &rerr) && !rerr.At.Before(rerr.Expiry) {
			if !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "refuses reconnects") {
				t.Errorf("a failure after expiry reads %q", err)
			}
			break
		}
	}
	// nats.go closes a connection after the same authorization error twice in a row unless
	// told otherwise: a third refusal proves it kept trying.
	waitFor(t, "the server to end the session and refuse three reconnects", func() bool {
		return ev.expired.Load() >= 1 && ev.refused.Load() >= 3
	})
	if nc.IsClosed() {
		t.Fatal("nats.go gave up after the refused reconnects")
	}

	drain(refreshed)
	reconnectsBefore := ev.reconnects.Load()
	w.issuerUp.Store(true)
	recv(t, refreshed, "a refresh once the issuer is back")
	if err := src.Err(); err != nil {
		t.Errorf("Err() = %v after a successful refresh, want nil", err)
	}
	waitFor(t, "a reconnect with the fresh token", func() bool { return ev.reconnects.Load() > reconnectsBefore })
	roundTrip(t, nc, "after the issuer came back")
	t.Logf("client: %s", &ev)
}

func roundTrip(t *testing.T, nc *nats.Conn, when string) {
	t.Helper()
	resp, err := nc.Request("echo", []byte(when), 5*time.Second)
	if err != nil {
		t.Fatalf("request %s: %v", when, err)
	}
	if string(resp.Data) != when {
		t.Fatalf("request %s: got %q", when, resp.Data)
	}
}

func trySend[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

func drain[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// recv takes the next value from ch; the bound only turns a hang into a failure.
func recv[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

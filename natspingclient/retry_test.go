package natspingclient_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/oauth2"

	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// TestConnectRetriesLostAuthRequest: with no callout replica answering, the server refuses
// the connect after its 2 s auth timeout with Authorization Violation, exactly what a replica
// dying with the request in hand looks like. Connect takes that slow refusal for a lost request
// and tries again; a replica started before the retry admits it.
func TestConnectRetriesLostAuthRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.callout.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var retries atomic.Int32
	var firstErr atomic.Value
	src2, err := natspingclient.New(w.tokenSource(t), natspingclient.Options{
		OnConnectRetry: func(attempt int, err error) {
			if retries.Add(1) == 1 {
				firstErr.Store(err)
				w.startCallout(t) // the other replica takes over before the retry
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src2.Close)
	start := time.Now()
	nc, err := src2.Connect(w.natsURL, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("Connect after a lost request: %v", err)
	}
	nc.Close()
	if n := retries.Load(); n != 1 {
		t.Fatalf("%d retries, want 1", n)
	}
	if e, _ := firstErr.Load().(error); !errors.Is(e, nats.ErrAuthorization) {
		t.Fatalf("the retried attempt failed with %v, want an Authorization Violation", e)
	}
	t.Logf("admitted %s after the first attempt began (the server's auth timeout is 2 s)", time.Since(start).Round(time.Millisecond))
}

// TestConnectReturnsQuickRefusalAtOnce: a token the callout refuses comes back in
// milliseconds; Connect returns the Authorization Violation without asking again.
func TestConnectReturnsQuickRefusalAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, time.Hour)
	var retries atomic.Int32
	src, err := natspingclient.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "not-a-ping-token"}), natspingclient.Options{
		OnConnectRetry: func(int, error) { retries.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	_, err = src.Connect(w.natsURL, nats.MaxReconnects(0))
	var ce *natspingclient.ConnectError
	switch {
	case !errors.Is(err, nats.ErrAuthorization):
		t.Fatalf("Connect = %v, want an Authorization Violation", err)
	case errors.As(err, &ce):
		t.Fatalf("a quick refusal was retried: %v", err)
	case retries.Load() != 0:
		t.Fatalf("OnConnectRetry called %d times", retries.Load())
	}
	// Retrying every refusal is a choice: LostRequestAfter < 0, bounded by ConnectAttempts.
	all, err := natspingclient.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "not-a-ping-token"}), natspingclient.Options{
		LostRequestAfter: -1, ConnectAttempts: 2, ConnectRetryWait: 10 * time.Millisecond,
		OnConnectRetry: func(int, error) { retries.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(all.Close)
	_, err = all.Connect(w.natsURL, nats.MaxReconnects(0))
	if !errors.As(err, &ce) || ce.Attempts != 2 || !errors.Is(err, nats.ErrAuthorization) || retries.Load() != 1 {
		t.Fatalf("with every refusal retried: %v (%d retries), want a ConnectError after 2 attempts", err, retries.Load())
	}
}

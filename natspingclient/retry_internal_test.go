package natspingclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestRetryable(t *testing.T) {
	t.Parallel()
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: errTimeout{}}
	tests := []struct {
		name      string
		err       error
		took      time.Duration
		lostAfter time.Duration
		want      bool
	}{
		{"slow refusal is a lost request", nats.ErrAuthorization, 2 * time.Second, DefaultLostRequestAfter, true},
		{"quick refusal is a decision", nats.ErrAuthorization, 30 * time.Millisecond, DefaultLostRequestAfter, false},
		{"every refusal when asked", nats.ErrAuthorization, time.Millisecond, -1, true},
		{"no servers", nats.ErrNoServers, 0, DefaultLostRequestAfter, true},
		{"handshake cut by a dying node", fmt.Errorf("wrapped: %w", io.EOF), 0, DefaultLostRequestAfter, true},
		{"read timeout", timeout, 5 * time.Second, DefaultLostRequestAfter, true},
		{"first PING before the verdict of a lost request", errors.New("nats: expected 'PONG', got 'PING'"), 2200 * time.Millisecond, DefaultLostRequestAfter, true},
		{"quick protocol error", errors.New("nats: expected 'PONG', got 'PING'"), 10 * time.Millisecond, DefaultLostRequestAfter, false},
		{"expired token", nats.ErrAuthExpired, 2 * time.Second, DefaultLostRequestAfter, false},
		{"bad URL", errors.New("nats: invalid url"), 0, DefaultLostRequestAfter, false},
	}
	for _, tt := range tests {
		if got := retryable(tt.err, tt.took, tt.lostAfter); got != tt.want {
			t.Errorf("%s: retryable = %t, want %t", tt.name, got, tt.want)
		}
	}
}

type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }

func TestConnectDefaults(t *testing.T) {
	t.Parallel()
	o := Options{}.withDefaults()
	if o.ConnectAttempts != DefaultConnectAttempts || o.ConnectRetryWait != DefaultConnectRetryWait ||
		o.MaxConnectRetryWait != DefaultMaxConnectRetryWait || o.LostRequestAfter != DefaultLostRequestAfter {
		t.Fatalf("defaults: %+v", o)
	}
	if o := (Options{LostRequestAfter: -1, ConnectAttempts: 1}).withDefaults(); o.LostRequestAfter != -1 || o.ConnectAttempts != 1 {
		t.Fatalf("explicit values replaced: %+v", o)
	}
}

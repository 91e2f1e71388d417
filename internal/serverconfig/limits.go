package serverconfig

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// The nats-server defaults of the client limits (server/const.go, v2.15.3), written here
// rather than imported so the provider does not link the whole server; TestLimitDefaults
// pins them against the server.
const (
	// DefaultMaxControlLine is the longest protocol line a client may send, CONNECT included.
	// With auth callout the CONNECT carries the whole Ping token, so a token with many groups
	// exceeds it and the server closes the connection before the callout is asked.
	DefaultMaxControlLine = 4096
	DefaultMaxPayload     = 1 << 20
	DefaultMaxPending     = 64 << 20
	DefaultMaxConnections = 64 * 1024
	DefaultPingInterval   = "2m"
	DefaultPingMax        = 2
	DefaultWriteDeadline  = "10s"
	// DefaultAuthTimeout is how long a client has to authenticate without TLS; with auth
	// callout the callout's answer must arrive within it.
	DefaultAuthTimeout = "2s"
)

// MaxControlLineCeiling bounds max_control_line: room for the largest token the callout
// accepts (oidc.MaxTokenBytes) plus a default line for the other CONNECT fields, such as a
// sentinel JWT a client presents itself. A longer line would only admit CONNECTs the callout
// refuses, while the server buffers up to this much of every unauthenticated connection.
const MaxControlLineCeiling = oidc.MaxTokenBytes + DefaultMaxControlLine

// maxInt32 is the largest value nats-server takes for max_control_line and max_payload
// ("value is too big" otherwise).
const maxInt32 = math.MaxInt32

// Limits are the client connection limits of the server. Zero values leave the server's
// default (the Default… constants).
type Limits struct {
	// MaxControlLine is the longest protocol line in bytes; raise it for large Ping tokens.
	MaxControlLine int64
	// MaxPayload is the largest message payload in bytes. Accounts and roles can only
	// lower it for their users.
	MaxPayload int64
	// MaxPending is how many bytes may wait to be sent to one client before it is closed
	// as a slow consumer.
	MaxPending int64
	// MaxConnections caps the client connections of the server.
	MaxConnections int64
	// PingInterval (Go duration) is how often the server pings an idle client.
	PingInterval string
	// PingMax is how many unanswered pings close a connection.
	PingMax int64
	// WriteDeadline (Go duration) bounds one socket write to a client.
	WriteDeadline string
	// AuthTimeout (Go duration) is how long a client has to authenticate; with auth callout
	// it bounds the whole callout round trip, rendered as authorization { timeout }.
	AuthTimeout string
}

func (l Limits) isSet() bool { return l != Limits{} }

// validateLimits adds every problem with the limits. Fields are named "limits.<name>".
func validateLimits(l Limits, errs *FieldErrors) {
	if v := l.MaxControlLine; v != 0 {
		switch {
		case v < DefaultMaxControlLine:
			errs.add("limits.max_control_line", "%d is below nats-server's default of %d bytes; a lower limit only refuses more "+
				"Ping tokens at CONNECT (the whole token travels in that line), so leave it unset or raise it", v, DefaultMaxControlLine)
		case v > MaxControlLineCeiling:
			errs.add("limits.max_control_line", "%d is above %d bytes: the callout refuses tokens over %d bytes anyway, while the "+
				"server buffers up to this much of every unauthenticated connection; use at most %d and keep tokens short "+
				"(fewer groups in the claim)", v, MaxControlLineCeiling, oidc.MaxTokenBytes, MaxControlLineCeiling)
		}
	}
	if v := l.MaxPayload; v != 0 {
		pending := l.MaxPending
		if pending == 0 {
			pending = DefaultMaxPending
		}
		switch {
		case v < 1:
			errs.add("limits.max_payload", "%d is not a size; use a positive number of bytes, or leave it unset for %d (1 MiB)", v, DefaultMaxPayload)
		case v > maxInt32:
			errs.add("limits.max_payload", "%d is larger than nats-server accepts (%d); use a smaller number of bytes", v, maxInt32)
		case v > pending:
			errs.add("limits.max_payload", "%d is larger than max_pending (%d), which nats-server refuses; raise limits.max_pending "+
				"to at least %d or lower max_payload", v, pending, v)
		}
	}
	positive := []struct {
		field string
		v     int64
		unit  string
	}{
		{"limits.max_pending", l.MaxPending, "bytes"},
		{"limits.max_connections", l.MaxConnections, "connections"},
		{"limits.ping_max", l.PingMax, "unanswered pings"},
	}
	for _, p := range positive {
		if p.v < 0 {
			errs.add(p.field, "%d is negative; use a positive number of %s, or leave it unset for the server default", p.v, p.unit)
		}
	}
	durations := []struct{ field, v, def string }{
		{"limits.ping_interval", l.PingInterval, DefaultPingInterval},
		{"limits.write_deadline", l.WriteDeadline, DefaultWriteDeadline},
		{"limits.auth_timeout", l.AuthTimeout, DefaultAuthTimeout},
	}
	for _, d := range durations {
		if d.v == "" {
			continue
		}
		if v, err := time.ParseDuration(d.v); err != nil || v <= 0 {
			errs.add(d.field, "%q is not a positive Go duration; use e.g. %q (the server default)", d.v, d.def)
		}
	}
	if d, err := time.ParseDuration(l.AuthTimeout); err == nil && d > time.Minute {
		errs.add("limits.auth_timeout", "%q is longer than a minute; a client that never finishes authenticating holds its "+
			"connection that long (nats-server warns above 60s), so use a few seconds more than the callout needs, e.g. \"5s\"", l.AuthTimeout)
	}
}

// writeLimits renders the limits in a fixed order, so equal inputs give equal bytes.
func writeLimits(b *strings.Builder, l Limits) {
	if !l.isSet() {
		return
	}
	b.WriteString("\n# Client limits.\n")
	// Keys in alphabetical order; the authorization block, if any, follows them.
	lines := []struct {
		key string
		v   string
	}{
		{"max_connections", intOrEmpty(l.MaxConnections)},
		{"max_control_line", intOrEmpty(l.MaxControlLine)},
		{"max_payload", intOrEmpty(l.MaxPayload)},
		{"max_pending", intOrEmpty(l.MaxPending)},
		{"ping_interval", quoteOrEmpty(l.PingInterval)},
		{"ping_max", intOrEmpty(l.PingMax)},
		{"write_deadline", quoteOrEmpty(l.WriteDeadline)},
	}
	for _, line := range lines {
		if line.v != "" {
			fmt.Fprintf(b, "%s: %s\n", line.key, line.v)
		}
	}
	if l.AuthTimeout != "" {
		// The only setting of this block natsping renders: users and tokens belong to the
		// operator's JWTs, and nats-server refuses them beside an operator anyway.
		b.WriteString("\n# Time a client has to authenticate, the auth callout's answer included.\n")
		fmt.Fprintf(b, "authorization {\n  timeout: %s\n}\n", Quote(l.AuthTimeout))
	}
}

func intOrEmpty(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// quoteOrEmpty quotes durations: the config parser reads an unquoted 2m as the number
// 2,000,000 (a size suffix), which the server then takes as seconds.
func quoteOrEmpty(v string) string {
	if v == "" {
		return ""
	}
	return Quote(v)
}

package serverconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startRendered boots a real nats-server from a rendered config and returns what it reports
// about itself, the values it enforces.
func startRendered(t *testing.T, config string) *server.Varz {
	t.Helper()
	v, err := startServer(t, config).Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func startServer(t *testing.T, config string) *server.Server {
	t.Helper()
	file := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &server.Options{}
	if err := opts.ProcessConfigFile(file); err != nil {
		t.Fatalf("nats-server rejects the config: %v\n%s", err, config)
	}
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats-server cannot be created from the config: %v", err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return s
}

// The room the limits guide gives for a token: with the default control line a token of
// 3,923 bytes still reaches authentication through nats.go's CONNECT (and is refused there,
// as this server has no callout), one byte more is refused as a too long line.
func TestDefaultControlLineRoomForToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	out, err := Render(f.input())
	if err != nil {
		t.Fatal(err)
	}
	url := startServer(t, out.Config).ClientURL()
	connectErr := func(n int) string {
		nc, err := nats.Connect(url, nats.Token(strings.Repeat("t", n)), nats.NoReconnect())
		if err != nil {
			return err.Error()
		}
		nc.Close()
		return ""
	}
	if got := connectErr(3923); !strings.Contains(got, "Authorization Violation") {
		t.Errorf("a 3,923-byte token: got %q, want the server to reach authentication (Authorization Violation)", got)
	}
	if got := connectErr(3924); !strings.Contains(got, "maximum control line exceeded") {
		t.Errorf("a 3,924-byte token: got %q, want maximum control line exceeded", got)
	}
}

// The Default… constants are what a server started without the settings reports.
func TestLimitDefaultsAreTheServers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	out, err := Render(f.input())
	if err != nil {
		t.Fatal(err)
	}
	v := startRendered(t, out.Config)
	got := Limits{
		MaxControlLine: int64(v.MaxControlLine), MaxPayload: int64(v.MaxPayload), MaxPending: v.MaxPending,
		MaxConnections: int64(v.MaxConn), PingInterval: v.PingInterval.String(), PingMax: int64(v.MaxPingsOut),
		WriteDeadline: v.WriteDeadline.String(), AuthTimeout: (time.Duration(v.AuthTimeout * float64(time.Second))).String(),
	}
	want := Limits{
		MaxControlLine: DefaultMaxControlLine, MaxPayload: DefaultMaxPayload, MaxPending: DefaultMaxPending,
		MaxConnections: DefaultMaxConnections, PingInterval: mustDuration(DefaultPingInterval), PingMax: DefaultPingMax,
		WriteDeadline: mustDuration(DefaultWriteDeadline), AuthTimeout: mustDuration(DefaultAuthTimeout),
	}
	if got != want {
		t.Errorf("server defaults %+v, constants say %+v", got, want)
	}
}

func mustDuration(s string) string { return must(time.ParseDuration(s)).String() }

// Every rendered limit is one the server reads under that name: a misspelt key would be
// ignored silently (nats-server only warns about unknown keys) and the default would stay.
func TestLimitsTakeEffect(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	in := f.input()
	in.DefaultSentinel = f.sentinel
	in.Limits = Limits{
		MaxControlLine: 16384, MaxPayload: 2 << 20, MaxPending: 32 << 20, MaxConnections: 500,
		PingInterval: "45s", PingMax: 4, WriteDeadline: "3s", AuthTimeout: "5s",
	}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	v := startRendered(t, out.Config)
	if v.MaxControlLine != 16384 || v.MaxPayload != 2<<20 || v.MaxPending != 32<<20 || v.MaxConn != 500 ||
		v.PingInterval != 45*time.Second || v.MaxPingsOut != 4 || v.WriteDeadline != 3*time.Second || v.AuthTimeout != 5 {
		t.Errorf("the server runs with max_control_line %d, max_payload %d, max_pending %d, max_connections %d, "+
			"ping_interval %s, ping_max %d, write_deadline %s, auth_timeout %gs\n%s",
			v.MaxControlLine, v.MaxPayload, v.MaxPending, v.MaxConn, v.PingInterval, v.MaxPingsOut, v.WriteDeadline, v.AuthTimeout, out.Config)
	}
}

func TestLimitsLayout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	in := f.input()
	in.Listen.Port = 4222
	in.Limits = Limits{AuthTimeout: "5s", WriteDeadline: "3s", PingMax: 4, PingInterval: "45s", MaxConnections: 500,
		MaxPending: 32 << 20, MaxPayload: 2 << 20, MaxControlLine: 16384}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "port: 4222\n\n# Client limits.\nmax_connections: 500\nmax_control_line: 16384\nmax_payload: 2097152\n" +
		"max_pending: 33554432\nping_interval: \"45s\"\nping_max: 4\nwrite_deadline: \"3s\"\n\n" +
		"# Time a client has to authenticate, the auth callout's answer included.\nauthorization {\n  timeout: \"5s\"\n}\n\n# Operator"
	if !strings.Contains(out.Config, want) {
		t.Errorf("limits block not rendered as expected; want\n%s\nin\n%s", want, out.Config)
	}
	in.Limits = Limits{MaxControlLine: 8192}
	out, err = Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Config, "authorization") || !strings.Contains(out.Config, "\n# Client limits.\nmax_control_line: 8192\n\n# Operator") {
		t.Errorf("unset limits must not be rendered:\n%s", out.Config)
	}
	in.Limits = Limits{}
	out, err = Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Config, "limits") {
		t.Errorf("no limits set, yet a limits block is rendered:\n%s", out.Config)
	}
}

func TestLimitErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limits    Limits
		field     string
		substring string
	}{
		{"control line below the default", Limits{MaxControlLine: 1024}, "limits.max_control_line", "below nats-server's default of 4096"},
		{"control line above the ceiling", Limits{MaxControlLine: MaxControlLineCeiling + 1}, "limits.max_control_line", "above 69632 bytes: the callout refuses tokens over 65536"},
		{"negative payload", Limits{MaxPayload: -1}, "limits.max_payload", "use a positive number of bytes"},
		{"payload above int32", Limits{MaxPayload: 1 << 32, MaxPending: 1 << 40}, "limits.max_payload", "larger than nats-server accepts"},
		{"payload above default pending", Limits{MaxPayload: 128 << 20}, "limits.max_payload", "larger than max_pending (67108864)"},
		{"payload above given pending", Limits{MaxPayload: 4 << 20, MaxPending: 2 << 20}, "limits.max_payload", "raise limits.max_pending to at least 4194304"},
		{"negative pending", Limits{MaxPending: -5}, "limits.max_pending", "-5 is negative"},
		{"negative connections", Limits{MaxConnections: -1}, "limits.max_connections", "positive number of connections"},
		{"negative ping_max", Limits{PingMax: -2}, "limits.ping_max", "unanswered pings"},
		{"ping interval not a duration", Limits{PingInterval: "120"}, "limits.ping_interval", `"120" is not a positive Go duration; use e.g. "2m"`},
		{"zero write deadline", Limits{WriteDeadline: "0s"}, "limits.write_deadline", `use e.g. "10s"`},
		{"auth timeout not a duration", Limits{AuthTimeout: "2"}, "limits.auth_timeout", `"2" is not a positive Go duration; use e.g. "2s"`},
		{"auth timeout minutes", Limits{AuthTimeout: "5m"}, "limits.auth_timeout", "longer than a minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := ValidateSettings(Input{Limits: tt.limits})
			for _, fe := range errs {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.substring) {
					return
				}
			}
			t.Fatalf("want an error on %s containing %q, got: %v", tt.field, tt.substring, errs)
		})
	}
}

func TestLimitsAcceptedAtTheirBounds(t *testing.T) {
	t.Parallel()
	for _, l := range []Limits{
		{MaxControlLine: DefaultMaxControlLine},
		{MaxControlLine: MaxControlLineCeiling},
		{MaxPayload: DefaultMaxPending},
		{MaxPayload: 1, MaxPending: 1, MaxConnections: 1, PingMax: 1, PingInterval: "1s", WriteDeadline: "1ms", AuthTimeout: "1m"},
	} {
		if errs := ValidateSettings(Input{Limits: l}); len(errs) > 0 {
			t.Errorf("%+v: unexpected errors %v", l, errs)
		}
	}
}

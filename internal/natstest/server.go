package natstest

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// readyTimeout bounds how long a started server may take to accept clients; it starts in
// tens of milliseconds, so hitting this means it failed.
const readyTimeout = 10 * time.Second

// ConfigFileName is the name of the config file written into the server directory.
const ConfigFileName = "server.conf"

// Option adjusts how a server is started.
type Option func(*options)

type options struct {
	host          string
	port          int
	resolverFiles map[string]string
	logs          bool
	keepListen    bool
}

// WithResolverFiles writes files (name → content, such as serverconfig.Output.ResolverFiles)
// into the resolver directory before the server starts, seeding a full or cache resolver.
// A MEMORY config already preloads every account and keeps no directory, so the files are
// not written then; callers can pass them whatever the resolver type.
func WithResolverFiles(files map[string]string) Option {
	return func(o *options) { o.resolverFiles = files }
}

// WithListen overrides the client listen address (default 127.0.0.1 on a random port, -1).
func WithListen(host string, port int) Option {
	return func(o *options) { o.host, o.port = host, port }
}

// WithLogs sends the server's log to stderr, for debugging a test or following the demo.
func WithLogs() Option {
	return func(o *options) { o.logs = true }
}

// Server is a running embedded server started by StartServer.
type Server struct {
	*server.Server
	// URL is the client URL, e.g. nats://127.0.0.1:41234.
	URL string
	// Dir holds the config file and any resolver or JetStream data.
	Dir string
}

// StartServer starts a server from configText in a temporary directory and shuts it down
// when the test ends. It fails the test when the config does not load or the server does
// not become ready.
func StartServer(t testing.TB, configText string, opts ...Option) *Server {
	t.Helper()
	dir := t.TempDir()
	s, err := Start(configText, dir, opts...)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return &Server{Server: s, URL: s.ClientURL(), Dir: dir}
}

// Start writes configText to dir/server.conf, loads it with nats-server's own option
// processing, starts the server and waits until it accepts clients. The caller shuts it down.
// Relative resolver and JetStream directories are resolved against dir, the way they would
// be for a server started from inside dir.
func Start(configText string, dir string, opts ...Option) (*server.Server, error) {
	o := options{host: "127.0.0.1", port: -1}
	for _, opt := range opts {
		opt(&o)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	parsed, err := conf.Parse(configText)
	if err != nil {
		return nil, fmt.Errorf("the config does not parse: %w", err)
	}
	configText, resolverDir, err := anchorResolverDir(configText, parsed, dir)
	if err != nil {
		return nil, err
	}
	if len(o.resolverFiles) > 0 && resolverDir != "" {
		if err := writeResolverFiles(resolverDir, o.resolverFiles); err != nil {
			return nil, err
		}
	}
	file := filepath.Join(dir, ConfigFileName)
	if err := os.WriteFile(file, []byte(configText), 0o600); err != nil {
		return nil, err
	}
	sopts := &server.Options{}
	if err := sopts.ProcessConfigFile(file); err != nil {
		return nil, fmt.Errorf("nats-server rejects the config: %w", err)
	}
	if !o.keepListen {
		sopts.Host, sopts.Port = o.host, o.port
	}
	sopts.NoSigs = true
	sopts.NoLog = !o.logs
	if sopts.JetStream && (sopts.StoreDir == "" || !filepath.IsAbs(sopts.StoreDir)) {
		sopts.StoreDir = filepath.Join(dir, cmp.Or(sopts.StoreDir, "jetstream"))
	}
	s, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("nats-server cannot be created from the config: %w", err)
	}
	if o.logs {
		s.ConfigureLogger()
	}
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		return nil, fmt.Errorf("nats-server did not accept connections within %s", readyTimeout)
	}
	return s, nil
}

// anchorResolverDir makes a relative resolver dir absolute under base. nats-server creates
// and reads a relative dir against the process working directory while parsing, so the
// harness re-declares the resolver block with an absolute dir (a later key wins in the
// nats config format) before the server ever sees the relative one.
func anchorResolverDir(configText string, parsed map[string]any, base string) (string, string, error) {
	var key string
	for _, k := range []string{"resolver", "account_resolver", "accounts_resolver"} {
		if _, ok := parsed[k]; ok {
			key = k
		}
	}
	block, ok := parsed[key].(map[string]any)
	if !ok {
		return configText, "", nil
	}
	dir, _ := block["dir"].(string)
	if dir == "" || filepath.IsAbs(dir) {
		return configText, dir, nil
	}
	abs := filepath.Join(base, dir)
	block["dir"] = abs
	keys := make([]string, 0, len(block))
	for k := range block {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(configText)
	b.WriteString("\n# natstest: the relative resolver dir is anchored in the server directory.\n")
	b.WriteString(key + " {\n")
	for _, k := range keys {
		v, err := confValue(block[k])
		if err != nil {
			return "", "", fmt.Errorf("resolver.%s: %w", k, err)
		}
		fmt.Fprintf(&b, "  %s: %s\n", k, v)
	}
	b.WriteString("}\n")
	return b.String(), abs, nil
}

func confValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return serverconfig.Quote(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	default:
		return "", fmt.Errorf("unexpected value type %T in the resolver block", v)
	}
}

func writeResolverFiles(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, content := range files {
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
			return fmt.Errorf("resolver file name %q must be a plain file name such as <account public key>.jwt", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

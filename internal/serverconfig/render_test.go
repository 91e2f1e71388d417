package serverconfig

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// sortedPreload renders the resolver_preload entries nsc-style for the given keys.
func (f *fixture) sortedPreload(keys ...string) string {
	names := map[string]string{f.accounts[0]: "SYS"}
	tokens := map[string]string{}
	for i, k := range f.accounts {
		tokens[k] = f.accountJWTs[i]
		if i > 0 {
			names[k] = "APP" + string(rune('0'+i-1))
		}
	}
	keys = slices.Clone(keys)
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, "  # Account \""+names[k]+"\"\n  "+k+": \""+tokens[k]+"\"\n")
	}
	return "resolver_preload: {\n" + strings.Join(parts, "\n") + "}\n"
}

func TestRenderLayout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	head := "# nats-server configuration rendered by natsping (operator mode).\n\n" +
		"# Operator \"ACME\"\noperator: \"" + f.operatorJWT + "\"\n" +
		"# System account \"SYS\"\nsystem_account: " + f.sys + "\n\n"
	tests := []struct {
		name     string
		resolver Resolver
		want     string
	}{
		{"memory preloads every account sorted by key", Resolver{}, head + "resolver: MEMORY\n\n" + f.sortedPreload(f.accounts...)},
		{"full uses nsc defaults and preloads only SYS", Resolver{Type: ResolverFull}, head +
			"resolver {\n  type: full\n  dir: \"./jwt\"\n  allow_delete: false\n  interval: \"2m\"\n  timeout: \"1.9s\"\n}\n\n" +
			f.sortedPreload(f.sys)},
		{"full with every setting", Resolver{Type: ResolverFull, Dir: "/var/lib/nats/jwt", AllowDelete: true, Interval: "30s", Timeout: "3s", Limit: 5000}, head +
			"resolver {\n  type: full\n  dir: \"/var/lib/nats/jwt\"\n  allow_delete: true\n  interval: \"30s\"\n  timeout: \"3s\"\n  limit: 5000\n}\n\n" +
			f.sortedPreload(f.sys)},
		{"cache uses ttl instead of interval", Resolver{Type: ResolverCache}, head +
			"resolver {\n  type: cache\n  dir: \"./jwt\"\n  ttl: \"1h\"\n  timeout: \"1.9s\"\n}\n\n" + f.sortedPreload(f.sys)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := f.input()
			in.Resolver = tt.resolver
			out, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Config != tt.want {
				t.Errorf("config mismatch\n--- got ---\n%s\n--- want ---\n%s", out.Config, tt.want)
			}
			if len(out.ResolverFiles) != len(f.accounts) {
				t.Errorf("resolver files: got %d, want one per account (%d)", len(out.ResolverFiles), len(f.accounts))
			}
			for i, k := range f.accounts {
				if got := out.ResolverFiles[k+".jwt"]; got != f.accountJWTs[i] {
					t.Errorf("resolver file %s.jwt does not hold the account JWT", k)
				}
			}
		})
	}
}

func TestRenderServerSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	tests := []struct {
		name  string
		in    func(*Input)
		check func(t *testing.T, m map[string]any)
	}{
		{"listen and name", func(in *Input) { in.Listen = Listen{Host: "127.0.0.1", Port: 4333}; in.ServerName = "n1" }, func(t *testing.T, m map[string]any) {
			expect(t, m, "host", "127.0.0.1")
			expect(t, m, "port", int64(4333))
			expect(t, m, "server_name", "n1")
		}},
		{"sentinel", func(in *Input) { in.DefaultSentinel = f.sentinel }, func(t *testing.T, m map[string]any) {
			expect(t, m, "default_sentinel", f.sentinel)
		}},
		{"jetstream sizes", func(in *Input) { in.JetStream = &JetStream{StoreDir: "/data/js", MaxMemory: "1G", MaxFile: "1048576"} }, func(t *testing.T, m map[string]any) {
			js, _ := m["jetstream"].(map[string]any)
			expect(t, js, "store_dir", "/data/js")
			expect(t, js, "max_memory_store", "1G")
			expect(t, js, "max_file_store", int64(1048576))
		}},
		{"jetstream enabled without settings", func(in *Input) { in.JetStream = &JetStream{} }, func(t *testing.T, m map[string]any) {
			if _, ok := m["jetstream"].(map[string]any); !ok {
				t.Errorf("jetstream block missing: %v", m["jetstream"])
			}
		}},
		{"values that would break unquoted config survive quoting", func(in *Input) {
			in.JetStream = &JetStream{StoreDir: "/tmp/$HOME/\"x\" # not a comment;\\ \x01 é"}
		}, func(t *testing.T, m map[string]any) {
			js, _ := m["jetstream"].(map[string]any)
			expect(t, js, "store_dir", "/tmp/$HOME/\"x\" # not a comment;\\ \x01 é")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := f.input()
			tt.in(&in)
			out, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			m, err := conf.Parse(out.Config)
			if err != nil {
				t.Fatalf("nats-server cannot parse the rendered config: %v\n%s", err, out.Config)
			}
			expect(t, m, "operator", f.operatorJWT)
			expect(t, m, "system_account", f.sys)
			tt.check(t, m)
		})
	}
}

func TestRenderCommentInjection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	kp := must(nkeys.CreateAccount())
	f.addAccount(t, kp, "evil\ninjected: true\n#", f.opSigner)
	out, err := Render(f.input())
	if err != nil {
		t.Fatal(err)
	}
	m, err := conf.Parse(out.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["injected"]; ok {
		t.Fatalf("account name escaped its comment:\n%s", out.Config)
	}
	if pre, _ := m["resolver_preload"].(map[string]any); len(pre) != 2 {
		t.Fatalf("preload: got %d accounts, want 2", len(pre))
	}
}

func expect(t *testing.T, m map[string]any, key string, want any) {
	t.Helper()
	if got := m[key]; got != want {
		t.Errorf("%s: got %#v, want %#v", key, got, want)
	}
}

// TestRenderOrderIndependent is the m3nowak bug: the same accounts in any order must render
// the same bytes, or every plan shows a diff.
func TestRenderOrderIndependent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 12)
	for _, typ := range []ResolverType{ResolverMemory, ResolverFull, ResolverCache} {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			in := f.input()
			in.Resolver.Type = typ
			in.DefaultSentinel = f.sentinel
			first, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(typ))))
			for range 20 {
				shuffled := in
				shuffled.AccountJWTs = slices.Clone(in.AccountJWTs)
				rng.Shuffle(len(shuffled.AccountJWTs), func(i, j int) {
					shuffled.AccountJWTs[i], shuffled.AccountJWTs[j] = shuffled.AccountJWTs[j], shuffled.AccountJWTs[i]
				})
				again, err := Render(shuffled)
				if err != nil {
					t.Fatal(err)
				}
				if again.Config != first.Config {
					t.Fatalf("order %v changed the config", shuffled.AccountJWTs)
				}
			}
		})
	}
}

// TestRenderLoadsInNATSServer checks the server's own option processing accepts each
// rendered variant, including the resolver settings and the sentinel.
func TestRenderLoadsInNATSServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	tests := []struct {
		name     string
		resolver Resolver
	}{
		{"memory", Resolver{}},
		{"full", Resolver{Type: ResolverFull, AllowDelete: true, Limit: 100}},
		{"cache", Resolver{Type: ResolverCache, TTL: "5m", Limit: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := f.input()
			in.Resolver = tt.resolver
			if in.Resolver.Type != ResolverMemory && in.Resolver.Type != "" {
				// nats-server resolves a relative dir against its working directory.
				in.Resolver.Dir = filepath.Join(dir, "jwt")
			}
			in.DefaultSentinel = f.sentinel
			in.JetStream = &JetStream{StoreDir: filepath.Join(dir, "js"), MaxMemory: "64M", MaxFile: "1G"}
			out, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "server.conf")
			if err := os.WriteFile(file, []byte(out.Config), 0o600); err != nil {
				t.Fatal(err)
			}
			opts := &server.Options{}
			if err := opts.ProcessConfigFile(file); err != nil {
				t.Fatalf("nats-server rejects the config: %v\n%s", err, out.Config)
			}
			if opts.SystemAccount != f.sys || len(opts.TrustedOperators) != 1 || opts.DefaultSentinel != f.sentinel {
				t.Errorf("options: sys %q, operators %d, sentinel set %t", opts.SystemAccount, len(opts.TrustedOperators), opts.DefaultSentinel != "")
			}
			if !opts.JetStream || opts.JetStreamMaxMemory != 64<<20 || opts.JetStreamMaxStore != 1<<30 {
				t.Errorf("jetstream: enabled %t, mem %d, file %d", opts.JetStream, opts.JetStreamMaxMemory, opts.JetStreamMaxStore)
			}
			if opts.AccountResolver == nil {
				t.Fatal("no account resolver")
			}
			if r, ok := opts.AccountResolver.(interface{ Close() }); ok {
				r.Close()
			}
		})
	}
}

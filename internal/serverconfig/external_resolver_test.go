package serverconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// With resolver.external the fragment leaves the resolver block to the chart and preloads what
// a full resolver needs: nats-server, reading the chart-shaped nats.conf, runs the chart's
// directory resolver and knows the system account from the fragment's preload.
func TestRenderExternalResolverIncluded(t *testing.T) {
	f := newFixture(t, 2)
	in := f.input()
	in.Fragment = true
	in.Resolver = Resolver{Type: ResolverFull, External: true}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Config, "resolver {") || strings.Contains(out.Config, "resolver:") {
		t.Fatalf("an external resolver's block is rendered anyway:\n%s", out.Config)
	}
	if !strings.Contains(out.Config, "resolver_preload: {") || strings.Count(out.Config, `: "eyJ`) != 2 {
		t.Fatalf("want the operator and the system account's preload only:\n%s", out.Config)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "natsping.conf"), []byte(out.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	jwtDir := filepath.ToSlash(filepath.Join(dir, "resolver"))
	// config.resolver of the chart: dir from config.resolver.dir, the rest from its merge.
	main := "{\n  include natsping.conf;\n  \"port\": 4222,\n" +
		"  \"resolver\": {\"allow_delete\": false, \"dir\": \"" + jwtDir + "\", \"interval\": \"2m\", \"timeout\": \"1.9s\", \"type\": \"full\"},\n" +
		"  \"server_name\": \"nats-0\"\n}\n"
	file := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(file, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &server.Options{}
	if err := opts.ProcessConfigFile(file); err != nil {
		t.Fatalf("nats-server rejects the include: %v", err)
	}
	if _, ok := opts.AccountResolver.(*server.DirAccResolver); !ok {
		t.Errorf("account resolver %T, want the chart's full (directory) resolver", opts.AccountResolver)
	}
	if len(opts.TrustedOperators) != 1 {
		t.Fatalf("%d trusted operators, want the fragment's", len(opts.TrustedOperators))
	}
	opts.Port, opts.NoLog, opts.NoSigs = -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	if sa := s.SystemAccount(); sa == nil || sa.Name != f.sys {
		t.Errorf("system account %v, want the preloaded %s", sa, f.sys)
	}
	// Only the system account is preloaded: the others reach a full resolver by push.
	if _, err := os.Stat(filepath.Join(jwtDir, f.accounts[1]+".jwt")); err == nil {
		t.Errorf("account %s was preloaded into the resolver directory, want it pushed", f.accounts[1])
	}
}

func TestExternalResolverErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	tests := []struct {
		name     string
		fragment bool
		r        Resolver
		want     map[string]string // field -> substring; no other field may be reported
	}{
		{"whole config", false, Resolver{Type: ResolverFull, External: true},
			map[string]string{"resolver.external": "needs fragment = true"}},
		{"memory", true, Resolver{External: true},
			map[string]string{"resolver.external": `needs type = "full" or "cache"`}},
		{"explicit memory", true, Resolver{Type: ResolverMemory, External: true},
			map[string]string{"resolver.external": "disable the chart's config.resolver"}},
		// A setting the type does not support (ttl with full) or a bad value is reported once,
		// as the chart's, not also as unsupported or malformed.
		{"settings", true, Resolver{Type: ResolverFull, External: true, Dir: "/data/jwt", TTL: "soon", Limit: 5},
			map[string]string{
				"resolver.dir":   "config.resolver.dir); set it there",
				"resolver.ttl":   "config.resolver.merge.ttl",
				"resolver.limit": "cannot be set with resolver.external = true",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := f.input()
			in.Fragment, in.Resolver = tt.fragment, tt.r
			_, err := Render(in)
			errs := AsFieldErrors(err)
			got := map[string]string{}
			for _, e := range errs {
				if _, dup := got[e.Field]; dup {
					t.Errorf("%s reported twice: %v", e.Field, errs)
				}
				got[e.Field] = e.Message
			}
			if len(got) != len(tt.want) {
				t.Errorf("errors %v, want exactly the fields of %v", errs, tt.want)
			}
			for field, sub := range tt.want {
				if !strings.Contains(got[field], sub) {
					t.Errorf("%s: %q, want it to contain %q", field, got[field], sub)
				}
			}
		})
	}
	// The cache type is a directory resolver too, and fits the chart's.
	in := f.input()
	in.Fragment, in.Resolver = true, Resolver{Type: ResolverCache, External: true}
	if _, err := Render(in); err != nil {
		t.Errorf("external cache resolver: %v", err)
	}
}

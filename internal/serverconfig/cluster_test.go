package serverconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// testPKI writes a CA and a server certificate for localhost into dir, so configs that name
// TLS files load in nats-server (which reads them at parse time).
type testPKI struct{ ca, cert, key string }

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "natsping test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER := must(x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey))
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, caTmpl, &key.PublicKey, caKey))
	p := testPKI{ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "server.pem"), key: filepath.Join(dir, "server-key.pem")}
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.ca, "CERTIFICATE", caDER)
	write(p.cert, "CERTIFICATE", der)
	write(p.key, "EC PRIVATE KEY", must(x509.MarshalECPrivateKey(key)))
	return p
}

func (p testPKI) tls(verify bool) *TLS {
	return &TLS{CertFile: p.cert, KeyFile: p.key, CAFile: p.ca, Verify: verify, Timeout: "3s"}
}

// threeNodes is a cluster of three nodes on one host, each listener on its own port.
func threeNodes() []Node {
	return []Node{
		{ServerName: "nats-a", Host: "127.0.0.1", ClientPort: 14222, ClusterPort: 16222, MonitoringPort: 18222, LeafNodePort: 17422, WebsocketPort: 18080},
		{ServerName: "nats-b", Host: "127.0.0.1", ClientPort: 14223, ClusterPort: 16223, MonitoringPort: 18223, LeafNodePort: 17423, WebsocketPort: 18081},
		{ServerName: "nats-c", Host: "127.0.0.1", ClientPort: 14224, ClusterPort: 16224, MonitoringPort: 18224, LeafNodePort: 17424, WebsocketPort: 18082},
	}
}

func TestRenderNodesLayout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	in := f.input()
	in.Resolver = Resolver{Type: ResolverFull, Dir: "/data/jwt"}
	in.Listen = Listen{Host: "0.0.0.0"}
	in.TLS = &TLS{CertFile: "/etc/nats/tls.crt", KeyFile: "/etc/nats/tls.key"}
	in.Monitoring = &Monitoring{}
	in.Cluster = &Cluster{Name: "east", TLS: &TLS{CertFile: "/etc/nats/route.crt", KeyFile: "/etc/nats/route.key", CAFile: "/etc/nats/ca.crt", Verify: true},
		Routes: []string{"nats-route://west-gw.example.com:6222"}}
	in.LeafNodes = &LeafNodes{}
	in.Websocket = &Websocket{NoTLS: true, SameOrigin: true, AllowedOrigins: []string{"https://b.example.com", "https://a.example.com"}}
	in.JetStream = &JetStream{StoreDir: "/data/js"}
	in.Limits = Limits{AuthTimeout: "5s"}
	in.Nodes = threeNodes()
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(out.NodeConfigs)); !slices.Equal(got, []string{"nats-a", "nats-b", "nats-c"}) {
		t.Fatalf("node configs for %v", got)
	}
	trust := "\n# Operator \"ACME\"\noperator: \"" + f.operatorJWT + "\"\n# System account \"SYS\"\nsystem_account: " + f.sys + "\n\n" +
		"resolver {\n  type: full\n  dir: \"/data/jwt\"\n  allow_delete: false\n  interval: \"2m\"\n  timeout: \"1.9s\"\n}\n\n" + f.sortedPreload(f.sys)
	limits := "\n# Client limits.\n\n# Time a client has to authenticate, the auth callout's answer included.\nauthorization {\n  timeout: \"5s\"\n}\n"
	wantB := "# nats-server configuration rendered by natsping (operator mode).\n" +
		"server_name: \"nats-b\"\nhost: \"0.0.0.0\"\nport: 14223\n" +
		"\n# Client TLS.\ntls {\n  cert_file: \"/etc/nats/tls.crt\"\n  key_file: \"/etc/nats/tls.key\"\n  verify: false\n}\n" +
		"\n# Monitoring endpoints (/varz, /healthz, …).\nhttp: \"0.0.0.0:18223\"\n" +
		"\ncluster {\n  name: \"east\"\n  listen: \"0.0.0.0:16223\"\n" +
		"  tls {\n    cert_file: \"/etc/nats/route.crt\"\n    key_file: \"/etc/nats/route.key\"\n    ca_file: \"/etc/nats/ca.crt\"\n    verify: true\n  }\n" +
		"  routes: [\n    \"nats-route://127.0.0.1:16222\"\n    \"nats-route://127.0.0.1:16224\"\n    \"nats-route://west-gw.example.com:6222\"\n  ]\n}\n" +
		"\nleafnodes {\n  listen: \"0.0.0.0:17423\"\n}\n" +
		"\nwebsocket {\n  listen: \"0.0.0.0:18081\"\n  no_tls: true\n  same_origin: true\n" +
		"  allowed_origins: [\n    \"https://a.example.com\"\n    \"https://b.example.com\"\n  ]\n}\n" +
		limits + trust + "\njetstream {\n  store_dir: \"/data/js\"\n}\n"
	if got := out.NodeConfigs["nats-b"]; got != wantB {
		t.Errorf("nats-b config mismatch\n--- got ---\n%s\n--- want ---\n%s", got, wantB)
	}
	wantShared := "# nats-server configuration fragment rendered by natsping (operator mode): include it from a\n" +
		"# configuration that owns the listeners, cluster and JetStream (e.g. the NATS Helm chart's).\n" + limits + trust
	if out.Config != wantShared {
		t.Errorf("shared part mismatch\n--- got ---\n%s\n--- want ---\n%s", out.Config, wantShared)
	}
	for name, cfg := range out.NodeConfigs {
		if !strings.HasSuffix(cfg, trust+"\njetstream {\n  store_dir: \"/data/js\"\n}\n") || strings.Count(cfg, "nats-route://") != 3 {
			t.Errorf("%s: every node carries the same trust part and routes to the two others plus the extra route:\n%s", name, cfg)
		}
		if strings.Contains(cfg, "nats-route://127.0.0.1:"+map[string]string{"nats-a": "16222", "nats-b": "16223", "nats-c": "16224"}[name]) {
			t.Errorf("%s routes to itself", name)
		}
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestRenderNodesByteStable: the same inputs, accounts in any order, render the same bytes
// for every node, run after run.
func TestRenderNodesByteStable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	base := func() Input {
		in := f.input()
		in.Cluster = &Cluster{Name: "c"}
		in.Websocket = &Websocket{NoTLS: true, AllowedOrigins: []string{"https://z.example", "https://a.example", "https://m.example"}}
		in.Monitoring = &Monitoring{}
		in.LeafNodes = &LeafNodes{}
		in.Nodes = threeNodes()
		return in
	}
	first, err := Render(base())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		in := base()
		slices.Reverse(in.AccountJWTs)
		if i%2 == 0 {
			in.AccountJWTs = append(in.AccountJWTs[2:], in.AccountJWTs[:2]...)
		}
		out, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Config != first.Config {
			t.Fatalf("run %d: the shared part differs", i)
		}
		for name, cfg := range first.NodeConfigs {
			if out.NodeConfigs[name] != cfg {
				t.Fatalf("run %d: %s differs\n--- first ---\n%s\n--- now ---\n%s", i, name, cfg, out.NodeConfigs[name])
			}
		}
	}
}

// TestRenderNodesLoadInNATSServer: every node's config, with every block and real TLS
// files, is accepted by nats-server's own option processing with the intended values.
func TestRenderNodesLoadInNATSServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	f := newFixture(t, 2)
	in := f.input()
	in.DefaultSentinel = f.sentinel
	in.TLS = pki.tls(false)
	in.Monitoring = &Monitoring{Host: "127.0.0.1"}
	in.Cluster = &Cluster{Name: "east", Host: "127.0.0.1", TLS: pki.tls(true)}
	in.LeafNodes = &LeafNodes{Host: "127.0.0.1", TLS: pki.tls(false), Remotes: []LeafRemote{{
		URLs: []string{"nats-leaf://hub.example.com:7422"}, Account: f.accounts[1], Credentials: filepath.Join(dir, "leaf.creds"),
		TLS: &TLS{CAFile: pki.ca},
	}}}
	in.Websocket = &Websocket{Host: "127.0.0.1", TLS: pki.tls(false), SameOrigin: true, AllowedOrigins: []string{"https://app.example.com"}}
	in.JetStream = &JetStream{MaxMemory: "64M"}
	in.Nodes = threeNodes()
	for i := range in.Nodes {
		in.Nodes[i].MonitoringPort = 0
	}
	in.Monitoring.HTTPSPort = 18443
	in.Nodes[0].MonitoringPort = 18440
	in.Nodes[1].MonitoringPort = 18441
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "leaf.creds"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, n := range in.Nodes {
		file := filepath.Join(dir, n.ServerName+".conf")
		if err := os.WriteFile(file, []byte(out.NodeConfigs[n.ServerName]), 0o600); err != nil {
			t.Fatal(err)
		}
		opts := &server.Options{}
		if err := opts.ProcessConfigFile(file); err != nil {
			t.Fatalf("%s: nats-server rejects the config: %v\n%s", n.ServerName, err, out.NodeConfigs[n.ServerName])
		}
		wantHTTPS := []int{18440, 18441, 18443}[i]
		var routes []string
		for _, u := range opts.Routes {
			routes = append(routes, u.String())
		}
		switch {
		case opts.ServerName != n.ServerName || opts.Port != n.ClientPort || opts.TLSConfig == nil:
			t.Errorf("%s: name %q, port %d, client TLS %t", n.ServerName, opts.ServerName, opts.Port, opts.TLSConfig != nil)
		case opts.Cluster.Name != "east" || opts.Cluster.Port != n.ClusterPort || opts.Cluster.TLSConfig == nil || len(routes) != 2:
			t.Errorf("%s: cluster %q port %d TLS %t routes %v", n.ServerName, opts.Cluster.Name, opts.Cluster.Port, opts.Cluster.TLSConfig != nil, routes)
		case opts.HTTPSPort != wantHTTPS || opts.HTTPPort != 0 || opts.HTTPHost != "127.0.0.1":
			t.Errorf("%s: monitoring https %d http %d host %q", n.ServerName, opts.HTTPSPort, opts.HTTPPort, opts.HTTPHost)
		case opts.LeafNode.Port != n.LeafNodePort || opts.LeafNode.TLSConfig == nil || len(opts.LeafNode.Remotes) != 1 ||
			opts.LeafNode.Remotes[0].LocalAccount != f.accounts[1] || opts.LeafNode.Remotes[0].TLSConfig == nil:
			t.Errorf("%s: leafnodes %+v", n.ServerName, opts.LeafNode)
		case opts.Websocket.Port != n.WebsocketPort || opts.Websocket.TLSConfig == nil || !opts.Websocket.SameOrigin ||
			!slices.Equal(opts.Websocket.AllowedOrigins, []string{"https://app.example.com"}):
			t.Errorf("%s: websocket %+v", n.ServerName, opts.Websocket)
		case !opts.JetStream || opts.SystemAccount != f.sys || opts.DefaultSentinel != f.sentinel:
			t.Errorf("%s: jetstream %t, sys %q", n.ServerName, opts.JetStream, opts.SystemAccount)
		}
		for _, r := range routes {
			if strings.HasSuffix(r, ":"+itoa(n.ClusterPort)) {
				t.Errorf("%s routes to itself: %v", n.ServerName, routes)
			}
		}
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// TestRenderFragmentIncluded: the fragment is what the NATS Helm chart's config includes; the
// including file keeps its listeners and cluster, the fragment brings the trust.
func TestRenderFragmentIncluded(t *testing.T) {
	f := newFixture(t, 2)
	in := f.input()
	in.Fragment = true
	in.DefaultSentinel = f.sentinel
	in.Limits = Limits{MaxControlLine: 16384, AuthTimeout: "5s"}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Config, "port:") || strings.Contains(out.Config, "server_name") || out.NodeConfigs != nil {
		t.Fatalf("a fragment carries no listeners:\n%s", out.Config)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "natsping.conf"), []byte(out.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	// The nats.conf the NATS Helm chart (1.x) renders: JSON with sorted keys, where a
	// config.merge key ending in $include becomes an include directive (00$include sorts first) and
	// << $VAR >> values are unquoted. Its listeners, cluster and JetStream stay its own.
	main := "{\n  include natsping.conf;\n" +
		"  \"cluster\": {\"name\": \"nats\", \"no_advertise\": true, \"port\": 6222, " +
		"\"routes\": [\"nats://nats-0.nats-headless:6222\", \"nats://nats-1.nats-headless:6222\"]},\n" +
		"  \"http_port\": 8222,\n  \"jetstream\": {\"max_file_store\": 10737418240, \"store_dir\": \"/data\"},\n" +
		"  \"lame_duck_duration\": \"30s\",\n  \"pid_file\": \"/var/run/nats/nats.pid\",\n  \"port\": 4222,\n" +
		"  \"server_name\": $SERVER_NAME\n}\n"
	file := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(file, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SERVER_NAME", "nats-0")
	opts := &server.Options{}
	if err := opts.ProcessConfigFile(file); err != nil {
		t.Fatalf("nats-server rejects the include: %v", err)
	}
	if opts.ServerName != "nats-0" || opts.Cluster.Name != "nats" || len(opts.Routes) != 2 || !opts.JetStream ||
		len(opts.TrustedOperators) != 1 || opts.SystemAccount != f.sys || opts.DefaultSentinel != f.sentinel ||
		opts.MaxControlLine != 16384 || opts.AuthTimeout != 5 {
		t.Errorf("included options: name %q cluster %q routes %d js %t operators %d sys %q mcl %d auth %v",
			opts.ServerName, opts.Cluster.Name, len(opts.Routes), opts.JetStream, len(opts.TrustedOperators), opts.SystemAccount,
			opts.MaxControlLine, opts.AuthTimeout)
	}
}

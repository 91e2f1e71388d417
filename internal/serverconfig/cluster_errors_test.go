package serverconfig

import (
	"strings"
	"testing"
)

func TestTopologyErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	nodes := func(in *Input) {
		in.Cluster = &Cluster{Name: "c"}
		in.Nodes = threeNodes()
		for i := range in.Nodes {
			in.Nodes[i].MonitoringPort, in.Nodes[i].LeafNodePort, in.Nodes[i].WebsocketPort = 0, 0, 0
		}
	}
	tests := []struct {
		name      string
		in        func(*Input)
		field     string
		substring string
	}{
		{"cert without key", func(in *Input) { in.TLS = &TLS{CertFile: "/c.pem"} }, "tls.key_file", "required with cert_file"},
		{"key without cert", func(in *Input) { in.TLS = &TLS{KeyFile: "/k.pem"} }, "tls.cert_file", "required with key_file"},
		{"listener tls without cert", func(in *Input) { in.TLS = &TLS{CAFile: "/ca.pem"} }, "tls.cert_file", "must present a certificate"},
		{"verify without ca", func(in *Input) { in.TLS = &TLS{CertFile: "/c", KeyFile: "/k", Verify: true} }, "tls.ca_file", "required with verify = true"},
		{"tls timeout", func(in *Input) { in.TLS = &TLS{CertFile: "/c", KeyFile: "/k", Timeout: "2"} }, "tls.timeout", "not a positive Go duration"},
		{"tls timeout too long", func(in *Input) { in.TLS = &TLS{CertFile: "/c", KeyFile: "/k", Timeout: "5m"} }, "tls.timeout", "longer than 1m0s"},
		{"blank path", func(in *Input) { in.TLS = &TLS{CertFile: " ", KeyFile: "/k"} }, "tls.cert_file", "is blank"},
		{"cluster without name", func(in *Input) { in.Cluster = &Cluster{Port: 6222} }, "cluster.name", "is required"},
		{"cluster name with space", func(in *Input) { in.Cluster = &Cluster{Name: "my cluster", Port: 6222} }, "cluster.name", `use e.g. "my-cluster"`},
		{"cluster name reserved", func(in *Input) { in.Cluster = &Cluster{Name: "_", Port: 6222} }, "cluster.name", "reserved"},
		{"cluster without port", func(in *Input) { in.Cluster = &Cluster{Name: "c"} }, "cluster.port", "is required"},
		{"cluster port range", func(in *Input) { in.Cluster = &Cluster{Name: "c", Port: 70000} }, "cluster.port", "70000 is not a port"},
		{"route without scheme", func(in *Input) { in.Cluster = &Cluster{Name: "c", Port: 6222, Routes: []string{"nats-1:6222"}} }, "cluster.routes[0]", "not a route URL"},
		{"route without port", func(in *Input) { in.Cluster = &Cluster{Name: "c", Port: 6222, Routes: []string{"nats-route://nats-1"}} }, "cluster.routes[0]", "not a route URL"},
		{"duplicate route", func(in *Input) {
			in.Cluster = &Cluster{Name: "c", Port: 6222, Routes: []string{"nats://a:6222", "nats://a:6222"}}
		}, "cluster.routes[1]", "more than once"},
		{"cluster tls needs cert", func(in *Input) { in.Cluster = &Cluster{Name: "c", Port: 6222, TLS: &TLS{}} }, "cluster.tls.cert_file", "is required"},
		{"monitoring without port", func(in *Input) { in.Monitoring = &Monitoring{} }, "monitoring.http_port", "is required"},
		{"monitoring both ports", func(in *Input) { in.Monitoring = &Monitoring{HTTPPort: 8222, HTTPSPort: 8443} }, "monitoring.https_port", "cannot be set with http_port"},
		{"https monitoring without tls", func(in *Input) { in.Monitoring = &Monitoring{HTTPSPort: 8443} }, "monitoring.https_port", "needs the client tls block"},
		{"websocket neither tls nor no_tls", func(in *Input) { in.Websocket = &Websocket{Port: 8080} }, "websocket.no_tls", "needs tls, or no_tls = true"},
		{"websocket both", func(in *Input) {
			in.Websocket = &Websocket{Port: 8080, NoTLS: true, TLS: &TLS{CertFile: "/c", KeyFile: "/k"}}
		}, "websocket.no_tls", "cannot be true with a tls block"},
		{"websocket without port", func(in *Input) { in.Websocket = &Websocket{NoTLS: true} }, "websocket.port", "is required"},
		{"websocket origin", func(in *Input) {
			in.Websocket = &Websocket{Port: 8080, NoTLS: true, AllowedOrigins: []string{"app.example.com"}}
		}, "websocket.allowed_origins[0]", "not an origin"},
		{"websocket origin with path", func(in *Input) {
			in.Websocket = &Websocket{Port: 8080, NoTLS: true, AllowedOrigins: []string{"https://a.example/app"}}
		}, "websocket.allowed_origins[0]", "not an origin"},
		{"empty leafnodes", func(in *Input) { in.LeafNodes = &LeafNodes{} }, "leafnodes.port", "is required without remotes"},
		{"leaf tls without listener", func(in *Input) {
			in.LeafNodes = &LeafNodes{TLS: &TLS{CertFile: "/c", KeyFile: "/k"}, Remotes: []LeafRemote{{URLs: []string{"nats-leaf://h:7422"}}}}
		}, "leafnodes.tls", "listener, which is not set"},
		{"remote without urls", func(in *Input) { in.LeafNodes = &LeafNodes{Remotes: []LeafRemote{{}}} }, "leafnodes.remotes[0].urls", "is empty"},
		{"remote bad url", func(in *Input) {
			in.LeafNodes = &LeafNodes{Remotes: []LeafRemote{{URLs: []string{"http://hub:7422"}}}}
		}, "leafnodes.remotes[0].urls[0]", "not a leafnode URL"},
		{"remote account not a key", func(in *Input) {
			in.LeafNodes = &LeafNodes{Remotes: []LeafRemote{{URLs: []string{"nats-leaf://hub:7422"}, Account: "ORDERS"}}}
		}, "leafnodes.remotes[0].account", "public key"},
		{"remote tls half", func(in *Input) {
			in.LeafNodes = &LeafNodes{Remotes: []LeafRemote{{URLs: []string{"tls://hub:7422"}, TLS: &TLS{KeyFile: "/k"}}}}
		}, "leafnodes.remotes[0].tls.cert_file", "required with key_file"},
		{"nodes without cluster", func(in *Input) { nodes(in); in.Cluster = nil }, "cluster", "is required with nodes"},
		{"nodes with server_name", func(in *Input) { nodes(in); in.ServerName = "x" }, "server_name", "cannot be set with nodes"},
		{"nodes with random port", func(in *Input) { nodes(in); in.Listen.Port = -1 }, "listen.port", "cannot be used with nodes"},
		{"node random cluster port", func(in *Input) { nodes(in); in.Nodes[1].ClusterPort = -1 }, "nodes[1].cluster_port", "cannot be used with nodes"},
		{"duplicate server names", func(in *Input) { nodes(in); in.Nodes[2].ServerName = "nats-a" }, "nodes[2].server_name", `also the name of nodes[0]`},
		{"node without name", func(in *Input) { nodes(in); in.Nodes[1].ServerName = "" }, "nodes[1].server_name", "is required"},
		{"node name with space", func(in *Input) { nodes(in); in.Nodes[1].ServerName = "nats b" }, "nodes[1].server_name", "whitespace"},
		{"node without host", func(in *Input) { nodes(in); in.Nodes[0].Host = "" }, "nodes[0].host", "is required"},
		{"node host with scheme", func(in *Input) { nodes(in); in.Nodes[0].Host = "nats://a" }, "nodes[0].host", "is not a host"},
		{"ports clash on a host", func(in *Input) { nodes(in); in.Nodes[1].ClientPort = 14222 }, "nodes[1].client_port", "already taken by nodes[0].client_port"},
		{"client and cluster port clash", func(in *Input) { nodes(in); in.Nodes[0].ClusterPort = 14222 }, "nodes[0].cluster_port", "already taken by nodes[0].client_port"},
		{"shared defaults clash on one host", func(in *Input) {
			nodes(in)
			for i := range in.Nodes {
				in.Nodes[i].ClientPort, in.Nodes[i].ClusterPort = 0, 0
			}
		}, "nodes[1].client_port", "port 4222 on host \"127.0.0.1\""},
		{"node port without block", func(in *Input) { nodes(in); in.Nodes[0].WebsocketPort = 8080 }, "nodes[0].websocket_port", "no websocket block"},
		{"node needs monitoring port", func(in *Input) { nodes(in); in.Monitoring = &Monitoring{} }, "nodes[0].monitoring_port", "is required"},
		{"fragment with listen", func(in *Input) { in.Fragment = true; in.Listen.Port = 4222 }, "listen", "fragment = true"},
		{"fragment with jetstream", func(in *Input) { in.Fragment = true; in.JetStream = &JetStream{} }, "jetstream", "owns it"},
		{"fragment with nodes", func(in *Input) { in.Fragment = true; nodes(in) }, "nodes", "fragment = true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := f.input()
			tt.in(&in)
			_, err := Render(in)
			if err == nil {
				t.Fatalf("rendered without error")
			}
			fes := AsFieldErrors(err)
			for _, fe := range fes {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.substring) {
					return
				}
			}
			t.Errorf("no error on %s containing %q; got %v", tt.field, tt.substring, err)
		})
	}
	// A valid topology stays valid: the table's base cases are not errors by accident.
	in := f.input()
	nodes(&in)
	if _, err := Render(in); err != nil {
		t.Fatalf("three nodes on one host with their own ports: %v", err)
	}
}

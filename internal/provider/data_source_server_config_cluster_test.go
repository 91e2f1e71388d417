package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// nodesBody is a three-node cluster on loopback with fixed ports.
func nodesBody(ports []int) string {
	var nodes []string
	for i, name := range []string{"nats-a", "nats-b", "nats-c"} {
		nodes = append(nodes, fmt.Sprintf(`    { server_name = %q, host = "127.0.0.1", client_port = %d, cluster_port = %d, monitoring_port = %d },`,
			name, ports[3*i], ports[3*i+1], ports[3*i+2]))
	}
	return `
  resolver   = { type = "full" }
  listen     = { host = "127.0.0.1" }
  cluster    = { name = "east", host = "127.0.0.1" }
  monitoring = { host = "127.0.0.1" }
  nodes = [
` + strings.Join(nodes, "\n") + `
  ]`
}

// clusterCarriesTraffic boots the three nodes from node_configs with the resolver files
// and delivers a message from a subscriber on nats-a to a publisher on nats-c.
func (f *serverConfigFixture) clusterCarriesTraffic(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources["data.natsping_server_config.test"]
		if !ok {
			return fmt.Errorf("data source not in state")
		}
		files, configs := map[string]string{}, map[string]string{}
		for k, v := range rs.Primary.Attributes {
			if name, ok := strings.CutPrefix(k, "resolver_files."); ok && name != "%" {
				files[name] = v
			}
			if name, ok := strings.CutPrefix(k, "node_configs."); ok && name != "%" {
				configs[name] = v
			}
		}
		if len(configs) != 3 {
			return fmt.Errorf("node_configs has %d entries, want 3", len(configs))
		}
		nodes := natstest.StartCluster(t, configs, natstest.WithResolverFiles(files))
		defer func() {
			for _, n := range nodes {
				n.Kill()
			}
		}()
		sub, err := natstest.ConnectCreds(nodes[0].URL(), f.userCreds)
		if err != nil {
			return fmt.Errorf("APP user cannot connect to nats-a: %w", err)
		}
		defer sub.Close()
		s1, err := sub.SubscribeSync("app.ping")
		if err != nil {
			return err
		}
		if err := sub.Flush(); err != nil {
			return err
		}
		pub, err := natstest.ConnectCreds(nodes[2].URL(), f.userCreds)
		if err != nil {
			return fmt.Errorf("APP user cannot connect to nats-c: %w", err)
		}
		defer pub.Close()
		// Subscription interest crosses the route asynchronously; publish until it arrives.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if err := pub.Publish("app.ping", []byte("pong")); err != nil {
				return err
			}
			if _, err := s1.NextMsg(100 * time.Millisecond); err == nil {
				return nil
			}
		}
		return fmt.Errorf("a message published on nats-c never reached nats-a")
	}
}

// TestAccServerConfig_nodes renders a three-node cluster, boots it from node_configs and
// carries a message across it; the same input in another order plans nothing, a fragment
// carries no listeners, and bad topologies fail the plan naming the attribute.
func TestAccServerConfig_nodes(t *testing.T) {
	f := newServerConfigFixture()
	ports := natstest.FreePorts(t, 9)
	body := nodesBody(ports)
	addr := "data.natsping_server_config.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(body, "SYS", "APP", "AUTH"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_configs").AtMapKey("nats-b"), stringContains(
						`server_name: "nats-b"`, fmt.Sprintf("port: %d\n", ports[3]),
						fmt.Sprintf(`http: "127.0.0.1:%d"`, ports[5]),
						fmt.Sprintf("routes: [\n    \"nats-route://127.0.0.1:%d\"\n    \"nats-route://127.0.0.1:%d\"\n  ]", ports[1], ports[7]),
						"operator: \""+f.operatorJWT+"\"",
					)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("config"), knownvalue.StringFunc(func(v string) error {
						if strings.Contains(v, "server_name") || strings.Contains(v, "cluster {") || !strings.Contains(v, "operator: ") {
							return fmt.Errorf("with nodes, config is the shared part only:\n%s", v)
						}
						return nil
					})),
				},
				Check: f.clusterCarriesTraffic(t),
			},
			{
				Config: f.config(body, "AUTH", "SYS", "APP"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// One server with every listener block: rendered as written, and planned again
				// without changes (the framework's check after each step).
				Config: f.config(`
  server_name = "edge-1"
  tls = { cert_file = "/etc/nats/tls.crt", key_file = "/etc/nats/tls.key", timeout = "3s" }
  cluster = {
    name   = "edge"
    port   = 6222
    routes = ["nats-route://nats-0.example.internal:6222"]
    tls    = { cert_file = "/etc/nats/route.crt", key_file = "/etc/nats/route.key", ca_file = "/etc/nats/ca.crt", verify = true }
  }
  monitoring = { host = "127.0.0.1", https_port = 8443 }
  websocket = {
    port            = 8080
    no_tls          = true
    same_origin     = true
    allowed_origins = ["https://b.example.com", "https://a.example.com"]
  }
  leafnodes = {
    port = 7422
    remotes = [{
      urls        = ["tls://hub.example.com:7422"]
      account     = "`+f.keys["APP"]+`"
      credentials = "/etc/nats/leaf.creds"
      tls         = { ca_file = "/etc/nats/hub-ca.crt" }
    }]
  }`, "SYS", "APP", "AUTH"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("config"), stringContains(
						"tls {\n  cert_file: \"/etc/nats/tls.crt\"\n  key_file: \"/etc/nats/tls.key\"\n  verify: false\n  timeout: \"3s\"\n}",
						`https: "127.0.0.1:8443"`,
						"cluster {\n  name: \"edge\"\n  listen: \"0.0.0.0:6222\"\n  tls {\n    cert_file: \"/etc/nats/route.crt\"",
						"routes: [\n    \"nats-route://nats-0.example.internal:6222\"\n  ]",
						"leafnodes {\n  listen: \"0.0.0.0:7422\"\n  remotes: [\n    {\n      urls: [\n        \"tls://hub.example.com:7422\"\n      ]\n      account: \""+f.keys["APP"]+"\"",
						"allowed_origins: [\n    \"https://a.example.com\"\n    \"https://b.example.com\"\n  ]",
					)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_configs"), knownvalue.Null()),
				},
			},
			{
				Config: f.config("  fragment = true\n  limits = { auth_timeout = \"5s\" }", "SYS", "APP", "AUTH"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("config"), stringContains(
						"configuration fragment rendered by natsping", "authorization {\n  timeout: \"5s\"\n}", "resolver: MEMORY")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_configs"), knownvalue.Null()),
				},
			},
		},
	})
}

func TestAccServerConfig_nodesInvalid(t *testing.T) {
	f := newServerConfigFixture()
	ws := `\s+`
	phrase := func(words ...string) *regexp.Regexp {
		for i, w := range words {
			words[i] = regexp.QuoteMeta(w)
		}
		return regexp.MustCompile(strings.Join(words, ws))
	}
	two := `
  cluster = { name = "east", port = 6222 }
  nodes = [
    { server_name = "nats-a", host = "10.0.0.1" },
    { server_name = "nats-a", host = "10.0.0.2" },
  ]`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      f.config(two, "SYS", "APP"),
				ExpectError: phrase(`nodes[1].server_name:`, `"nats-a"`, "is", "also", "the", "name", "of", "nodes[0]"),
			},
			{
				Config:      f.config(`  tls = { cert_file = "/etc/nats/tls.crt" }`, "SYS", "APP"),
				ExpectError: phrase("tls.key_file:", "is", "required", "with", "cert_file"),
			},
			{
				Config:      f.config(`  websocket = { port = 8080 }`, "SYS", "APP"),
				ExpectError: phrase("websocket.no_tls:", "a", "websocket", "listener", "needs", "tls,", "or", "no_tls", "=", "true"),
			},
			{
				Config:      f.config("  fragment = true\n  listen = { port = 4222 }", "SYS", "APP"),
				ExpectError: phrase("listen:", "cannot", "be", "set", "with", "fragment", "=", "true"),
			},
			{
				Config:      f.config("  cluster = { name = \"east\" }\n  nodes = [{ server_name = \"a\", host = \"h\" }, { server_name = \"b\", host = \"h\" }]", "SYS", "APP"),
				ExpectError: phrase("nodes[1].client_port:", "port", "4222", "on", "host", `"h"`, "is", "already", "taken"),
			},
			{
				Config:      f.config(`  leafnodes = { remotes = [{ urls = ["http://hub:7422"] }] }`, "SYS", "APP"),
				ExpectError: phrase("leafnodes.remotes[0].urls[0]:", `"http://hub:7422"`, "is", "not", "a", "leafnode", "URL"),
			},
		},
	})
}

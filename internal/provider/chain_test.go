package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// chainAudience is the audience of the tokens the chain's trust accepts.
const chainAudience = "https://nats.example.com"

// chainConfig is the smallest graph a Ping token holder connects through: an account with a
// reader role, a mapping of one group to it, the trust (plus trustExtra), and the server
// config (plus serverExtra). Tests that run the real server and callout on it share it.
func chainConfig(idp *pingonetest.Server, trustExtra, serverExtra string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "op" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.op.signer
  roles           = [{ name = "reader", permissions = { sub_allow = ["orders.>"] } }]
}

resource "natsping_role_mapping" "readers" {
  name         = "orders-readers"
  signer       = natsping_account.orders.role_signers["reader"]
  account_name = "ORDERS"
  groups       = ["orders-readers"]
}

resource "natsping_trust" "ping" {
  operator_signer = natsping_operator.op.signer
  issuer          = %[1]q
  audiences       = [%[2]q]
  groups_claim    = "groups"
  ca_bundle_pem   = <<-EOT
%[3]s
EOT
  role_mappings   = [natsping_role_mapping.readers.rule]
  %[4]s
}

data "natsping_server_config" "test" {
  operator_jwt = natsping_operator.op.jwt
  account_jwts = [
    natsping_operator.op.system_account_jwt,
    natsping_account.orders.jwt,
    natsping_trust.ping.account_jwt,
  ]
  default_sentinel = natsping_trust.ping.sentinel_jwt
  %[5]s
}
`, idp.Issuer(), chainAudience, strings.TrimSpace(string(idp.CAPEM())), trustExtra, serverExtra)
}

// chainRuntime is nats-server booted from the chain's rendered server config and the real
// callout service running the trust's callout_config, as a deployment would run them.
type chainRuntime struct {
	srv *server.Server
	svc *callout.Service
}

// startChain boots the runtime from the applied state (the server with srvOpts, e.g. a fixed
// port); stop ends it.
func startChain(s *terraform.State, dir string, opts callout.Options, srvOpts ...natstest.Option) (rt *chainRuntime, stop func(), err error) {
	attrs := func(addr string) (map[string]string, error) {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return nil, fmt.Errorf("%s not in state", addr)
		}
		return rs.Primary.Attributes, nil
	}
	cfg, err := attrs("data.natsping_server_config.test")
	if err != nil {
		return nil, nil, err
	}
	trust, err := attrs("natsping_trust.ping")
	if err != nil {
		return nil, nil, err
	}
	srv, err := natstest.Start(cfg["config"], dir, srvOpts...)
	if err != nil {
		return nil, nil, err
	}
	doc, err := calloutconfig.Parse([]byte(trust["callout_config"]))
	if err != nil {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("callout_config: %w", err)
	}
	doc.NATS.URLs = []string{srv.ClientURL()}
	svc, err := callout.New(doc, opts)
	if err == nil {
		err = svc.Start()
	}
	stop = func() {
		if svc != nil {
			_ = svc.Shutdown(context.Background())
		}
		srv.Shutdown()
	}
	if err == nil {
		if err = waitFor(10*time.Second, svc.Ready); err != nil {
			err = fmt.Errorf("callout not ready: %w", err)
		}
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return &chainRuntime{srv: srv, svc: svc}, stop, nil
}

// connect connects with a token and subscribes to orders.created, which only the reader
// role allows: success means the server applied the role the callout chose.
func (rt *chainRuntime) connect(token string) error {
	nc, err := nats.Connect(rt.srv.ClientURL(), nats.Token(token), nats.NoReconnect(), nats.Timeout(5*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := nc.SubscribeSync("orders.created"); err != nil {
		return err
	}
	return nc.Flush()
}

func waitFor(d time.Duration, ready func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := ready()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// realServerConfig declares what a small team would: an ORDERS account with reader and writer
// roles and JetStream limits, a BILLING account importing ORDERS' public stream, static users
// of both roles and a billing service user, and the server config that ties them together.
const realServerConfig = `
resource "natsping_operator" "main" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  jetstream = {
    memory_storage = 1048576
    disk_storage   = 0
    max_streams    = 1
    max_consumers  = 4
  }
  exports = [{ type = "stream", name = "public orders", subject = "orders.public.>" }]
  roles = [
    {
      name        = "reader"
      permissions = { sub_allow = ["orders.>", "_INBOX.>"], pub_allow = ["_INBOX.>"] }
    },
    {
      name        = "writer"
      permissions = { pub_allow = ["orders.>", "$JS.API.>"], sub_allow = ["orders.>", "_INBOX.>"] }
    },
  ]
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
  imports = [{
    type          = "stream"
    name          = "orders"
    subject       = "orders.public.>"
    account       = natsping_account.orders.public_key
    local_subject = "from-orders.>"
  }]
}

resource "natsping_user" "reader" {
  name   = "rita"
  signer = natsping_account.orders.role_signers["reader"]
}

resource "natsping_user" "writer" {
  name   = "walt"
  signer = natsping_account.orders.role_signers["writer"]
}

resource "natsping_user" "billing" {
  name        = "billing-svc"
  signer      = natsping_account.billing.signer
  permissions = { sub_allow = ["from-orders.>"] }
}

data "natsping_server_config" "main" {
  operator_jwt   = natsping_operator.main.jwt
  system_account = natsping_operator.main.system_account_public_key
  account_jwts = [
    natsping_operator.main.system_account_jwt,
    natsping_account.orders.jwt,
    natsping_account.billing.jwt,
  ]
  resolver  = { type = "memory" }
  jetstream = { store_dir = "js", max_memory = "64M", max_file = "64M" }
}
`

// TestAccRealServer_RolesExportsJetStream boots the config rendered by natsping_server_config in
// an embedded nats-server and proves that what the HCL says is what the server enforces.
func TestAccRealServer_RolesExportsJetStream(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: realServerConfig,
			Check: func(s *terraform.State) error {
				attr := func(addr, name string) (string, error) {
					rs, ok := s.RootModule().Resources[addr]
					if !ok {
						return "", fmt.Errorf("%s is not in state", addr)
					}
					return rs.Primary.Attributes[name], nil
				}
				config, err := attr("data.natsping_server_config.main", "config")
				if err != nil {
					return err
				}
				creds := map[string]string{}
				for _, u := range []string{"reader", "writer", "billing"} {
					if creds[u], err = attr("natsping_user."+u, "creds"); err != nil {
						return err
					}
				}
				srv := natstest.StartServer(t, config)
				return exerciseRealServer(srv.URL, creds)
			},
		}},
	})
}

func exerciseRealServer(url string, creds map[string]string) error {
	violations := make(chan error, 8)
	reader, err := natstest.ConnectCreds(url, creds["reader"], nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		violations <- err
	}))
	if err != nil {
		return fmt.Errorf("reader connect: %w", err)
	}
	defer reader.Close()
	writer, err := natstest.ConnectCreds(url, creds["writer"])
	if err != nil {
		return fmt.Errorf("writer connect: %w", err)
	}
	defer writer.Close()
	billing, err := natstest.ConnectCreds(url, creds["billing"])
	if err != nil {
		return fmt.Errorf("billing connect: %w", err)
	}
	defer billing.Close()

	// The reader role may subscribe to orders but not publish them.
	orders, err := reader.SubscribeSync("orders.>")
	if err != nil {
		return err
	}
	if err := reader.Flush(); err != nil {
		return err
	}
	if err := reader.Publish("orders.created", []byte("from reader")); err != nil {
		return err
	}
	_ = reader.Flush()
	select {
	case err := <-violations:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation for publish") {
			return fmt.Errorf("reader publish: unexpected error %v", err)
		}
	case <-time.After(3 * time.Second):
		return errors.New("reader publish to orders.created was not refused by the server")
	}

	// The writer role publishes, and the reader receives it (and never its own refused message).
	if err := writer.Publish("orders.created", []byte("from writer")); err != nil {
		return err
	}
	_ = writer.Flush()
	msg, err := orders.NextMsg(3 * time.Second)
	if err != nil {
		return fmt.Errorf("reader did not receive the writer's order: %w", err)
	}
	if string(msg.Data) != "from writer" {
		return fmt.Errorf("reader received %q, want the writer's message", msg.Data)
	}

	// ORDERS exports orders.public.>; BILLING imports it as from-orders.>.
	imported, err := billing.SubscribeSync("from-orders.>")
	if err != nil {
		return err
	}
	if err := billing.Flush(); err != nil {
		return err
	}
	if err := writer.Publish("orders.public.42", []byte("shipped")); err != nil {
		return err
	}
	_ = writer.Flush()
	msg, err = imported.NextMsg(3 * time.Second)
	if err != nil {
		return fmt.Errorf("billing did not receive the exported order: %w", err)
	}
	if msg.Subject != "from-orders.42" || string(msg.Data) != "shipped" {
		return fmt.Errorf("billing received %s %q, want from-orders.42 \"shipped\"", msg.Subject, msg.Data)
	}

	// JetStream limits from the account JWT: one stream, 1 MiB of memory storage, no file storage.
	js, err := jetstream.New(writer)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "ORDERS", Subjects: []string{"orders.js.>"}, Storage: jetstream.MemoryStorage, MaxBytes: 512 * 1024,
	}); err != nil {
		return fmt.Errorf("the first memory stream within the account limits was refused: %w", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "AUDIT", Subjects: []string{"orders.audit.>"}, Storage: jetstream.MemoryStorage, MaxBytes: 1024,
	}); err == nil {
		return errors.New("a second stream was created although the account allows max_streams = 1")
	} else if !strings.Contains(strings.ToLower(err.Error()), "maximum number of streams") {
		return fmt.Errorf("second stream refused for an unexpected reason: %w", err)
	}
	if err := js.DeleteStream(ctx, "ORDERS"); err != nil {
		return err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "BIG", Subjects: []string{"orders.big.>"}, Storage: jetstream.MemoryStorage, MaxBytes: 4 * 1024 * 1024,
	}); err == nil {
		return errors.New("a 4 MiB memory stream was created although the account allows 1 MiB of memory storage")
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "FILE", Subjects: []string{"orders.file.>"}, Storage: jetstream.FileStorage, MaxBytes: 1024,
	}); err == nil {
		return errors.New("a file stream was created although the account allows no disk storage")
	}
	return nil
}

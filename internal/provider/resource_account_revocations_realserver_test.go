package provider

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// revocationServerConfig is ORDERS with a private stream export, BILLING importing it through
// an activation ORDERS issues (activation_signer), static users of ORDERS (users: HCL blocks),
// a full resolver and, once the server runs, natsping_resolver_push. Keys and cutoffs come in
// as variables because they exist only after the first step.
func revocationServerConfig(url, users string, push bool) string {
	cfg := `
variable "alice_key" { default = "" }
variable "billing_key" { default = "" }
variable "cutoff_a" { default = "" }
variable "cutoff_b" { default = "" }

resource "natsping_operator" "main" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  exports = [{
    type                = "stream"
    subject             = "orders.events.>"
    token_required      = true
    revoked_activations = var.cutoff_a == "" ? null : { (var.billing_key) = var.cutoff_a }
  }]
  revoked_users           = var.cutoff_a == "" ? null : { (var.alice_key) = var.cutoff_a }
  revoke_all_users_before = var.cutoff_b == "" ? null : var.cutoff_b
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
  imports = [{
    type              = "stream"
    subject           = "orders.events.>"
    account           = natsping_account.orders.public_key
    activation_signer = natsping_account.orders.signer
  }]
}

resource "natsping_user" "billing" {
  name   = "billing-svc"
  signer = natsping_account.billing.signer
}

data "natsping_server_config" "main" {
  operator_jwt = natsping_operator.main.jwt
  account_jwts = [natsping_operator.main.system_account_jwt]
  resolver     = { type = "full" }
}
` + users
	if push {
		cfg += fmt.Sprintf(`
resource "natsping_resolver_push" "live" {
  servers           = [%q]
  system_user_creds = natsping_operator.main.system_user_creds
  accounts = {
    (natsping_account.orders.public_key)  = natsping_account.orders.jwt
    (natsping_account.billing.public_key) = natsping_account.billing.jwt
  }
}
`, url)
	}
	return cfg
}

func staticUser(name string) string {
	return fmt.Sprintf(`
resource "natsping_user" %[1]q {
  name   = %[1]q
  signer = natsping_account.orders.signer
}
`, name)
}

// revocationClient is a live connection whose end the test waits for.
type revocationClient struct {
	nc *nats.Conn
	// errs gets the server's asynchronous errors (the revocation arrives as one, before the
	// close; LastError is overwritten by the failed reconnect), closed the close itself.
	errs   chan error
	closed chan struct{}
}

func connectRevocationClient(url, creds string) (*revocationClient, error) {
	c := &revocationClient{errs: make(chan error, 16), closed: make(chan struct{})}
	nc, err := natstest.ConnectCreds(url, creds,
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }))
	if err != nil {
		return nil, err
	}
	c.nc = nc
	return c, nil
}

// waitRevoked waits for the server to close the connection for a revocation.
func (c *revocationClient) waitRevoked(who string) error {
	select {
	case <-c.closed:
		var got []error
		for len(c.errs) > 0 {
			err := <-c.errs
			if errors.Is(err, nats.ErrAuthRevoked) {
				return nil
			}
			got = append(got, err)
		}
		return fmt.Errorf("%s was disconnected with errors %v, want %v", who, got, nats.ErrAuthRevoked)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s is still connected after the revoking account JWT was pushed", who)
	}
}

// roundTrip publishes on subject from pub and reports whether sub receives it within wait.
func roundTrip(pub, sub *nats.Conn, subject string, wait time.Duration) (bool, error) {
	s, err := sub.SubscribeSync(subject)
	if err != nil {
		return false, err
	}
	defer func() { _ = s.Unsubscribe() }()
	if err := sub.Flush(); err != nil {
		return false, err
	}
	if err := pub.Publish(strings.Replace(subject, ">", "1", 1), []byte("event")); err != nil {
		return false, err
	}
	if err := pub.Flush(); err != nil {
		return false, err
	}
	_, err = s.NextMsg(wait)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, nats.ErrTimeout):
		return false, nil
	default:
		return false, err
	}
}

// cutoffNow is a revocation cutoff at the current second; it then waits past that second, so a
// JWT signed afterwards is issued after the cutoff (nats-server compares whole seconds, and a
// JWT issued in the cutoff's second is revoked).
func cutoffNow() string {
	now := time.Now().UTC().Truncate(time.Second)
	time.Sleep(time.Until(now.Add(1100 * time.Millisecond)))
	return now.Format(time.RFC3339)
}

// TestAccRealServer_Revocations runs the revocations against nats-server with a full resolver:
// destroying alice and revoking her key in the same apply disconnects her live connection
// when natsping_resolver_push sends the account JWT and refuses her reconnect, while bob stays
// connected; the revoked activation stops BILLING's import; revoking every user issued before
// a later cutoff disconnects bob, and carol, created in that apply after the cutoff, connects.
func TestAccRealServer_Revocations(t *testing.T) {
	live := &liveServer{t: t, port: freePort(t)}
	url := fmt.Sprintf("nats://127.0.0.1:%d", live.port)
	var alice, bob, billing *revocationClient
	var aliceCreds string
	step2Vars, step3Vars := config.Variables{}, config.Variables{}
	attr := func(s *terraform.State, addr, name string) string {
		if rs, ok := s.RootModule().Resources[addr]; ok {
			return rs.Primary.Attributes[name]
		}
		return ""
	}
	t.Cleanup(func() {
		for _, c := range []*revocationClient{alice, bob, billing} {
			if c != nil {
				c.nc.Close()
			}
		}
	})
	emptyAfter := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: revocationServerConfig(url, staticUser("alice")+staticUser("bob"), false),
				Check: func(s *terraform.State) error {
					if err := live.capture(s); err != nil {
						return err
					}
					live.start()
					for _, acc := range []string{"orders", "billing"} {
						if err := live.push(attr(s, "natsping_account."+acc, "jwt")); err != nil {
							return err
						}
					}
					aliceCreds = attr(s, "natsping_user.alice", "creds")
					var err error
					if alice, err = connectRevocationClient(url, aliceCreds); err != nil {
						return fmt.Errorf("alice: %w", err)
					}
					if bob, err = connectRevocationClient(url, attr(s, "natsping_user.bob", "creds")); err != nil {
						return fmt.Errorf("bob: %w", err)
					}
					if billing, err = connectRevocationClient(url, attr(s, "natsping_user.billing", "creds")); err != nil {
						return fmt.Errorf("billing: %w", err)
					}
					if got, err := roundTrip(bob.nc, billing.nc, "orders.events.>", 5*time.Second); err != nil || !got {
						return fmt.Errorf("BILLING does not receive ORDERS' events through its activation before any revocation (%v)", err)
					}
					step2Vars["alice_key"] = config.StringVariable(attr(s, "natsping_user.alice", "public_key"))
					step2Vars["billing_key"] = config.StringVariable(live.billing)
					for k, v := range step2Vars {
						step3Vars[k] = v
					}
					return nil
				},
			},
			{
				// Offboarding alice: her block goes, her key is revoked, in one apply.
				PreConfig: func() {
					cutoff := cutoffNow()
					step2Vars["cutoff_a"] = config.StringVariable(cutoff)
					step3Vars["cutoff_a"] = config.StringVariable(cutoff)
				},
				Config:          revocationServerConfig(url, staticUser("bob"), true),
				ConfigVariables: step2Vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_user.alice", plancheck.ResourceActionDestroy),
						plancheck.ExpectResourceAction("natsping_account.orders", plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: emptyAfter,
				},
				Check: func(s *terraform.State) error {
					if err := alice.waitRevoked("alice"); err != nil {
						return err
					}
					if nc, err := natstest.ConnectCreds(url, aliceCreds); err == nil {
						nc.Close()
						return errors.New("alice reconnected with her revoked JWT")
					} else if !errors.Is(err, nats.ErrAuthorization) {
						return fmt.Errorf("alice's reconnect failed with %v, want %v", err, nats.ErrAuthorization)
					}
					if bob.nc.IsClosed() {
						return errors.New("bob was disconnected by alice's revocation")
					}
					// The activation revocation: BILLING's import of the private export stops.
					if got, err := roundTrip(bob.nc, billing.nc, "orders.events.>", time.Second); err != nil {
						return err
					} else if got {
						return errors.New("BILLING still receives ORDERS' events after its activation was revoked")
					}
					if err := bob.nc.Publish("orders.events.2", nil); err != nil {
						return fmt.Errorf("bob cannot publish after alice's revocation: %w", err)
					}
					return bob.nc.Flush()
				},
			},
			{
				// Every user issued before a new cutoff: bob goes, carol (signed after it) stays.
				PreConfig:       func() { step3Vars["cutoff_b"] = config.StringVariable(cutoffNow()) },
				Config:          revocationServerConfig(url, staticUser("bob")+staticUser("carol"), true),
				ConfigVariables: step3Vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_user.carol", plancheck.ResourceActionCreate),
					},
					PostApplyPostRefresh: emptyAfter,
				},
				Check: func(s *terraform.State) error {
					if err := bob.waitRevoked("bob"); err != nil {
						return err
					}
					carol, err := natstest.ConnectCreds(url, attr(s, "natsping_user.carol", "creds"))
					if err != nil {
						return fmt.Errorf("carol, issued after the cutoff, cannot connect: %w", err)
					}
					defer carol.Close()
					if got, err := roundTrip(carol, carol, "orders.>", 5*time.Second); err != nil || !got {
						return fmt.Errorf("carol cannot use the account (%v)", err)
					}
					return nil
				},
			},
		},
	})
}

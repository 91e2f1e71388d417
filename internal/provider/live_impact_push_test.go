package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// pushImpactConfig: ORDERS follows the operator's signer; BILLING is pinned to the key that
// first signed it (ignore_changes), the account an operator rotation leaves behind.
func pushImpactConfig(url, generation string, push bool) string {
	return pushImpactConfigAccounts(url, generation, push, true)
}

func pushImpactConfigAccounts(url, generation string, push, billing bool) string {
	cfg := fmt.Sprintf(`
resource "natsping_operator" "main" {
  name                     = "acme"
  signing_key_rotation     = { generation = %q }
  signing_key_grace_period = "1h"
}

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  roles = [
    { name = "reader", permissions = { sub_allow = ["orders.>", "_INBOX.>"] } },
    { name = "writer", permissions = { pub_allow = ["orders.>"] } },
  ]
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
  lifecycle { ignore_changes = [operator_signer] }
}

data "natsping_server_config" "main" {
  operator_jwt = natsping_operator.main.jwt
  account_jwts = [natsping_operator.main.system_account_jwt]
  resolver     = { type = "full", allow_delete = true }
  server_name  = "n1"
}
`, generation)
	billingEntry := ""
	if billing {
		billingEntry = "(natsping_account.billing.public_key) = natsping_account.billing.jwt"
	}
	if push {
		cfg += fmt.Sprintf(`
resource "natsping_resolver_push" "live" {
  servers           = [%q]
  system_user_creds = natsping_operator.main.system_user_creds
  operator_jwt      = natsping_operator.main.jwt
  operator_signer   = natsping_operator.main.signer
  accounts = {
    (natsping_account.orders.public_key)  = natsping_account.orders.jwt
    %s
  }
}
`, url, billingEntry)
	}
	return cfg
}

// roleUsers are live connections of ORDERS' roles, signed with the role signers in the state
// the way the callout signs users.
type roleUsers struct {
	readerPub, readerSigner, writerSigner, ordersJWT string
	reader, writer                                   *nats.Conn
}

func (u *roleUsers) capture(s *terraform.State) error {
	rs, ok := s.RootModule().Resources["natsping_account.orders"]
	if !ok {
		return fmt.Errorf("natsping_account.orders is not in state")
	}
	a := rs.Primary.Attributes
	u.readerPub, u.readerSigner, u.writerSigner, u.ordersJWT = a["role_keys.reader"], a["role_signers.reader"], a["role_signers.writer"], a["jwt"]
	return nil
}

func (u *roleUsers) connect(t *testing.T, url, signerValue string) *nats.Conn {
	t.Helper()
	signer, err := natsjwt.ParseSigner(signerValue, natsjwt.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, creds, err := natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "live-" + signer.Role}, signer)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natstest.ConnectCreds(url, creds, nats.NoReconnect())
	if err != nil {
		t.Fatalf("connecting a %s user: %v", signer.Role, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestAccLiveImpactWarnings_ResolverPush runs the warnings of natsping_resolver_push against a
// live full resolver with the real CLI:
//   - a push that restores a role template edited behind Terraform's back warns that the
//     role's users are disconnected, and the apply does disconnect exactly them;
//   - an operator signing-key rotation: the push refuses ORDERS (re-signed by the new key)
//     while the server runs the old operator JWT, naming the server and operator_jwt as the
//     JWT to restart it with; after the restart the same apply pushes it;
//   - when the grace period ends, the plan warns that BILLING, still signed by the dropped key,
//     would be refused by servers restarted with the new operator JWT.
func TestAccLiveImpactWarnings_ResolverPush(t *testing.T) {
	clock := newTestClock(time.Now().UTC())
	rec := &planRecorder{}
	live := &liveServer{t: t, port: freePort(t)}
	url := fmt.Sprintf("nats://127.0.0.1:%d", live.port)
	users := &roleUsers{}
	quiet := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), rec.expectQuietNoops()}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: rec.wrap(clock.factories()),
		Steps: []resource.TestStep{
			{
				Config: pushImpactConfig(url, "1", false),
				Check: func(s *terraform.State) error {
					if err := live.capture(s); err != nil {
						return err
					}
					live.start()
					return users.capture(s)
				},
			},
			{
				PreConfig:        rec.reset,
				Config:           pushImpactConfig(url, "1", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{rec.expectNoWarnings("")}, PostApplyPostRefresh: quiet},
				Check:            live.holds,
			},
			{
				// Someone pushes ORDERS with the reader role narrowed; readers connect under it.
				PreConfig: func() {
					rec.reset()
					claims, err := jwt.DecodeAccountClaims(users.ordersJWT)
					if err != nil {
						t.Fatal(err)
					}
					claims.SigningKeys[users.readerPub].(*jwt.UserScope).Template.Sub.Allow = jwt.StringList{"orders.eu.>"}
					signer, err := natsjwt.ParseSigner(live.signer, natsjwt.KindOperator)
					if err != nil {
						t.Fatal(err)
					}
					token, err := claims.Encode(signer.KeyPair())
					if err != nil {
						t.Fatal(err)
					}
					if err := live.push(token); err != nil {
						t.Fatal(err)
					}
					users.reader = users.connect(t, live.srv.URL, users.readerSigner)
					users.writer = users.connect(t, live.srv.URL, users.writerSigner)
				},
				Config: pushImpactConfig(url, "1", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_resolver_push.live", plancheck.ResourceActionUpdate),
						rec.expectWarnings("natsping_resolver_push", warnDisconnect,
							[]string{`account "ORDERS"`, `role "reader"`, "changes its permissions"}, `role "writer"`, warnDeliver),
					},
					PostApplyPostRefresh: quiet,
				},
				Check: resource.ComposeTestCheckFunc(live.holds, func(*terraform.State) error {
					deadline := time.Now().Add(5 * time.Second)
					for !users.reader.IsClosed() {
						if time.Now().After(deadline) {
							return fmt.Errorf("the push was expected to disconnect the reader")
						}
						time.Sleep(20 * time.Millisecond)
					}
					if err := users.writer.Flush(); err != nil {
						return fmt.Errorf("the writer was expected to stay connected: %w", err)
					}
					return nil
				}),
			},
			{
				// The rotation: the server still runs the old operator JWT.
				PreConfig: rec.reset,
				Config:    pushImpactConfig(url, "2", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					rec.expectWarnings("natsping_operator", warnRestart, []string{"is added", "natsping_resolver_push refuses to push them"}),
				}},
				ExpectError: regexp.MustCompile(wrappedText("which n1 does not trust yet").String() + `(?s:.*)` +
					wrappedText("Restart n1 with the operator JWT given in operator_jwt").String()),
			},
			{
				// Restart n1 with the config rendered from the rotated operator (ORDERS is still to push).
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: func(s *terraform.State) error {
					if err := live.capture(s); err != nil {
						return err
					}
					live.stop()
					live.start()
					return nil
				},
			},
			{
				PreConfig:        rec.reset,
				Config:           pushImpactConfig(url, "2", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: quiet},
				Check:            live.holds,
			},
			{
				// The grace period ends: the operator JWT drops the key BILLING is signed by.
				PreConfig: func() { rec.reset(); clock.Advance(2 * time.Hour) },
				Config:    pushImpactConfig(url, "2", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						rec.expectWarnings("natsping_operator", warnRefuse, []string{"is no longer listed"}),
					},
					// operator_jwt is re-signed in this apply, so the push can only check it in the
					// final plan at apply; the CLI shows that warning during the apply.
					PostApplyPreRefresh: []plancheck.PlanCheck{
						rec.expectWarnings("natsping_resolver_push", "Servers restarted with operator_jwt will refuse an account",
							[]string{`Account "BILLING"`, "re-sign the account", "before restarting servers"}),
					},
					PostApplyPostRefresh: quiet,
				},
			},
			{
				// BILLING leaves the push, which deletes it from the server.
				PreConfig: rec.reset,
				Config:    pushImpactConfigAccounts(url, "2", true, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						rec.expectWarnings("natsping_resolver_push", warnDisconnect,
							[]string{"natsping_resolver_push deletes it", `account "BILLING"`, "the account is removed", "closes every connection"},
							`account "ORDERS"`),
					},
					PostApplyPostRefresh: quiet,
				},
			},
		},
	})
}

// TestAccResolverPush_OperatorJWTErrors: operator_jwt that is not an operator JWT fails plan,
// before any server is contacted (none runs here).
func TestAccResolverPush_OperatorJWTErrors(t *testing.T) {
	opPub, opSeed, _ := natsjwt.NewKey(natsjwt.KindOperator)
	signer, err := natsjwt.NewSigner(opPub, "", opSeed, natsjwt.KindOperator)
	if err != nil {
		t.Fatal(err)
	}
	accPub, _, _ := natsjwt.NewKey(natsjwt.KindAccount)
	accJWT, err := natsjwt.SignAccount(natsjwt.AccountSpec{Name: "ORDERS"}, accPub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(operatorJWT string) string {
		return fmt.Sprintf(`
resource "natsping_operator" "main" { name = "acme" }
resource "natsping_resolver_push" "live" {
  servers           = ["nats://127.0.0.1:4222"]
  system_user_creds = natsping_operator.main.system_user_creds
  operator_jwt      = %q
  accounts          = { %q = %q }
}
`, operatorJWT, accPub, accJWT)
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("not a jwt"), PlanOnly: true, ExpectError: wrappedText("Invalid operator JWT")},
			{Config: cfg(accJWT), PlanOnly: true, ExpectError: wrappedText("Invalid operator JWT")},
		},
	})
}

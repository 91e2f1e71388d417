package provider

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// TestAccRealServer_ImportedOperatorFromNSC: a whole nsc store (operator, system account and
// user, account, users) imported in one plan with import blocks, the operator made strict and
// the account moved onto the operator's signing key in the same apply. nats-server booted from
// the natsping_server_config of the result accepts the system user (it can ping the servers
// on $SYS) and the account's user: the identity-signed JWTs nsc made were re-signed, because a
// strict operator refuses them.
func TestAccRealServer_ImportedOperatorFromNSC(t *testing.T) {
	f := newNSCFixture(t)
	n := newNSCAccount(t, f)
	u := newNSCUsers(t, n)
	o := newNSCOperator(t, n)
	accounts := strings.Replace(n.userHCL(`{ pub_allow = ["orders.>"] }`, u.svcCreds, u.ritaCreds),
		fmt.Sprintf("file(%q)", n.opSeedPath), "natsping_operator.acme.signer", 1)
	config := o.hcl("") + fmt.Sprintf(`
import {
  to = natsping_operator.acme
  id = %q
}
`, o.path) + accounts + `
data "natsping_server_config" "main" {
  operator_jwt = natsping_operator.acme.jwt
  account_jwts = [natsping_operator.acme.system_account_jwt, natsping_account.orders.jwt]
}
`
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(nscOperatorRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(nscOperatorRes, opAttr("system_account_jwt")),
					plancheck.ExpectUnknownValue(nscOperatorRes, opAttr("system_user_creds")),
					plancheck.ExpectResourceAction(nscAccountRes, plancheck.ResourceActionUpdate),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: func(s *terraform.State) error {
				attrs := func(addr string) map[string]string { return s.RootModule().Resources[addr].Primary.Attributes }
				op, acc := attrs(nscOperatorRes), attrs(nscAccountRes)
				if acc["issuer"] != o.signingKey || op["public_key"] != n.operator || op["system_account_public_key"] != o.sysAccount {
					return fmt.Errorf("the import did not keep nsc's keys: issuer %s, operator %s, system account %s",
						acc["issuer"], op["public_key"], op["system_account_public_key"])
				}
				srv := natstest.StartServer(t, attrs("data.natsping_server_config.main")["config"])
				sys, err := natstest.ConnectCreds(srv.URL, op["system_user_creds"])
				if err != nil {
					return fmt.Errorf("the imported system user cannot connect to a strict server: %w", err)
				}
				defer sys.Close()
				if _, err := sys.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second); err != nil {
					return fmt.Errorf("the imported system user is not in the system account: %w", err)
				}
				return publishAsSvc(srv.URL, attrs("natsping_user.svc")["creds"])
			},
		}},
	})
}

// publishAsSvc connects as the imported svc user and checks its permissions are enforced.
func publishAsSvc(url, creds string) error {
	violations := make(chan error, 2)
	nc, err := natstest.ConnectCreds(url, creds, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		return fmt.Errorf("the imported svc cannot connect to a server trusting the imported operator: %w", err)
	}
	defer nc.Close()
	if err := nc.Publish("billing.created", nil); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	select {
	case err := <-violations:
		if !strings.Contains(err.Error(), `Publish to "billing.created"`) {
			return fmt.Errorf("unexpected refusal %v", err)
		}
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("billing.created, outside svc's permissions, was not refused")
	}
}

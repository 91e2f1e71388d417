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

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// TestAccRealServer_ImportedFromNSC: an nsc account and user, imported and changed in one apply
// (import blocks plus edited claims), are re-signed with the nsc operator's own key, and
// nats-server trusting that operator admits the user with the new permissions: the migration
// leaves a working system, not just a tidy state.
func TestAccRealServer_ImportedFromNSC(t *testing.T) {
	f := newNSCFixture(t)
	n := newNSCAccount(t, f)
	u := newNSCUsers(t, n)
	opToken, err := natsjwt.ReadJWTFile(f.stores + "/acme/acme.jwt")
	if err != nil {
		t.Fatal(err)
	}
	// The account keeps its claims but gets a new description; svc may now also publish billing.>.
	config := strings.Replace(n.userHCL(`{ pub_allow = ["orders.>", "billing.>"] }`, u.svcCreds, u.ritaCreds),
		`description     = "order processing"`, `description     = "orders, managed by natsping"`, 1)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(nscAccountRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("natsping_user.svc", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("natsping_user.rita", plancheck.ResourceActionNoop),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: func(s *terraform.State) error {
				acc := s.RootModule().Resources[nscAccountRes].Primary.Attributes
				svc := s.RootModule().Resources["natsping_user.svc"].Primary.Attributes
				srv := natstest.StartServer(t, fmt.Sprintf("operator: %q\nresolver: MEMORY\nresolver_preload: { %s: %q }\n", opToken, acc["public_key"], acc["jwt"]))
				violations := make(chan error, 4)
				nc, err := natstest.ConnectCreds(srv.URL, svc["creds"], nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
				if err != nil {
					return fmt.Errorf("the re-signed svc cannot connect to a server trusting the nsc operator: %w", err)
				}
				defer nc.Close()
				for _, subject := range []string{"billing.created", "orders.created"} {
					if err := nc.Publish(subject, nil); err != nil {
						return err
					}
				}
				if err := nc.Publish("audit.created", nil); err != nil {
					return err
				}
				if err := nc.Flush(); err != nil {
					return err
				}
				select {
				case err := <-violations:
					if !strings.Contains(err.Error(), `Publish to "audit.created"`) {
						return fmt.Errorf("unexpected refusal %v: the new permissions are not the ones applied", err)
					}
				case <-time.After(5 * time.Second):
					return errors.New("audit.created, outside svc's permissions, was not refused")
				}
				return nil
			},
		}},
	})
}

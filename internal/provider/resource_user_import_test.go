package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

const userImportConfig = `
resource "natsping_operator" "main" { name = "acme" }

resource "natsping_account" "test" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  roles           = [{ name = "reader", permissions = { sub_allow = ["orders.{{tag(team)}}.>"] } }]
}

resource "natsping_user" "svc" {
  name                     = "svc"
  signer                   = natsping_account.test.signer
  permissions              = { pub_allow = ["orders.>"], sub_deny = ["orders.secret"], response = { max_msgs = 2 } }
  max_payload              = 1024
  allowed_connection_types = ["STANDARD"]
  source_networks          = ["10.0.0.0/8"]
  tags                     = ["team:blue"]
  expires_at               = "2031-01-02T03:04:05Z"
}

resource "natsping_user" "rita" {
  name   = "rita"
  signer = natsping_account.test.role_signers["reader"]
  tags   = ["team:blue"]
}
`

// TestAccUser_importRoundTrip: users natsping signed, put into an nsc store, come back by the
// path of a user JWT (seed from the keystore) or of a .creds file in nsc's creds directory
// (the role then read from the store's account JWT) exactly as they were applied.
func TestAccUser_importRoundTrip(t *testing.T) {
	f := newNSCFixture(t)
	paths := map[string]string{}
	idOf := func(name string) resource.ImportStateIdFunc {
		return func(*terraform.State) (string, error) { return paths[name], nil }
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           userImportConfig,
				ConfigPlanChecks: accountPlan(),
				Check: func(s *terraform.State) error {
					res := s.RootModule().Resources
					acc := res[accountRes].Primary.Attributes
					f.account("acme", "ORDERS", acc["jwt"])
					for _, name := range []string{"svc", "rita"} {
						u := res["natsping_user."+name].Primary.Attributes
						kp, err := nkeys.FromSeed([]byte(u["seed"]))
						if err != nil {
							return err
						}
						paths[name], paths[name+".creds"] = f.user("acme", "ORDERS", name, u["jwt"], kp)
						if name == "svc" {
							f.storeSeed(kp) // imported by its JWT: the seed must be in the keystore
						}
					}
					for _, signer := range []string{acc["signer"], acc["role_signers.reader"]} {
						s, err := natsjwt.ParseSigner(signer, natsjwt.KindAccount)
						if err != nil {
							return err
						}
						f.seedString(s.Seed)
					}
					return nil
				},
			},
			{ResourceName: "natsping_user.svc", ImportState: true, ImportStateIdFunc: idOf("svc"), ImportStateVerify: true},
			{ResourceName: "natsping_user.rita", ImportState: true, ImportStateIdFunc: idOf("rita.creds"), ImportStateVerify: true},
			{
				ResourceName: "natsping_user.rita", ImportState: true, ImportStateKind: resource.ImportBlockWithID, ImportStateIdFunc: idOf("rita.creds"),
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("natsping_user.rita", tfjsonpath.New("role"), knownvalue.StringExact("reader")),
				}},
			},
		},
	})
}

// nscUsers are users nsc made in the nscAccount: svc, signed by the unscoped signing key with
// permissions and limits, and rita, signed by the reader role (scoped, no permissions).
type nscUsers struct {
	svcJWT, svcCreds, ritaCreds string
	svcKey                      string
}

func newNSCUsers(t *testing.T, n *nscAccount) nscUsers {
	f := n.f
	var u nscUsers
	var svcKP, ritaKP nkeys.KeyPair
	u.svcKey, svcKP = f.key(nkeys.PrefixByteUser)
	svc := jwt.NewUserClaims(u.svcKey)
	svc.Name, svc.IssuerAccount = "svc", n.account
	svc.Pub.Allow.Add("orders.>")
	svc.Limits.Payload = 1024
	svc.Expires = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	u.svcJWT, u.svcCreds = f.user("acme", "ORDERS", "svc", encodeClaims(t, svc, n.signingKP), svcKP)

	ritaKey, ritaKP := f.key(nkeys.PrefixByteUser)
	rita := jwt.NewUserClaims(ritaKey)
	rita.Name, rita.IssuerAccount = "rita", n.account
	rita.Tags.Add("team:blue")
	rita.SetScoped(true)
	_, u.ritaCreds = f.user("acme", "ORDERS", "rita", encodeClaims(t, rita, n.roleKP), ritaKP)
	return u
}

// userHCL is the nsc users' configuration with import blocks for them and their account, the
// way a migration imports an nsc store in one plan.
func (n *nscAccount) userHCL(svcPermissions, svcID, ritaID string) string {
	return n.hcl("order processing", `tags = ["team:blue"]`) + fmt.Sprintf(`
import {
  to = natsping_account.orders
  id = %q
}

import {
  to = natsping_user.svc
  id = %q
}

import {
  to = natsping_user.rita
  id = %q
}

resource "natsping_user" "svc" {
  name        = "svc"
  signer      = natsping_account.orders.signer
  permissions = %s
  max_payload = 1024
  expires_at  = "2031-01-01T00:00:00Z"
}

resource "natsping_user" "rita" {
  name   = "rita"
  signer = natsping_account.orders.role_signers["reader"]
  tags   = ["team:blue"]
}
`, n.jwtPath, svcID, ritaID, svcPermissions)
}

// userImportStep plans config, whose own import blocks import every resource.
func userImportStep(config, resourceName string) resource.TestStep {
	return resource.TestStep{
		Config: importBlockProviders + config, ResourceName: resourceName, ImportState: true,
		ImportStateKind: resource.ImportBlockWithID, ImportStateId: "in the configuration", ImportStateConfigExact: true,
	}
}

// TestAccUser_importFromNSC: users of an nsc store imported with import blocks next to their
// account: by creds or user JWT path the plan is empty when the configuration says what the JWT
// says, and shows exactly the differing permissions (and a re-signed JWT) when it does not.
func TestAccUser_importFromNSC(t *testing.T) {
	f := newNSCFixture(t)
	n := newNSCAccount(t, f)
	u := newNSCUsers(t, n)
	perms := `{ pub_allow = ["orders.>"] }`
	empty := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(),
		plancheck.ExpectKnownValue("natsping_user.rita", tfjsonpath.New("role"), knownvalue.StringExact("reader"))}

	byCreds := userImportStep(n.userHCL(perms, u.svcCreds, u.ritaCreds), "natsping_user.svc")
	byCreds.ImportPlanChecks.PreApply = empty
	byJWT := userImportStep(n.userHCL(perms, u.svcJWT, u.ritaCreds), "natsping_user.svc")
	byJWT.ImportPlanChecks.PreApply = empty
	differing := userImportStep(n.userHCL(`{ pub_allow = ["orders.>", "billing.>"] }`, u.svcCreds, u.ritaCreds), "natsping_user.svc")
	differing.ExpectNonEmptyPlan = true
	differing.ImportPlanChecks.PreApply = []plancheck.PlanCheck{expectPlanChanges([]string{
		`natsping_user.svc update: creds (sensitive): (known after apply); jwt: (known after apply); permissions: ~pub_allow[0]: "orders.\u003e" → "billing.\u003e", +pub_allow[1]: "orders.\u003e"`,
	})}
	runImportSteps(t, map[string]resource.TestStep{"by creds": byCreds, "svc by user JWT": byJWT, "differing permissions": differing})

	failing := func(id, want string) resource.TestStep {
		step := userImportStep(n.userHCL(perms, id, u.ritaCreds), "natsping_user.svc")
		step.ExpectError = regexp.MustCompile(want)
		return step
	}
	runImportSteps(t, map[string]resource.TestStep{
		"wrong path":  failing(u.svcCreds+".old", `svc\.creds\.old\s+does\s+not\s+exist`),
		"not a user":  failing(n.jwtPath, `is\s+not\s+a\s+valid\s+user\s+JWT`),
		"not a creds": failing(writeFile(t, "svc.creds", "no JWT here"), `is\s+not\s+a\s+creds\s+file`),
	})
	if err := os.Remove(f.keystore.KeyPath(u.svcKey)); err != nil {
		t.Fatal(err)
	}
	runImportSteps(t, map[string]resource.TestStep{
		"missing seed": failing(u.svcJWT, `user\s+"svc":\s+seed\s+not\s+in\s+the\s+keystore(?s:.*)\.creds\s+file`),
	})
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

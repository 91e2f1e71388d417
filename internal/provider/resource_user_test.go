package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwttest"
)

const testUser = "natsping_user.test"

// testAccount is an account made in Go, as nsc users have them: an identity seed, one
// unscoped signing key and one role, each also as a natsping signer string.
type testAccount struct {
	pub, seed, skPub, skSeed, rolePub, roleSeed string
	signer, skSigner, roleSigner                string
}

func newTestAccount(t *testing.T) testAccount {
	t.Helper()
	var a testAccount
	var err error
	for _, k := range []struct{ pub, seed *string }{{&a.pub, &a.seed}, {&a.skPub, &a.skSeed}, {&a.rolePub, &a.roleSeed}} {
		if *k.pub, *k.seed, err = natsjwt.NewKey(natsjwt.KindAccount); err != nil {
			t.Fatal(err)
		}
	}
	a.signer = natsjwt.EncodeSigner(&natsjwt.Signer{Owner: a.pub, Seed: a.seed})
	a.skSigner = natsjwt.EncodeSigner(&natsjwt.Signer{Owner: a.pub, Seed: a.skSeed})
	a.roleSigner = natsjwt.EncodeSigner(&natsjwt.Signer{Owner: a.pub, Role: "readers", Seed: a.roleSeed})
	return a
}

func userClaims(check func(*jwt.UserClaims) error) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		c, err := jwt.DecodeUserClaims(v)
		if err != nil {
			return err
		}
		return check(c)
	})
}

// A permissions object that is partly unknown while planning (here its response block and a
// subject naming a key generated in the same apply) is signed at apply, not refused.
func TestAccUser_permissionsUnknownWhilePlanning(t *testing.T) {
	acc := newTestAccount(t)
	config := fmt.Sprintf(`
resource "terraform_data" "svc" { input = "orders" }
resource "natsping_user" "test" {
  name   = "svc"
  signer = %q
  permissions = {
    pub_allow = ["svc.${terraform_data.svc.output}.>"]
    response  = terraform_data.svc.output == "" ? null : { max_msgs = 2 }
  }
}`, acc.skSigner)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: planChecks(
				plancheck.ExpectResourceAction(testUser, plancheck.ResourceActionCreate),
				plancheck.ExpectUnknownValue(testUser, opAttr("jwt")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(testUser, opAttr("jwt"), userClaims(func(c *jwt.UserClaims) error {
					if len(c.Pub.Allow) != 1 || c.Pub.Allow[0] != "svc.orders.>" {
						return fmt.Errorf("pub allow = %v, want [svc.orders.>]", c.Pub.Allow)
					}
					if c.Resp == nil || c.Resp.MaxMsgs != 2 {
						return fmt.Errorf("response permission = %+v, want max_msgs 2", c.Resp)
					}
					return nil
				})),
			},
		}},
	})
}

func TestAccUser_signersAndUpdates(t *testing.T) {
	acc := newTestAccount(t)
	keyStable := statecheck.CompareValue(compare.ValuesSame())
	jwtChanges := statecheck.CompareValue(compare.ValuesDiffer())
	common := func(extra ...statecheck.StateCheck) []statecheck.StateCheck {
		return append([]statecheck.StateCheck{
			keyStable.AddStateValue(testUser, opAttr("public_key")),
			jwtChanges.AddStateValue(testUser, opAttr("jwt")),
			statecheck.ExpectKnownValue(testUser, opAttr("account"), knownvalue.StringExact(acc.pub)),
			statecheck.CompareValuePairs(testUser, opAttr("jwt"), testUser, opAttr("issuer"), natsjwttest.IssuedBy()),
			statecheck.CompareValuePairs(testUser, opAttr("jwt"), testUser, opAttr("public_key"), natsjwttest.HasSubject()),
			statecheck.CompareValuePairs(testUser, opAttr("creds"), testUser, opAttr("public_key"), natsjwttest.CredsFor()),
		}, extra...)
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// A raw account seed, as nsc keeps them.
				Config: fmt.Sprintf(`resource "natsping_user" "test" {
  name   = "alice"
  signer = %q
  permissions = {
    pub_allow = ["orders.>"]
    sub_allow = ["_INBOX.>"]
  }
  max_payload = 1024
}`, acc.seed),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testUser, plancheck.ResourceActionCreate),
					plancheck.ExpectSensitiveValue(testUser, opAttr("signer")),
					plancheck.ExpectSensitiveValue(testUser, opAttr("seed")),
					plancheck.ExpectSensitiveValue(testUser, opAttr("creds")),
					plancheck.ExpectKnownValue(testUser, opAttr("issuer"), knownvalue.StringExact(acc.pub)),
					plancheck.ExpectKnownValue(testUser, opAttr("account"), knownvalue.StringExact(acc.pub)),
				),
				ConfigStateChecks: common(
					statecheck.ExpectKnownValue(testUser, opAttr("public_key"), natsjwttest.PublicKey(natsjwt.KindUser)),
					statecheck.ExpectKnownValue(testUser, opAttr("seed"), natsjwttest.Seed(natsjwt.KindUser)),
					statecheck.ExpectKnownValue(testUser, opAttr("jwt"), natsjwttest.JWTNamed(jwt.UserClaim, "alice")),
					statecheck.ExpectKnownValue(testUser, opAttr("issuer_account"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testUser, opAttr("role"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testUser, opAttr("jwt"), userClaims(func(c *jwt.UserClaims) error {
						if !c.Pub.Allow.Contains("orders.>") || !c.Sub.Allow.Contains("_INBOX.>") || c.NatsLimits.Payload != 1024 || c.Subs != jwt.NoLimit {
							return fmt.Errorf("permissions/limits not in the JWT: %+v", c.UserPermissionLimits)
						}
						return nil
					})),
				),
			},
			{
				// The same account's signing key, as a natsping signer: the plan shows the issuer change.
				Config: fmt.Sprintf(`resource "natsping_user" "test" {
  name       = "alice-2"
  signer     = %q
  tags       = ["team:blue"]
  expires_at = "2099-01-01T00:00:00Z"
  permissions = {
    pub_allow = ["orders.created"]
  }
}`, acc.skSigner),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testUser, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testUser, opAttr("issuer"), knownvalue.StringExact(acc.skPub)),
					plancheck.ExpectKnownValue(testUser, opAttr("issuer_account"), knownvalue.StringExact(acc.pub)),
					plancheck.ExpectUnknownValue(testUser, opAttr("jwt")),
				),
				ConfigStateChecks: common(
					statecheck.ExpectKnownValue(testUser, opAttr("jwt"), natsjwttest.JWTNamed(jwt.UserClaim, "alice-2")),
					statecheck.CompareValuePairs(testUser, opAttr("jwt"), testUser, opAttr("account"), natsjwttest.HasIssuerAccount()),
					statecheck.ExpectKnownValue(testUser, opAttr("jwt"), userClaims(func(c *jwt.UserClaims) error {
						if c.Pub.Allow.Contains("orders.>") || !c.Pub.Allow.Contains("orders.created") || !c.Tags.Contains("team:blue") || c.Expires != 4070908800 {
							return fmt.Errorf("JWT not re-signed with the new inputs: %+v", c.User)
						}
						return nil
					})),
				),
			},
			{
				// A role: the user becomes scoped and carries no permissions of its own.
				Config: fmt.Sprintf(`resource "natsping_user" "test" {
  name    = "alice-2"
  signer  = %q
  account = %q
  tags    = ["team:blue"]
}`, acc.roleSigner, acc.pub),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testUser, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testUser, opAttr("role"), knownvalue.StringExact("readers")),
					plancheck.ExpectKnownValue(testUser, opAttr("issuer"), knownvalue.StringExact(acc.rolePub)),
				),
				ConfigStateChecks: common(
					statecheck.ExpectKnownValue(testUser, opAttr("jwt"), userClaims(func(c *jwt.UserClaims) error {
						if !c.HasEmptyPermissions() || c.IssuerAccount != acc.pub {
							return fmt.Errorf("a role-signed user must be scoped (empty permissions) and name its account: %+v", c.User)
						}
						return nil
					})),
				),
			},
		},
	})
}

func TestAccUser_systemUserFromOperator(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
resource "natsping_operator" "test" { name = "acme" }
resource "natsping_user" "test" {
  name   = "monitor"
  signer = natsping_operator.test.system_account_signer
}`,
			ConfigPlanChecks: planChecks(
				plancheck.ExpectUnknownValue(testUser, opAttr("issuer")),
				plancheck.ExpectUnknownValue(testUser, opAttr("account")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs(testUser, opAttr("jwt"), testOperator, opAttr("system_account_signing_key"), natsjwttest.IssuedBy()),
				statecheck.CompareValuePairs(testUser, opAttr("jwt"), testOperator, opAttr("system_account_public_key"), natsjwttest.HasIssuerAccount()),
				statecheck.CompareValuePairs(testUser, opAttr("account"), testOperator, opAttr("system_account_public_key"), compare.ValuesSame()),
			},
		}},
	})
}

func TestAccUser_invalidInputs(t *testing.T) {
	acc := newTestAccount(t)
	other := newTestAccount(t)
	_, opSeed, _ := natsjwt.NewKey(natsjwt.KindOperator)
	userPub, _, _ := natsjwt.NewKey(natsjwt.KindUser)
	clock := newTestClock(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name, signer, attrs string
		want                *regexp.Regexp
	}{
		{"operator seed as signer", opSeed, "", regexp.MustCompile(`(?s)Invalid signer.*operator seed \(SO…\) but an account\s+seed \(SA…\) is expected`)},
		{"role with permissions", acc.roleSigner, `permissions = { pub_allow = ["x"] }`, regexp.MustCompile(`(?s)Role template applies.*role "readers".*remove\s+permissions`)},
		{"role with limits", acc.roleSigner, `max_subscriptions = 10`, regexp.MustCompile(`(?s)Role template applies.*remove\s+limits`)},
		{"role of another account", acc.roleSigner, fmt.Sprintf("account = %q", other.pub), regexp.MustCompile(`(?s)Signer and account disagree.*role "readers" belongs to account`)},
		{"signer of another account", acc.skSigner, fmt.Sprintf("account = %q", other.pub), regexp.MustCompile(`(?s)the signer belongs to account`)},
		{"user key as account", acc.seed, fmt.Sprintf("account = %q", userPub), regexp.MustCompile(`(?s)user public\s+key but an account public key`)},
		{"bad subject", acc.seed, `permissions = { pub_allow = ["orders..created"] }`, regexp.MustCompile(`(?s)Invalid NATS subject.*empty token`)},
		{"expired", acc.seed, `expires_at = "2030-01-01T00:00:00Z"`, regexp.MustCompile(`(?s)Expiry in the past`)},
		{"bad network", acc.seed, `source_networks = ["10.0.0.0/33"]`, regexp.MustCompile(`(?s)neither a CIDR`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: clock.factories(),
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf("resource \"natsping_user\" \"test\" {\n  name = \"u\"\n  signer = %q\n  %s\n}", tt.signer, tt.attrs),
					PlanOnly:    true,
					ExpectError: tt.want,
				}},
			})
		})
	}
}

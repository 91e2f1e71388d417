package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwttest"
)

const accountRes = "natsping_account.test"

// accountCollector is what statecheck.CompareValue returns (its type is unexported).
type accountCollector interface {
	AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
}

func acctAttr(name string) tfjsonpath.Path { return tfjsonpath.New(name) }

func roleKeyAttr(role string) tfjsonpath.Path { return tfjsonpath.New("role_keys").AtMapKey(role) }

// accountPlan runs the checks before apply and requires an empty plan after it.
func accountPlan(preApply ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{
		PreApply:             preApply,
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
}

// accountClaims decodes the account JWT (verifying its signature) and hands it to check.
func accountClaims(check func(*jwt.AccountClaims) error) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		c, err := jwt.DecodeAccountClaims(v)
		if err != nil {
			return fmt.Errorf("not a valid account JWT: %w", err)
		}
		vr := jwt.CreateValidationResults()
		c.Validate(vr)
		if errs := vr.Errors(); len(errs) > 0 {
			return fmt.Errorf("the account JWT does not validate: %v", errs)
		}
		return check(c)
	})
}

func testAccOperatorSeed(t *testing.T) (pub, seed string) {
	t.Helper()
	pub, seed, err := natsjwt.NewKey(natsjwt.KindOperator)
	if err != nil {
		t.Fatal(err)
	}
	return pub, seed
}

func testAccPub(t *testing.T, kind natsjwt.KeyKind) string {
	t.Helper()
	pub, _, err := natsjwt.NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestAccAccount_create(t *testing.T) {
	const config = `
resource "natsping_operator" "test" { name = "acme" }

resource "natsping_account" "test" {
  name            = "ORDERS"
  description     = "order processing"
  info_url        = "https://wiki.example.com/orders"
  operator_signer = natsping_operator.test.signer
  tags            = ["team:blue", "env:prod"]
  expires_at      = "2099-01-01T00:00:00Z"
  limits = {
    max_connections = 100
    max_payload     = 1048576
    max_leaf_nodes  = 0
  }
  default_permissions = { sub_allow = ["_INBOX.>"] }
  roles = [{
    name        = "reader"
    description = "reads orders"
    permissions = {
      sub_allow = ["orders.{{tag(team)}}.>", "_INBOX.>"]
      pub_deny  = [">"]
    }
    max_payload = 4096
  }]
}`
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: accountPlan(
				plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionCreate),
				plancheck.ExpectSensitiveValue(accountRes, acctAttr("operator_signer")),
				plancheck.ExpectSensitiveValue(accountRes, acctAttr("seed")),
				plancheck.ExpectSensitiveValue(accountRes, acctAttr("signer")),
				plancheck.ExpectSensitiveValue(accountRes, acctAttr("role_signers")),
				plancheck.ExpectUnknownValue(accountRes, acctAttr("jwt")),
				plancheck.ExpectUnknownValue(accountRes, roleKeyAttr("reader")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(accountRes, acctAttr("public_key"), natsjwttest.PublicKey(natsjwt.KindAccount)),
				statecheck.ExpectKnownValue(accountRes, acctAttr("seed"), natsjwttest.Seed(natsjwt.KindAccount)),
				statecheck.ExpectKnownValue(accountRes, acctAttr("signer"), natsjwttest.Signer(natsjwt.KindAccount, "")),
				statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), natsjwttest.JWTNamed(jwt.AccountClaim, "ORDERS")),
				statecheck.ExpectKnownValue(accountRes, roleKeyAttr("reader"), natsjwttest.PublicKey(natsjwt.KindAccount)),
				statecheck.ExpectKnownValue(accountRes, acctAttr("role_signers").AtMapKey("reader"), natsjwttest.Signer(natsjwt.KindAccount, "reader")),
				statecheck.CompareValuePairs(accountRes, acctAttr("jwt"), "natsping_operator.test", acctAttr("signing_key"), natsjwttest.IssuedBy()),
				statecheck.CompareValuePairs(accountRes, acctAttr("issuer"), "natsping_operator.test", acctAttr("signing_key"), compare.ValuesSame()),
				statecheck.CompareValuePairs(accountRes, acctAttr("jwt"), accountRes, acctAttr("public_key"), natsjwttest.HasSubject()),
				statecheck.CompareValuePairs(accountRes, acctAttr("jwt"), accountRes, roleKeyAttr("reader"), natsjwttest.ListsSigningKey()),
				statecheck.CompareValuePairs(accountRes, acctAttr("jwt"), accountRes, acctAttr("signing_key"), natsjwttest.ListsSigningKey()),
				statecheck.ExpectKnownValue(accountRes, acctAttr("signer"), natsjwttest.Signer(natsjwt.KindAccount, "")),
				statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
					l := c.Limits
					if l.Conn != 100 || l.Payload != 1048576 || l.LeafNodeConn != 0 || l.Subs != jwt.NoLimit || !l.WildcardExports {
						return fmt.Errorf("limits = %+v %+v", l.AccountLimits, l.NatsLimits)
					}
					if l.IsJSEnabled() {
						return fmt.Errorf("JetStream enabled without a jetstream block")
					}
					if strings.Join(c.Tags, ",") != "env:prod,team:blue" || c.Description != "order processing" || c.Expires != 4070908800 {
						return fmt.Errorf("tags/description/expiry = %v / %q / %d", c.Tags, c.Description, c.Expires)
					}
					if strings.Join(c.DefaultPermissions.Sub.Allow, ",") != "_INBOX.>" {
						return fmt.Errorf("default permissions = %+v", c.DefaultPermissions)
					}
					if len(c.SigningKeys) != 2 {
						return fmt.Errorf("signing keys = %v, want the unscoped signing key and the reader role", c.SigningKeys.Keys())
					}
					for _, k := range c.SigningKeys.Keys() {
						scope, _ := c.SigningKeys.GetScope(k)
						if scope == nil {
							continue // the account's unscoped signing key (signer)
						}
						us, ok := scope.(*jwt.UserScope)
						if !ok || us.Role != "reader" || us.Template.Payload != 4096 || strings.Join(us.Template.Pub.Deny, ",") != ">" ||
							strings.Join(us.Template.Sub.Allow, ",") != "_INBOX.>,orders.{{tag(team)}}.>" {
							return fmt.Errorf("role scope = %+v", scope)
						}
					}
					return nil
				})),
			},
		}},
	})
}

func TestAccAccount_updateLimitsInPlace(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	config := func(conns int, bearer bool) string {
		return fmt.Sprintf(`
resource "natsping_account" "test" {
  name            = "A"
  operator_signer = %q
  roles           = [{ name = "svc" }]
  limits = {
    max_connections = %d
    disallow_bearer = %t
  }
}`, seed, conns, bearer)
	}
	// Keys must survive an in-place update; only the JWT changes.
	type kept struct {
		path tfjsonpath.Path
		same accountCollector
	}
	var keys []kept
	for _, p := range []tfjsonpath.Path{acctAttr("public_key"), acctAttr("seed"), acctAttr("signer"), roleKeyAttr("svc"), acctAttr("role_signers")} {
		keys = append(keys, kept{p, statecheck.CompareValue(compare.ValuesSame())})
	}
	jwtDiffers := statecheck.CompareValue(compare.ValuesDiffer())
	checks := func(conns int64, bearer bool) []statecheck.StateCheck {
		var out []statecheck.StateCheck
		for _, k := range keys {
			out = append(out, k.same.AddStateValue(accountRes, k.path))
		}
		return append(out,
			jwtDiffers.AddStateValue(accountRes, acctAttr("jwt")),
			statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
				if c.Limits.Conn != conns || c.Limits.DisallowBearer != bearer {
					return fmt.Errorf("conn = %d, disallow_bearer = %t; want %d, %t", c.Limits.Conn, c.Limits.DisallowBearer, conns, bearer)
				}
				return nil
			})),
		)
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config(10, false), ConfigPlanChecks: accountPlan(), ConfigStateChecks: checks(10, false)},
			{
				Config: config(20, true),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(accountRes, acctAttr("jwt")),
					plancheck.ExpectKnownValue(accountRes, roleKeyAttr("svc"), natsjwttest.PublicKey(natsjwt.KindAccount)),
				),
				ConfigStateChecks: checks(20, true),
			},
		},
	})
}

func TestAccAccount_changeOperatorSigner(t *testing.T) {
	pub1, seed1 := testAccOperatorSeed(t)
	pub2, seed2 := testAccOperatorSeed(t)
	config := func(seed string) string {
		return fmt.Sprintf(`resource "natsping_account" "test" {
  name            = "A"
  operator_signer = %q
}`, seed)
	}
	keySame := statecheck.CompareValue(compare.ValuesSame())
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(seed1),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectKnownValue(accountRes, acctAttr("issuer"), knownvalue.StringExact(pub1)),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					keySame.AddStateValue(accountRes, acctAttr("public_key")),
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						if c.Issuer != pub1 {
							return fmt.Errorf("issuer %s, want %s", c.Issuer, pub1)
						}
						return nil
					})),
				},
			},
			{
				Config: config(seed2),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(accountRes, acctAttr("issuer"), knownvalue.StringExact(pub2)),
					plancheck.ExpectUnknownValue(accountRes, acctAttr("jwt")),
					plancheck.ExpectSensitiveValue(accountRes, acctAttr("operator_signer")),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					keySame.AddStateValue(accountRes, acctAttr("public_key")),
					statecheck.ExpectKnownValue(accountRes, acctAttr("issuer"), knownvalue.StringExact(pub2)),
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						if c.Issuer != pub2 {
							return fmt.Errorf("issuer %s, want the new signer %s", c.Issuer, pub2)
						}
						return nil
					})),
				},
			},
		},
	})
}

// Permission subjects and role limits built from values not known yet (count.index while
// validating, another resource's output while planning) are checked at apply instead of
// failing the plan with a value conversion error.
func TestAccAccount_permissionsUnknownWhilePlanning(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	config := fmt.Sprintf(`
locals { teams = ["blue"] }
resource "terraform_data" "team" { input = "green" }
resource "terraform_data" "net" { input = "10.0.0.0/8" }
resource "natsping_account" "test" {
  count           = length(local.teams)
  name            = "A"
  operator_signer = %q
  default_permissions = {
    sub_allow = ["_INBOX.${local.teams[count.index]}.>"]
    response  = terraform_data.team.output == "" ? null : { max_msgs = 2 }
  }
  roles = [{
    name            = "reader"
    permissions     = { sub_allow = ["orders.${local.teams[count.index]}.>", "orders.${terraform_data.team.output}.>"] }
    source_networks = [terraform_data.net.output]
  }]
}`, seed)
	const res = "natsping_account.test[0]"
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: accountPlan(
				plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate),
				plancheck.ExpectUnknownValue(res, acctAttr("jwt")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
					if got := c.DefaultPermissions.Sub.Allow; len(got) != 1 || got[0] != "_INBOX.blue.>" {
						return fmt.Errorf("default sub allow = %v, want [_INBOX.blue.>]", got)
					}
					if c.DefaultPermissions.Resp == nil || c.DefaultPermissions.Resp.MaxMsgs != 2 {
						return fmt.Errorf("default response permission = %+v, want max_msgs 2", c.DefaultPermissions.Resp)
					}
					for _, k := range c.SigningKeys.Keys() {
						scope, _ := c.SigningKeys.GetScope(k)
						us, ok := scope.(*jwt.UserScope)
						if !ok {
							continue
						}
						allow := strings.Join(us.Template.Sub.Allow, ",")
						if !strings.Contains(allow, "orders.blue.>") || !strings.Contains(allow, "orders.green.>") {
							return fmt.Errorf("role template sub allow = %v", us.Template.Sub.Allow)
						}
						if src := strings.Join(us.Template.Src, ","); src != "10.0.0.0/8" {
							return fmt.Errorf("role source networks = %q", src)
						}
						return nil
					}
					return fmt.Errorf("no role in the account JWT")
				})),
			},
		}},
	})
}

func TestAccAccount_roles(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	config := func(roles ...string) string {
		var b strings.Builder
		for _, r := range roles {
			fmt.Fprintf(&b, "    { name = %q, permissions = { pub_allow = [\"%s.>\"] } },\n", r, r)
		}
		return fmt.Sprintf(`resource "natsping_account" "test" {
  name            = "A"
  operator_signer = %q
  roles = [
%s  ]
}`, seed, b.String())
	}
	readerSame := statecheck.CompareValue(compare.ValuesSame())
	writerSame := statecheck.CompareValue(compare.ValuesSame())
	auditorSame := statecheck.CompareValue(compare.ValuesSame())
	scopes := func(want ...string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
			var got []string
			for _, k := range c.SigningKeys.Keys() {
				scope, _ := c.SigningKeys.GetScope(k)
				if us, ok := scope.(*jwt.UserScope); ok {
					got = append(got, us.Role)
				}
			}
			if len(got) != len(want) {
				return fmt.Errorf("JWT roles = %v, want %v", got, want)
			}
			return nil
		}))
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           config("reader", "writer"),
				ConfigPlanChecks: accountPlan(),
				ConfigStateChecks: []statecheck.StateCheck{
					readerSame.AddStateValue(accountRes, roleKeyAttr("reader")),
					writerSame.AddStateValue(accountRes, roleKeyAttr("writer")),
					scopes("reader", "writer"),
				},
			},
			{
				// Adding a role (first in the list) keeps the other keys and adds one.
				Config: config("auditor", "reader", "writer"),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(accountRes, roleKeyAttr("auditor")),
					plancheck.ExpectKnownValue(accountRes, roleKeyAttr("reader"), natsjwttest.PublicKey(natsjwt.KindAccount)),
					plancheck.ExpectKnownValue(accountRes, roleKeyAttr("writer"), natsjwttest.PublicKey(natsjwt.KindAccount)),
					plancheck.ExpectUnknownValue(accountRes, acctAttr("jwt")),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					readerSame.AddStateValue(accountRes, roleKeyAttr("reader")),
					writerSame.AddStateValue(accountRes, roleKeyAttr("writer")),
					auditorSame.AddStateValue(accountRes, roleKeyAttr("auditor")),
					statecheck.ExpectKnownValue(accountRes, roleKeyAttr("auditor"), natsjwttest.PublicKey(natsjwt.KindAccount)),
					statecheck.CompareValuePairs(accountRes, acctAttr("jwt"), accountRes, roleKeyAttr("auditor"), natsjwttest.ListsSigningKey()),
					scopes("auditor", "reader", "writer"),
				},
			},
			{
				// Removing a role drops its key; the others stay.
				Config: config("auditor", "reader"),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(accountRes, acctAttr("role_keys"), knownvalue.MapSizeExact(2)),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					readerSame.AddStateValue(accountRes, roleKeyAttr("reader")),
					auditorSame.AddStateValue(accountRes, roleKeyAttr("auditor")),
					statecheck.ExpectKnownValue(accountRes, acctAttr("role_signers"), knownvalue.MapSizeExact(2)),
					scopes("auditor", "reader"),
				},
			},
		},
	})
}

func TestAccAccount_jetStreamTiers(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	tiered := fmt.Sprintf(`resource "natsping_account" "test" {
  name            = "JS"
  operator_signer = %q
  jetstream = {
    tiers = {
      R1 = { disk_storage = 1073741824, memory_storage = 0, max_streams = 10 }
      R3 = { disk_storage = 536870912, max_bytes_required = true }
    }
  }
}`, seed)
	untiered := fmt.Sprintf(`resource "natsping_account" "test" {
  name            = "JS"
  operator_signer = %q
  jetstream       = { disk_storage = 2048, max_consumers = 5 }
}`, seed)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           tiered,
				ConfigPlanChecks: accountPlan(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						r1, r3 := c.Limits.JetStreamTieredLimits["R1"], c.Limits.JetStreamTieredLimits["R3"]
						if !c.Limits.IsJSEnabled() || len(c.Limits.JetStreamTieredLimits) != 2 ||
							r1.DiskStorage != 1<<30 || r1.MemoryStorage != 0 || r1.Streams != 10 ||
							r3.DiskStorage != 1<<29 || r3.MemoryStorage != jwt.NoLimit || !r3.MaxBytesRequired ||
							(c.Limits.JetStreamLimits != jwt.JetStreamLimits{}) {
							return fmt.Errorf("JetStream limits = %+v, tiers = %+v", c.Limits.JetStreamLimits, c.Limits.JetStreamTieredLimits)
						}
						return nil
					})),
				},
			},
			{
				Config: untiered,
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						l := c.Limits
						if len(l.JetStreamTieredLimits) != 0 || l.DiskStorage != 2048 || l.Consumer != 5 || l.MemoryStorage != jwt.NoLimit {
							return fmt.Errorf("JetStream limits = %+v, tiers = %+v", l.JetStreamLimits, l.JetStreamTieredLimits)
						}
						return nil
					})),
				},
			},
		},
	})
}

func TestAccAccount_authorization(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	calloutUser := testAccPub(t, natsjwt.KindUser)
	xkey := testAccPub(t, natsjwt.KindCurve)
	config := fmt.Sprintf(`
resource "natsping_account" "target" {
  name            = "TARGET"
  operator_signer = %[1]q
}

resource "natsping_account" "test" {
  name            = "AUTH"
  operator_signer = %[1]q
  authorization = {
    auth_users       = [%[2]q]
    allowed_accounts = [natsping_account.target.public_key]
    xkey             = %[3]q
  }
}`, seed, calloutUser, xkey)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           config,
			ConfigPlanChecks: accountPlan(),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
					a := c.Authorization
					if !c.HasExternalAuthorization() || len(a.AuthUsers) != 1 || a.AuthUsers[0] != calloutUser || a.XKey != xkey || len(a.AllowedAccounts) != 1 {
						return fmt.Errorf("authorization = %+v", a)
					}
					return nil
				})),
				statecheck.CompareValuePairs(accountRes, acctAttr("authorization").AtMapKey("allowed_accounts").AtSliceIndex(0),
					"natsping_account.target", acctAttr("public_key"), compare.ValuesSame()),
			},
		}},
	})
}

func TestAccAccount_exportsAndImports(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	config := func(exporterDescription string) string {
		return fmt.Sprintf(`
resource "natsping_account" "exporter" {
  name            = "ORDERS"
  description     = %[2]q
  operator_signer = %[1]q
  exports = [
    { type = "stream", subject = "orders.events.>", name = "events", advertise = true },
    { type = "service", subject = "orders.get", token_required = true, response_type = "Singleton", response_threshold = "2s" },
  ]
}

resource "natsping_account" "test" {
  name            = "SHOP"
  operator_signer = %[1]q
  imports = [
    { type = "stream", subject = "orders.events.>", account = natsping_account.exporter.public_key, local_subject = "ext.orders.>" },
    { type = "service", subject = "orders.get", account = natsping_account.exporter.public_key, activation_signer = natsping_account.exporter.signer },
  ]
}`, seed, exporterDescription)
	}
	const exporter = "natsping_account.exporter"
	var exporterPub string
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           config("v1"),
				ConfigPlanChecks: accountPlan(plancheck.ExpectSensitiveValue(accountRes, acctAttr("imports").AtSliceIndex(1).AtMapKey("activation_signer"))),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(exporter, acctAttr("public_key"), knownvalue.StringFunc(func(v string) error { exporterPub = v; return nil })),
					statecheck.ExpectKnownValue(exporter, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						// Sorted by subject: "orders.events.>" before "orders.get".
						if len(c.Exports) != 2 || !c.Exports[1].IsService() || !c.Exports[1].TokenReq || c.Exports[1].ResponseThreshold != 2*time.Second ||
							c.Exports[1].ResponseType != jwt.ResponseTypeSingleton || !c.Exports[0].IsStream() || c.Exports[0].Name != "events" || !c.Exports[0].Advertise {
							return fmt.Errorf("exports = %+v %+v", *c.Exports[0], *c.Exports[1])
						}
						return nil
					})),
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						if len(c.Imports) != 2 {
							return fmt.Errorf("imports = %d, want 2", len(c.Imports))
						}
						stream, svc := c.Imports[0], c.Imports[1]
						if !stream.IsStream() || stream.Account != exporterPub || stream.LocalSubject != "ext.orders.>" || stream.Token != "" {
							return fmt.Errorf("stream import = %+v", *stream)
						}
						act, err := jwt.DecodeActivationClaims(svc.Token)
						if err != nil {
							return fmt.Errorf("service import token: %w", err)
						}
						if !svc.IsService() || (act.Issuer != exporterPub && act.IssuerAccount != exporterPub) || act.Subject != c.Subject || act.ImportSubject != "orders.get" {
							return fmt.Errorf("service import = %+v, activation = %s", *svc, act)
						}
						return nil
					})),
				},
			},
			{
				// The importer only uses keys of the exporter, so re-signing the exporter leaves it alone.
				Config: config("v2"),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(exporter, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionNoop),
				),
			},
		},
	})
}

package provider

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwttest"
)

const testOperator = "natsping_operator.test"

// testClock is a provider clock that tests move forward between steps, so time-driven
// behaviour (grace periods, expiry checks) is tested without waiting.
type testClock struct{ unix atomic.Int64 }

func newTestClock(start time.Time) *testClock {
	c := &testClock{}
	c.unix.Store(start.Unix())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(c.unix.Load(), 0).UTC() }
func (c *testClock) Advance(d time.Duration) { c.unix.Add(int64(d / time.Second)) }
func (c *testClock) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"natsping": providerserver.NewProtocol6WithError(&natspingProvider{version: "test", now: c.Now}),
	}
}

// compareValueCollector is what statecheck.CompareValue returns (its type is unexported).
type compareValueCollector interface {
	AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
}

func opAttr(name string) tfjsonpath.Path { return tfjsonpath.New(name) }

func TestAccOperator_createAndUpdateInPlace(t *testing.T) {
	same := map[string]compareValueCollector{}
	for _, a := range []string{"public_key", "seed", "signing_key", "signer", "system_account_public_key", "system_account_signer", "system_user_public_key", "system_account_jwt"} {
		same[a] = statecheck.CompareValue(compare.ValuesSame())
	}
	jwtChanges := statecheck.CompareValue(compare.ValuesDiffer())
	credsChange := statecheck.CompareValue(compare.ValuesDiffer())
	step := func(extra ...statecheck.StateCheck) []statecheck.StateCheck {
		var out []statecheck.StateCheck
		for a, c := range same {
			out = append(out, c.AddStateValue(testOperator, opAttr(a)))
		}
		return append(out, extra...)
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `resource "natsping_operator" "test" { name = "acme" }`,
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionCreate),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("seed")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("signing_key_seed")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("signer")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("system_account_seed")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("system_account_signer")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("system_user_seed")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("system_user_creds")),
				),
				ConfigStateChecks: step(
					statecheck.ExpectKnownValue(testOperator, opAttr("public_key"), natsjwttest.PublicKey(natsjwt.KindOperator)),
					statecheck.ExpectKnownValue(testOperator, opAttr("seed"), natsjwttest.Seed(natsjwt.KindOperator)),
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), natsjwttest.PublicKey(natsjwt.KindOperator)),
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key_seed"), natsjwttest.Seed(natsjwt.KindOperator)),
					statecheck.ExpectKnownValue(testOperator, opAttr("signer"), natsjwttest.Signer(natsjwt.KindOperator, "")),
					statecheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testOperator, opAttr("strict_signing_keys"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testOperator, opAttr("system_account_name"), knownvalue.StringExact("SYS")),
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), natsjwttest.JWTNamed(jwt.OperatorClaim, "acme")),
					statecheck.ExpectKnownValue(testOperator, opAttr("system_account_jwt"), natsjwttest.JWTNamed(jwt.AccountClaim, "SYS")),
					statecheck.ExpectKnownValue(testOperator, opAttr("system_account_seed"), natsjwttest.Seed(natsjwt.KindAccount)),
					statecheck.ExpectKnownValue(testOperator, opAttr("system_account_signer"), natsjwttest.Signer(natsjwt.KindAccount, "")),
					statecheck.ExpectKnownValue(testOperator, opAttr("system_user_creds"), natsjwttest.Creds()),
					statecheck.CompareValuePairs(testOperator, opAttr("jwt"), testOperator, opAttr("public_key"), natsjwttest.IssuedBy()),
					statecheck.CompareValuePairs(testOperator, opAttr("jwt"), testOperator, opAttr("signing_key"), natsjwttest.ListsSigningKey()),
					statecheck.CompareValuePairs(testOperator, opAttr("system_account_jwt"), testOperator, opAttr("signing_key"), natsjwttest.IssuedBy()),
					statecheck.CompareValuePairs(testOperator, opAttr("system_account_jwt"), testOperator, opAttr("system_account_public_key"), natsjwttest.HasSubject()),
					statecheck.CompareValuePairs(testOperator, opAttr("system_account_jwt"), testOperator, opAttr("system_account_signing_key"), natsjwttest.ListsSigningKey()),
					statecheck.CompareValuePairs(testOperator, opAttr("system_user_creds"), testOperator, opAttr("system_user_public_key"), natsjwttest.CredsFor()),
					jwtChanges.AddStateValue(testOperator, opAttr("jwt")),
					credsChange.AddStateValue(testOperator, opAttr("system_user_creds")),
				),
			},
			{
				Config: `resource "natsping_operator" "test" {
  name                  = "acme-renamed"
  strict_signing_keys   = false
  account_server_url    = "https://accounts.example.com/jwt/v1"
  operator_service_urls = ["tls://nats.example.com:4222", "wss://nats.example.com:443"]
  tags                  = ["env:prod"]
  expires_at            = "2099-01-01T00:00:00Z"
  system_user_name      = "admin"
}`,
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(testOperator, opAttr("jwt")),
					plancheck.ExpectUnknownValue(testOperator, opAttr("system_user_creds")),
					plancheck.ExpectKnownValue(testOperator, opAttr("signing_key"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(testOperator, opAttr("system_account_jwt"), knownvalue.NotNull()),
				),
				ConfigStateChecks: step(
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), natsjwttest.JWTNamed(jwt.OperatorClaim, "acme-renamed")),
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), operatorClaims(func(c *jwt.OperatorClaims) error {
						if c.StrictSigningKeyUsage || c.AccountServerURL != "https://accounts.example.com/jwt/v1" ||
							len(c.OperatorServiceURLs) != 2 || !c.Tags.Contains("env:prod") || c.Expires != 4070908800 {
							return fmt.Errorf("operator claims not updated: %+v", c.Operator)
						}
						return nil
					})),
					jwtChanges.AddStateValue(testOperator, opAttr("jwt")),
					credsChange.AddStateValue(testOperator, opAttr("system_user_creds")),
					statecheck.ExpectKnownValue(testOperator, opAttr("system_user_creds"), natsjwttest.Creds()),
				),
			},
		},
	})
}

// planChecks runs the given checks before apply and, after every apply, requires the next
// plan to be empty: refresh must never re-sign anything.
func planChecks(preApply ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{
		PreApply:             preApply,
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
}

func operatorClaims(check func(*jwt.OperatorClaims) error) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		c, err := jwt.DecodeOperatorClaims(v)
		if err != nil {
			return err
		}
		return check(c)
	})
}

// captured remembers a value seen in one step for a check in a later one.
type captured struct{ v string }

func (c *captured) store() knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error { c.v = v; return nil })
}

func (c *captured) equals() knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		if v != c.v {
			return fmt.Errorf("got %s, want the value of the earlier step %s", v, c.v)
		}
		return nil
	})
}

// storeOther captures a value that must differ from an earlier one (a rotated key).
func (c *captured) storeOther(earlier *captured) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		if v == earlier.v {
			return fmt.Errorf("got %s again, want a new value", v)
		}
		c.v = v
		return nil
	})
}

// signerOf checks that a signer string signs with the captured public key.
func (c *captured) signerOf() knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error { return signerKeyComparer{}.CompareValues(v, c.v) })
}

func (c *captured) notListedIn() knownvalue.Check {
	return operatorClaims(func(oc *jwt.OperatorClaims) error {
		if oc.SigningKeys.Contains(c.v) {
			return fmt.Errorf("signing keys %v still list %s", oc.SigningKeys, c.v)
		}
		return nil
	})
}

func (c *captured) listedIn() knownvalue.Check {
	return operatorClaims(func(oc *jwt.OperatorClaims) error {
		if !oc.SigningKeys.Contains(c.v) {
			return fmt.Errorf("signing keys %v do not list %s", oc.SigningKeys, c.v)
		}
		return nil
	})
}

func TestAccOperator_signingKeyRotation(t *testing.T) {
	clock := newTestClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	config := func(gen string) string {
		return fmt.Sprintf(`resource "natsping_operator" "test" {
  name                     = "acme"
  signing_key_rotation     = { generation = %q }
  signing_key_grace_period = "1h"
}`, gen)
	}
	first, second, third := &captured{}, &captured{}, &captured{}
	identity := statecheck.CompareValue(compare.ValuesSame())
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factories(),
		Steps: []resource.TestStep{
			{
				Config:           config("1"),
				ConfigPlanChecks: planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), first.store()),
					identity.AddStateValue(testOperator, opAttr("public_key")),
				},
			},
			{
				// A plan of the rotation on its own names the new key; it was prepared by the
				// last apply, not made up per plan, so every later plan shows the same key.
				Config:             config("2"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(testOperator, opAttr("signing_key"), second.storeOther(first)),
				}},
			},
			{
				// The rotation: the plan names that key again (seed and signer sensitive), the
				// apply signs with exactly that key, and the old key stays listed.
				Config: config("2"),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testOperator, opAttr("signing_key"), second.equals()),
					plancheck.ExpectKnownValue(testOperator, opAttr("signer"), second.signerOf()),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("signer")),
					plancheck.ExpectSensitiveValue(testOperator, opAttr("signing_key_seed")),
					plancheck.ExpectUnknownValue(testOperator, opAttr("system_account_jwt")),
					plancheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), first.equals()),
					plancheck.ExpectKnownValue(testOperator, opAttr("public_key"), knownvalue.NotNull()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					identity.AddStateValue(testOperator, opAttr("public_key")),
					statecheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), first.equals()),
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), first.listedIn()),
					statecheck.CompareValuePairs(testOperator, opAttr("jwt"), testOperator, opAttr("signing_key"), natsjwttest.ListsSigningKey()),
					statecheck.CompareValuePairs(testOperator, opAttr("jwt"), testOperator, opAttr("previous_signing_key"), natsjwttest.ListsSigningKey()),
					statecheck.CompareValuePairs(testOperator, opAttr("system_account_jwt"), testOperator, opAttr("signing_key"), natsjwttest.IssuedBy()),
					statecheck.CompareValuePairs(testOperator, opAttr("signer"), testOperator, opAttr("signing_key"), signerKey()),
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), second.equals()),
				},
			},
			{
				// The grace period is over: time alone plans an update that drops the old key.
				PreConfig: func() { clock.Advance(2 * time.Hour) },
				Config:    config("2"),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), knownvalue.Null()),
					plancheck.ExpectUnknownValue(testOperator, opAttr("jwt")),
					plancheck.ExpectKnownValue(testOperator, opAttr("signer"), knownvalue.NotNull()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					identity.AddStateValue(testOperator, opAttr("public_key")),
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), first.notListedIn()),
					statecheck.CompareValuePairs(testOperator, opAttr("jwt"), testOperator, opAttr("signing_key"), natsjwttest.ListsSigningKey()),
				},
			},
			{
				// A rotation with no grace period drops the old key at once.
				Config: `resource "natsping_operator" "test" {
  name                     = "acme"
  signing_key_rotation     = { generation = "3" }
  signing_key_grace_period = "0s"
}`,
				ConfigPlanChecks: planChecks(
					plancheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), knownvalue.Null()),
					plancheck.ExpectKnownValue(testOperator, opAttr("signing_key"), third.storeOther(second)),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					identity.AddStateValue(testOperator, opAttr("public_key")),
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), third.equals()),
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), operatorClaims(func(c *jwt.OperatorClaims) error {
						if len(c.SigningKeys) != 1 {
							return fmt.Errorf("signing keys = %v, want only the new key", c.SigningKeys)
						}
						return nil
					})),
				},
			},
		},
	})
}

// signerKey checks that a signer string (value 1) signs with the public key in value 2.
func signerKey() compare.ValueComparer { return signerKeyComparer{} }

type signerKeyComparer struct{}

func (signerKeyComparer) CompareValues(values ...any) error {
	s, _ := values[0].(string)
	signer, err := natsjwt.ParseSigner(s, natsjwt.KindOperator)
	if err != nil {
		return err
	}
	if signer.PublicKey != values[1] {
		return fmt.Errorf("signer signs with %s, want %v", signer.PublicKey, values[1])
	}
	return nil
}

// Keepers and a grace period that are only known at apply (outputs of other resources) must
// leave every value they decide unknown in the plan: Terraform rejects a final plan that
// changes a value the first plan promised ("Provider produced inconsistent final plan").
func TestAccOperator_rotationInputsUnknownWhilePlanning(t *testing.T) {
	config := func(gen, grace string) string {
		return fmt.Sprintf(`
resource "terraform_data" "keepers" { input = { generation = %q } }
resource "terraform_data" "grace" { input = %q }
resource "natsping_operator" "test" {
  name                     = "acme"
  signing_key_rotation     = terraform_data.keepers.output
  signing_key_grace_period = terraform_data.grace.output
}`, gen, grace)
	}
	first, second := &captured{}, &captured{}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            config("1", "1h"),
				ConfigPlanChecks:  planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), first.store())},
			},
			{
				// Whole keepers map and grace period unknown: rotation and grace decided at apply.
				Config: config("2", "2h"),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(testOperator, opAttr("signing_key")),
					plancheck.ExpectUnknownValue(testOperator, opAttr("previous_signing_key")),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), first.equals()),
					statecheck.ExpectKnownValue(testOperator, opAttr("jwt"), first.listedIn()),
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), second.store()),
				},
			},
			{
				// Only the grace period unknown, while the previous key is still listed.
				Config: config("2", "3h"),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testOperator, opAttr("signing_key"), second.equals()),
					plancheck.ExpectUnknownValue(testOperator, opAttr("previous_signing_key")),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), second.equals()),
					statecheck.ExpectKnownValue(testOperator, opAttr("previous_signing_key"), first.equals()),
				},
			},
		},
	})
}

func TestAccOperator_import(t *testing.T) {
	keys := []string{"public_key", "signing_key", "system_account_public_key", "system_account_signing_key", "system_user_public_key"}
	seen := map[string]*captured{}
	var store []statecheck.StateCheck
	var plannedKeys []plancheck.PlanCheck
	for _, k := range keys {
		seen[k] = &captured{}
		store = append(store, statecheck.ExpectKnownValue(testOperator, opAttr(k), seen[k].store()))
		plannedKeys = append(plannedKeys, plancheck.ExpectKnownValue(testOperator, opAttr(k), seen[k].equals()))
	}
	config := `resource "natsping_operator" "test" {
  name                = "acme"
  system_account_name = "SYSTEM"
}`
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, ConfigStateChecks: store, ConfigPlanChecks: planChecks()},
			{
				// terraform import: every key is adopted as given.
				ResourceName:      testOperator,
				ImportState:       true,
				ImportStateIdFunc: operatorImportID,
				ImportStateVerify: true,
				// Inputs and JWTs are not part of an import: the next apply signs them.
				ImportStateVerifyIgnore: []string{"name", "strict_signing_keys", "system_account_name", "system_user_name",
					"signing_key_grace_period", "signing_key_created_at", "jwt", "system_account_jwt", "system_user_creds"},
			},
			{
				// An import block: the plan adopts the keys and signs in place, never replaces.
				ResourceName:       testOperator,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ImportStateIdFunc:  operatorImportID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: append(plannedKeys,
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(testOperator, opAttr("jwt")),
					plancheck.ExpectUnknownValue(testOperator, opAttr("system_account_jwt")),
					plancheck.ExpectUnknownValue(testOperator, opAttr("system_user_creds")),
				)},
			},
		},
	})
}

func TestOperatorImportIDErrors(t *testing.T) {
	t.Parallel()
	_, opSeed, _ := natsjwt.NewKey(natsjwt.KindOperator)
	_, accSeed, _ := natsjwt.NewKey(natsjwt.KindAccount)
	_, userSeed, _ := natsjwt.NewKey(natsjwt.KindUser)
	tests := []struct{ name, id, want string }{
		{"account seed first", accSeed, "the first part must be the operator identity seed"},
		{"public key", "ODUMMY", "the first part must be the operator identity seed"},
		{"three account seeds", strings.Join([]string{opSeed, accSeed, accSeed, accSeed}, ","), "part 4 is not an expected seed"},
		{"two user seeds", strings.Join([]string{opSeed, userSeed, userSeed}, ","), "part 3 is not an expected seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := operatorFromImportID(tt.id, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			for _, seed := range []string{opSeed, accSeed, userSeed} {
				if strings.Contains(err.Error(), seed) {
					t.Fatal("the error leaks a seed")
				}
			}
		})
	}
	m, err := operatorFromImportID(opSeed, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if m.SigningKey.IsNull() || m.SystemAccountPublicKey.IsNull() || m.SystemUserSeed.IsNull() {
		t.Error("keys not given in the import ID must be generated")
	}
}

// operatorImportID builds the import ID from the state, as a user would from nsc's keystore.
func operatorImportID(s *terraform.State) (string, error) {
	rs, ok := s.RootModule().Resources[testOperator]
	if !ok {
		return "", fmt.Errorf("%s not in state", testOperator)
	}
	a := rs.Primary.Attributes
	sysSK, err := natsjwt.ParseSigner(a["system_account_signer"], natsjwt.KindAccount)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{a["seed"], a["signing_key_seed"], a["system_account_seed"], sysSK.Seed, a["system_user_seed"]}, ","), nil
}

func TestAccOperator_invalidInputs(t *testing.T) {
	clock := newTestClock(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name, attrs string
		want        *regexp.Regexp
	}{
		{"http service url", `operator_service_urls = ["http://nats.example.com:4222"]`, regexp.MustCompile(`(?s)operator_service_urls.*use one of nats://, tls://`)},
		{"service url with credentials", `operator_service_urls = ["nats://u:pw@nats.example.com:4222"]`, regexp.MustCompile(`carries credentials`)},
		{"nats account server url", `account_server_url = "nats://accounts.example.com"`, regexp.MustCompile(`(?s)account_server_url.*http:// or\s+https://`)},
		{"expired", `expires_at = "2030-05-31T00:00:00Z"`, regexp.MustCompile(`(?s)Expiry in the past.*2030-05-31T00:00:00Z is not in the future`)},
		{"malformed expiry", `expires_at = "next year"`, regexp.MustCompile(`not valid RFC3339`)},
		{"bad grace period", `signing_key_grace_period = "a day"`, regexp.MustCompile(`not a duration`)},
		{"blank system account name", `system_account_name = " "`, regexp.MustCompile(`must not be empty or blank`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: clock.factories(),
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf("resource \"natsping_operator\" \"test\" {\n  name = \"acme\"\n  %s\n}", tt.attrs),
					PlanOnly:    true,
					ExpectError: tt.want,
				}},
			})
		})
	}
}

// TestAccOperator_rotationResignsAccounts shows the rotation story end to end: the
// account signed with the operator signer is re-signed in the same plan, and a user signed
// by the account's role is left alone.
func TestAccOperator_rotationResignsAccounts(t *testing.T) {
	const account, user = "natsping_account.test", "natsping_user.test"
	config := func(gen string) string {
		return fmt.Sprintf(`
resource "natsping_operator" "test" {
  name                 = "acme"
  signing_key_rotation = { generation = %q }
}
resource "natsping_account" "test" {
  name            = "ORDERS"
  operator_signer = natsping_operator.test.signer
  roles = [{
    name        = "readers"
    permissions = { sub_allow = ["orders.{{tag(team)}}.>"] }
  }]
}
resource "natsping_user" "test" {
  name   = "carol"
  signer = natsping_account.test.role_signers["readers"]
  tags   = ["team:blue"]
}`, gen)
	}
	issuedByCurrent := statecheck.CompareValuePairs(account, opAttr("jwt"), testOperator, opAttr("signing_key"), natsjwttest.IssuedBy())
	first, next := &captured{}, &captured{}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config("1"), ConfigPlanChecks: planChecks(), ConfigStateChecks: []statecheck.StateCheck{
				issuedByCurrent, statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), first.store()),
			}},
			{
				// The review shows which key the accounts will be signed with.
				Config: config("2"),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testOperator, opAttr("signing_key"), next.storeOther(first)),
					plancheck.ExpectResourceAction(account, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(account, opAttr("issuer"), next.equals()),
					plancheck.ExpectUnknownValue(account, opAttr("jwt")),
					plancheck.ExpectResourceAction(user, plancheck.ResourceActionNoop),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					issuedByCurrent,
					statecheck.ExpectKnownValue(testOperator, opAttr("signing_key"), next.equals()),
					statecheck.CompareValuePairs(account, opAttr("issuer"), testOperator, opAttr("signing_key"), compare.ValuesSame()),
					statecheck.CompareValuePairs(testOperator, opAttr("jwt"), testOperator, opAttr("previous_signing_key"), natsjwttest.ListsSigningKey()),
				},
			},
		},
	})
}

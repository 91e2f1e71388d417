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
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

const rotAccount = "natsping_account.orders"

// rotationAccountConfig is an account whose reader role key and signing key rotate.
func rotationAccountConfig(roleRotation, signingRotation string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "test" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.test.signer
  roles = [
    { name = "reader", permissions = { sub_allow = ["orders.>"] }, key_rotation = %s },
    { name = "writer", permissions = { pub_allow = ["orders.>"] } },
  ]
  signing_key_rotation = %s
}
`, roleRotation, signingRotation)
}

func roleStatus(name string) tfjsonpath.Path {
	return tfjsonpath.New("role_key_rotations").AtMapKey("reader").AtMapKey(name)
}

func signingStatus(name string) tfjsonpath.Path {
	return tfjsonpath.New("signing_key_rotation_status").AtMapKey(name)
}

// scopedWithReaderTemplate checks that every captured key is a scoped key of the reader role
// with the role's template, and that none of gone is listed.
func scopedWithReaderTemplate(keys []*captured, gone ...*captured) knownvalue.Check {
	return accountClaims(func(c *jwt.AccountClaims) error {
		for _, k := range keys {
			scope, ok := c.SigningKeys.GetScope(k.v)
			us, isUser := scope.(*jwt.UserScope)
			if !ok || !isUser || us.Role != "reader" || len(us.Template.Sub.Allow) != 1 || us.Template.Sub.Allow[0] != "orders.>" {
				return fmt.Errorf("key %s: scope %+v, want the reader template", k.v, scope)
			}
		}
		for _, k := range gone {
			if _, listed := c.SigningKeys[k.v]; listed {
				return fmt.Errorf("key %s is still listed", k.v)
			}
		}
		return nil
	})
}

func listsKeys(keys []*captured, gone ...*captured) knownvalue.Check {
	return accountClaims(func(c *jwt.AccountClaims) error {
		for _, k := range keys {
			if _, ok := c.SigningKeys[k.v]; !ok {
				return fmt.Errorf("signing keys do not list %s", k.v)
			}
		}
		for _, k := range gone {
			if _, ok := c.SigningKeys[k.v]; ok {
				return fmt.Errorf("key %s is still listed", k.v)
			}
		}
		return nil
	})
}

func signerRotation(period, grace time.Duration) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		s, err := natsjwt.ParseSigner(v, natsjwt.KindAccount)
		if err != nil {
			return err
		}
		if s.Rotation == nil || s.Rotation.Period != period || s.Rotation.Grace != grace {
			return fmt.Errorf("signer rotation = %+v, want %s/%s", s.Rotation, period, grace)
		}
		return nil
	})
}

// TestAccAccount_roleKeyRotation walks a role key through its schedule on the provider's
// clock: the successor is listed from the start, the period rotates to it (the plan names
// it), the old key stays with the same template through the grace, the first plan after the
// grace drops it, and an emergency rotation drops the old key at once.
func TestAccAccount_roleKeyRotation(t *testing.T) {
	clock := newTestClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	rot := func(extra string) string {
		return `{ period = "48h", grace_period = "2h"` + extra + ` }`
	}
	k1, n1, n2, k3 := &captured{}, &captured{}, &captured{}, &captured{}
	s1, sn1 := &captured{}, &captured{}
	writer := statecheck.CompareValue(compare.ValuesSame())
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factories(),
		Steps: []resource.TestStep{
			{
				Config:           rotationAccountConfig(rot(""), `{ keepers = { generation = "1" } }`),
				ConfigPlanChecks: planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("role_keys").AtMapKey("reader"), k1.store()),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("key"), k1.equals()),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("next_key"), n1.storeOther(k1)),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("created_at"), knownvalue.StringExact("2030-01-01T00:00:00Z")),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("next_rotation_at"), knownvalue.StringExact("2030-01-03T00:00:00Z")),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("previous_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("jwt"), scopedWithReaderTemplate([]*captured{k1, n1})),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("role_signers").AtMapKey("reader"), signerRotation(48*time.Hour, 2*time.Hour)),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("signing_key"), s1.store()),
					statecheck.ExpectKnownValue(rotAccount, signingStatus("next_key"), sn1.storeOther(s1)),
					statecheck.ExpectKnownValue(rotAccount, signingStatus("next_rotation_at"), knownvalue.Null()),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("jwt"), listsKeys([]*captured{s1, sn1})),
					writer.AddStateValue(rotAccount, tfjsonpath.New("role_signers").AtMapKey("writer")),
				},
			},
			{
				// One hour before the period ends nothing is due (a plan-only step fails on any change).
				PreConfig: func() { clock.Advance(47 * time.Hour) },
				Config:    rotationAccountConfig(rot(""), `{ keepers = { generation = "1" } }`),
				PlanOnly:  true,
			},
			{
				// The period has ended: time alone plans the rotation, naming the prepared key.
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    rotationAccountConfig(rot(""), `{ keepers = { generation = "1" } }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(rotAccount, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(rotAccount, tfjsonpath.New("role_keys").AtMapKey("reader"), n1.equals()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("key"), n1.equals()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("previous_key"), k1.equals()),
					plancheck.ExpectUnknownValue(rotAccount, roleStatus("next_key")),
					plancheck.ExpectUnknownValue(rotAccount, roleStatus("next_rotation_at")),
					plancheck.ExpectUnknownValue(rotAccount, tfjsonpath.New("jwt")),
					plancheck.ExpectKnownValue(rotAccount, tfjsonpath.New("signing_key"), s1.equals()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("role_keys").AtMapKey("reader"), n1.equals()),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("next_key"), n2.storeOther(n1)),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("created_at"), knownvalue.StringExact("2030-01-03T00:00:00Z")),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("next_rotation_at"), knownvalue.StringExact("2030-01-05T00:00:00Z")),
					statecheck.ExpectKnownValue(rotAccount, roleStatus("previous_key_dropped_at"), knownvalue.StringExact("2030-01-03T02:00:00Z")),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("jwt"), scopedWithReaderTemplate([]*captured{k1, n1, n2})),
					writer.AddStateValue(rotAccount, tfjsonpath.New("role_signers").AtMapKey("writer")),
				},
			},
			{
				// Within the grace the old key stays.
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    rotationAccountConfig(rot(""), `{ keepers = { generation = "1" } }`),
				PlanOnly:  true,
			},
			{
				// The grace is over: the next plan drops the old key and nothing else.
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    rotationAccountConfig(rot(""), `{ keepers = { generation = "1" } }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(rotAccount, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("previous_key"), knownvalue.Null()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("previous_key_dropped_at"), knownvalue.Null()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("key"), n1.equals()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("next_key"), n2.equals()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("next_rotation_at"), knownvalue.StringExact("2030-01-05T00:00:00Z")),
					plancheck.ExpectUnknownValue(rotAccount, tfjsonpath.New("jwt")),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("jwt"), scopedWithReaderTemplate([]*captured{n1, n2}, k1)),
				},
			},
			{
				// Emergency with a keeper change of the signing key and an early role rotation:
				// both old keys are dropped at once.
				Config: rotationAccountConfig(rot(`, emergency = true, keepers = { incident = "42" }`), `{ keepers = { generation = "2" }, emergency = true }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectKnownValue(rotAccount, tfjsonpath.New("role_keys").AtMapKey("reader"), n2.equals()),
					plancheck.ExpectKnownValue(rotAccount, roleStatus("previous_key"), knownvalue.Null()),
					plancheck.ExpectKnownValue(rotAccount, tfjsonpath.New("signing_key"), sn1.equals()),
					plancheck.ExpectKnownValue(rotAccount, signingStatus("previous_key"), knownvalue.Null()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rotAccount, roleStatus("next_key"), k3.storeOther(n2)),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("jwt"), scopedWithReaderTemplate([]*captured{n2, k3}, n1, k1)),
					statecheck.ExpectKnownValue(rotAccount, tfjsonpath.New("jwt"), listsKeys([]*captured{sn1}, s1)),
					statecheck.CompareValuePairs(rotAccount, tfjsonpath.New("signer"), rotAccount, tfjsonpath.New("signing_key"), accountSignerKey()),
					writer.AddStateValue(rotAccount, tfjsonpath.New("role_signers").AtMapKey("writer")),
				},
			},
		},
	})
}

// TestAccAccount_keyRotationInvalid refuses bad rotations while planning.
func TestAccAccount_keyRotationInvalid(t *testing.T) {
	steps := []resource.TestStep{}
	for _, tc := range []struct{ role, signing, want string }{
		{`{ period = "30m" }`, "null", `shorter than the minimum of 1h0m0s`},
		{`{ period = "2h", grace_period = "3h" }`, "null", `longer than the rotation period`},
		{`{ grace_period = "800h" }`, "null", `longer than the maximum`},
		{`{ period = "soon" }`, "null", `Invalid rotation period`},
		{"null", `{ period = "1h", grace_period = "2h" }`, `longer than the rotation period`},
	} {
		steps = append(steps, resource.TestStep{
			Config: rotationAccountConfig(tc.role, tc.signing), PlanOnly: true,
			ExpectError: regexp.MustCompile(tc.want),
		})
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
}

// accountSignerKey checks that an account signer string (value 1) signs with the key in value 2.
func accountSignerKey() compare.ValueComparer { return accountSignerKeyComparer{} }

type accountSignerKeyComparer struct{}

func (accountSignerKeyComparer) CompareValues(values ...any) error {
	s, _ := values[0].(string)
	signer, err := natsjwt.ParseSigner(s, natsjwt.KindAccount)
	if err != nil {
		return err
	}
	if signer.PublicKey != values[1] {
		return fmt.Errorf("signer signs with %s, want %v", signer.PublicKey, values[1])
	}
	return nil
}

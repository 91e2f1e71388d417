package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// revocationsClock is the provider's clock in the revocation tests: every cutoff below is at
// most natsjwt.MaxRevocationLead after it.
var revocationsClock = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func revocationsConfig(seed, attrs, exportAttrs string) string {
	return fmt.Sprintf(`
resource "natsping_account" "test" {
  name            = "ORDERS"
  operator_signer = %q
  exports = [
    { type = "service", subject = "orders.get", token_required = true %s },
    { type = "stream", subject = "orders.public.>" },
  ]
  %s
}
`, seed, exportAttrs, attrs)
}

func unix(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// TestAccAccount_revocations: every revocation attribute reaches the JWT as nats-io/jwt's
// revocation lists, plans nothing more after apply, and a changed or removed cutoff re-signs.
func TestAccAccount_revocations(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	alice, bob := testAccPub(t, natsjwt.KindUser), testAccPub(t, natsjwt.KindUser)
	billing := testAccPub(t, natsjwt.KindAccount)
	users := fmt.Sprintf(`
  revoked_users = {
    %q = "2026-11-30T00:00:00Z"
    %q = "2026-12-01T13:00:00+01:00"
  }
  revoke_all_users_before = "2026-06-01T00:00:00Z"`, alice, bob)
	exportRevocations := fmt.Sprintf(`, revoked_activations = { %q = "2026-11-30T12:00:00Z" }, revoke_all_activations_before = "2026-01-01T00:00:00Z"`, billing)

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: accountFactoriesAt(revocationsClock),
		Steps: []resource.TestStep{
			{
				Config:           revocationsConfig(seed, users, exportRevocations),
				ConfigPlanChecks: accountPlan(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(accountRes, acctAttr("revoked_users"), knownvalue.MapExact(map[string]knownvalue.Check{
						alice: knownvalue.StringExact("2026-11-30T00:00:00Z"),
						bob:   knownvalue.StringExact("2026-12-01T13:00:00+01:00"),
					})),
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						want := jwt.RevocationList{alice: unix("2026-11-30T00:00:00Z"), bob: unix("2026-12-01T12:00:00Z"), jwt.All: unix("2026-06-01T00:00:00Z")}
						if fmt.Sprint(c.Revocations) != fmt.Sprint(want) {
							return fmt.Errorf("user revocations %v, want %v", c.Revocations, want)
						}
						for _, e := range c.Exports {
							switch e.Subject {
							case "orders.get":
								want := jwt.RevocationList{billing: unix("2026-11-30T12:00:00Z"), jwt.All: unix("2026-01-01T00:00:00Z")}
								if fmt.Sprint(e.Revocations) != fmt.Sprint(want) {
									return fmt.Errorf("activation revocations %v, want %v", e.Revocations, want)
								}
							default:
								if e.Revocations != nil {
									return fmt.Errorf("the public export carries revocations %v", e.Revocations)
								}
							}
						}
						return nil
					})),
				},
			},
			{
				// A later cutoff for alice: an in-place re-sign, nothing else.
				Config: revocationsConfig(seed, fmt.Sprintf(`revoked_users = { %q = "2026-12-01T12:30:00Z" }`, alice), exportRevocations),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(accountRes, acctAttr("jwt")),
					plancheck.ExpectKnownValue(accountRes, acctAttr("revoke_all_users_before"), knownvalue.Null()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						if want := (jwt.RevocationList{alice: unix("2026-12-01T12:30:00Z")}); fmt.Sprint(c.Revocations) != fmt.Sprint(want) {
							return fmt.Errorf("user revocations %v, want %v", c.Revocations, want)
						}
						return nil
					})),
				},
			},
			{
				// Removing every revocation leaves the claims out of the JWT again.
				Config:           revocationsConfig(seed, "", ""),
				ConfigPlanChecks: accountPlan(plancheck.ExpectUnknownValue(accountRes, acctAttr("jwt"))),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(accountRes, acctAttr("jwt"), accountClaims(func(c *jwt.AccountClaims) error {
						if c.Revocations != nil {
							return fmt.Errorf("revocations %v left after removing them", c.Revocations)
						}
						for _, e := range c.Exports {
							if e.Revocations != nil {
								return fmt.Errorf("export %s keeps revocations %v", e.Subject, e.Revocations)
							}
						}
						return nil
					})),
				},
			},
		},
	})
}

func TestAccAccount_revocationErrors(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	user := testAccPub(t, natsjwt.KindUser)
	account := testAccPub(t, natsjwt.KindAccount)
	_, userSeed, _ := natsjwt.NewKey(natsjwt.KindUser)
	tooLate := revocationsClock.Add(natsjwt.MaxRevocationLead + time.Minute).Format(time.RFC3339)
	tests := []struct {
		name, attrs, exportAttrs, want string
	}{
		{"account key as a user", fmt.Sprintf(`revoked_users = { %q = "2026-11-30T00:00:00Z" }`, account), "",
			`revoked_users\["A[A-Z0-9]+"\](?s:.*)is\s+an\s+account\s+public\s+key\s+but\s+an\s+user\s+public\s+key`},
		{"seed as a user", fmt.Sprintf(`revoked_users = { %q = "2026-11-30T00:00:00Z" }`, userSeed), "",
			`Invalid\s+revoked_users(?s:.*)this\s+is\s+a\s+seed,\s+not\s+a\s+public\s+key`},
		{"star as a user", `revoked_users = { "*" = "2026-11-30T00:00:00Z" }`, "", `set\s+revoke_all_users_before\s+instead`},
		{"date without time", fmt.Sprintf(`revoked_users = { %q = "2026-11-30" }`, user), "", `"2026-11-30"\s+is\s+not\s+an\s+RFC\s+3339\s+time`},
		{"all users, not a time", `revoke_all_users_before = "yesterday"`, "", `revoke_all_users_before(?s:.*)"yesterday"\s+is\s+not\s+an\s+RFC\s+3339`},
		{"all users, far future", fmt.Sprintf(`revoke_all_users_before = %q`, tooLate), "", `more\s+than\s+1h0m0s\s+in\s+the\s+future`},
		{"activation, far future", "", fmt.Sprintf(`, revoked_activations = { %q = %q }`, account, tooLate), `exports\[0\]\.revoked_activations(?s:.*)in\s+the\s+future`},
		{"activation of a user key", "", fmt.Sprintf(`, revoked_activations = { %q = "2026-11-30T00:00:00Z" }`, user), `is\s+an\s+user\s+public\s+key\s+but\s+an\s+account`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: accountFactoriesAt(revocationsClock),
				Steps: []resource.TestStep{{
					Config:      revocationsConfig(seed, tt.attrs, tt.exportAttrs),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tt.want),
				}},
			})
		})
	}
	t.Run("public export", func(t *testing.T) {
		resource.UnitTest(t, resource.TestCase{
			PreCheck:                 func() { testAccPreCheck(t) },
			ProtoV6ProviderFactories: accountFactoriesAt(revocationsClock),
			Steps: []resource.TestStep{{
				Config: fmt.Sprintf(`
resource "natsping_account" "test" {
  name            = "ORDERS"
  operator_signer = %q
  exports         = [{ type = "stream", subject = "orders.>", revoke_all_activations_before = "2026-11-30T00:00:00Z" }]
}`, seed),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`exports\[0\]\.revoke_all_activations_before(?s:.*)the\s+export\s+is\s+public`),
			}},
		})
	})
}

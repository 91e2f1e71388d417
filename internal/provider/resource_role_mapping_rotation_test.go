package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

func rotatingMappingConfig(rotation, maxSession string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "test" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.test.signer
  roles = [{ name = "reader", permissions = { sub_allow = ["orders.>"] }, key_rotation = %s }]
}

resource "natsping_role_mapping" "m" {
  name        = "readers"
  signer      = natsping_account.orders.role_signers["reader"]
  groups      = ["orders-readers"]
  max_session = %q
}
`, rotation, maxSession)
}

// TestAccRoleMapping_keyRotation: the rule carries the role's rotation, and a max_session the
// grace (or the period) does not cover fails the plan on max_session, while the account
// knows nothing of the mapping.
func TestAccRoleMapping_keyRotation(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           rotatingMappingConfig(`{ period = "8h", grace_period = "2h" }`, "2h"),
				ConfigPlanChecks: planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("rule"), mappingRule(func(m calloutconfig.Mapping) error {
						r := m.RoleKeyRotation
						if r == nil || r.Period.Std() != 8*time.Hour || r.Grace.Std() != 2*time.Hour {
							return fmt.Errorf("role_key_rotation = %+v, want 8h/2h", r)
						}
						return nil
					})),
				},
			},
			{
				Config:      rotatingMappingConfig(`{ period = "8h", grace_period = "2h" }`, "3h"),
				ExpectError: regexp.MustCompile(`(?s)Session outlives the role's key rotation.*max_session 3h0m0s is longer\s+than\s+the\s+grace\s+period\s+2h0m0s`),
			},
			{
				// The default grace (24h) covers the longest session.
				Config:           rotatingMappingConfig(`{ period = "720h" }`, "24h"),
				ConfigPlanChecks: planChecks(),
			},
			{
				Config:      rotatingMappingConfig(`{ period = "1h", grace_period = "1h" }`, "90m"),
				ExpectError: regexp.MustCompile(`max_session 1h30m0s is longer\s+than\s+the\s+rotation\s+period\s+1h0m0s`),
			},
			{
				// Without rotation the rule has no role_key_rotation.
				Config:           rotatingMappingConfig("null", "3h"),
				ConfigPlanChecks: planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("rule"), mappingRule(func(m calloutconfig.Mapping) error {
						if m.RoleKeyRotation != nil {
							return fmt.Errorf("role_key_rotation = %+v, want none", m.RoleKeyRotation)
						}
						return nil
					})),
				},
			},
		},
	})
}

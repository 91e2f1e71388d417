package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// With operator_jwt set, natsping_account refuses while planning the signers nats-server
// would refuse (the identity seed of a strict operator, another operator's key) instead of
// re-signing the account and leaving the error to natsping_server_config; a change of
// operator_jwt alone never re-signs the account.
func TestAccAccount_operatorSignerCheckedAgainstOperatorJWT(t *testing.T) {
	const account = "natsping_account.test"
	config := func(operatorName, signer string) string {
		return fmt.Sprintf(`
resource "natsping_operator" "op" { name = %q }
resource "natsping_operator" "other" { name = "other" }
resource "natsping_account" "test" {
  name            = "ORDERS"
  operator_signer = %s
  operator_jwt    = natsping_operator.op.jwt
}
resource "natsping_account" "raw_signing_key" {
  name            = "BILLING"
  operator_signer = natsping_operator.op.signing_key_seed
  operator_jwt    = natsping_operator.op.jwt
}`, operatorName, signer)
	}
	good := config("acme", "natsping_operator.op.signer")
	jwt := &captured{}
	ws := `\s+`
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            good,
				ConfigPlanChecks:  planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(account, opAttr("jwt"), jwt.store())},
			},
			{
				// The identity seed of a strict operator (the default): refused by the plan.
				Config:   config("acme", "natsping_operator.op.seed"),
				PlanOnly: true,
				ExpectError: regexp.MustCompile(`operator_signer` + ws + `is` + ws + `the` + ws + `identity` + ws + `key` + ws +
					`of` + ws + `operator` + ws + `"acme"(?s:.*)operator_signer` + ws + `=` + ws + `natsping_operator\.<name>\.signer`),
			},
			{
				Config:   config("acme", "natsping_operator.other.signer"),
				PlanOnly: true,
				ExpectError: regexp.MustCompile(`neither` + ws + `operator` + ws + `"acme"(?s:.*)or` + ws + `set` + ws +
					`operator_jwt` + ws + `to` + ws + `the` + ws + `operator` + ws + `this` + ws + `signer` + ws + `belongs` + ws + `to`),
			},
			{
				// Nothing was re-signed by the refused plans.
				Config:            good,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(account, opAttr("jwt"), jwt.equals())},
			},
			{
				// Renaming the operator re-signs the operator JWT; the account only records it.
				Config: config("acme-renamed", "natsping_operator.op.signer"),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectResourceAction(account, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(account, opAttr("operator_jwt")),
					plancheck.ExpectKnownValue(account, opAttr("jwt"), jwt.equals()),
				),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(account, opAttr("jwt"), jwt.equals())},
			},
		},
	})
}

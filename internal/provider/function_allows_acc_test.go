package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// accessPolicyConfig is the quickstart's ORDERS account with its policy stated twice: as a
// precondition on the account's configuration (known while planning, so a broken policy
// fails the plan) and as a check block on the signed JWT (known after apply).
func accessPolicyConfig(readerPub string, extra string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "main" { name = "access" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  tags            = ["region:eu"]
  roles = [
    {
      name = "reader"
      permissions = {
        sub_allow = ["orders.>", "_INBOX.>"]
        pub_allow = %s
      }
    },
    {
      name = "writer"
      permissions = {
        pub_allow = ["orders.{{name()}}.>", "{{account-tag(region)}}.orders.>", "_INBOX.>"]
        sub_allow = ["orders.>", "_INBOX.>"]
      }
    },
  ]
}

locals {
  orders = {
    name  = natsping_account.orders.name
    tags  = natsping_account.orders.tags
    roles = natsping_account.orders.roles
  }
  alice = { name = "alice", tags = ["role:writer"] }
}

resource "terraform_data" "policy" {
  lifecycle {
    precondition {
      condition     = !provider::natsping::role_allows(local.orders, "reader", local.alice, "pub", "orders.created")
      error_message = "readers cannot publish orders.created"
    }
    precondition {
      condition     = provider::natsping::role_allows(local.orders, "writer", local.alice, "pub", "orders.alice.created")
      error_message = "writers publish their own orders"
    }
  }
}

check "signed_policy" {
  assert {
    condition     = !provider::natsping::role_allows(natsping_account.orders.jwt, "reader", local.alice, "pub", "orders.created")
    error_message = "the signed account lets readers publish orders.created"
  }
}

output "reader_pub" {
  value = provider::natsping::allows(natsping_account.orders.roles[0].permissions, "pub", "orders.created")
}

output "reader_sub" {
  value = provider::natsping::allows(natsping_account.orders.roles[0].permissions, "sub", "orders.created")
}

output "writer_own_jwt" {
  value = provider::natsping::role_allows(natsping_account.orders.jwt, "writer", local.alice, "pub", "orders.alice.created")
}

output "writer_other_jwt" {
  value = provider::natsping::role_allows(natsping_account.orders.jwt, "writer", local.alice, "pub", "orders.bob.created")
}

output "writer_region" {
  value = provider::natsping::role_allows(local.orders, "writer", local.alice, "pub", "eu.orders.x")
}

output "writer_queue" {
  value = provider::natsping::role_allows(local.orders, "writer", local.alice, "sub", "orders.created", "workers")
}
%s
`, readerPub, extra)
}

func TestAccFunctionAllows_policy(t *testing.T) {
	const safe = `["_INBOX.>", "$JS.API.CONSUMER.INFO.ORDERS.>"]`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: accessPolicyConfig(safe, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					// The configuration form is known while planning; the JWT of a new account is not.
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownOutputValue("reader_pub", knownvalue.Bool(false)),
						plancheck.ExpectKnownOutputValue("writer_region", knownvalue.Bool(true)),
						plancheck.ExpectUnknownOutputValue("writer_own_jwt"),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("reader_pub", knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValue("reader_sub", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("writer_own_jwt", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("writer_other_jwt", knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValue("writer_region", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("writer_queue", knownvalue.Bool(true)),
				},
			},
			{
				// A change that lets readers publish orders fails the plan, before anything is signed.
				Config:      accessPolicyConfig(`["_INBOX.>", "orders.>"]`, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`readers cannot publish orders.created`),
			},
			{
				Config:      accessPolicyConfig(safe, `output "bad_op" { value = provider::natsping::allows({ pub_allow = ["a"] }, "publish", "a") }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid function argument.*use "pub" or "sub"`),
			},
			{
				Config:      accessPolicyConfig(safe, `output "bad_role" { value = provider::natsping::role_allows(local.orders, "admin", local.alice, "pub", "a") }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)no role "admin"; its\s+roles are reader, writer`),
			},
			{
				// Passing the whole resource would pass its seeds into the function; it is refused.
				Config:      accessPolicyConfig(safe, `resource "terraform_data" "whole" { input = provider::natsping::role_allows(natsping_account.orders, "reader", local.alice, "pub", "a") }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`unknown account attribute`),
			},
		},
	})
}

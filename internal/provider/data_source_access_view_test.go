package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const accessViewRes = "data.natsping_access_view.orders"

// accessViewConfig is the quickstart's account and mappings with the view built the way the
// guide recommends: the account's configuration and the mappings' plain attributes.
func accessViewConfig(writerPub, readerGroups, extra string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "main" { name = "view" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  roles = [
    {
      name = "reader"
      permissions = {
        sub_allow = ["orders.>", "_INBOX.>"]
        pub_allow = ["_INBOX.>"]
      }
    },
    {
      name                     = "writer"
      max_subscriptions        = 100
      allowed_connection_types = ["STANDARD", "WEBSOCKET"]
      permissions = {
        pub_allow = %s
        pub_deny  = ["orders.*.admin"]
        sub_allow = ["orders.>", "_INBOX.>"]
        response  = { max_msgs = 2 }
      }
    },
    { name = "guest" },
  ]
  default_permissions = { sub_allow = ["public.>"] }
}

resource "natsping_role_mapping" "readers" {
  name   = "orders-readers"
  signer = natsping_account.orders.role_signers["reader"]
  groups = %s
}

resource "natsping_role_mapping" "writers" {
  name        = "orders-writers"
  signer      = natsping_account.orders.role_signers["writer"]
  groups      = ["nats-writers"]
  scopes      = ["nats:write"]
  claims      = { acr = ["Multi_Factor"] }
  tags        = ["team:red"]
  priority    = 10
  max_session = "30m"
}

resource "natsping_role_mapping" "guests" {
  name       = "guests"
  signer     = natsping_account.orders.role_signers["guest"]
  client_ids = ["kiosk"]
}

locals {
  accounts = [{
    name                = natsping_account.orders.name
    public_key          = natsping_account.orders.public_key
    roles               = natsping_account.orders.roles
    default_permissions = natsping_account.orders.default_permissions
  }]
  mappings = [for m in [natsping_role_mapping.writers, natsping_role_mapping.readers, natsping_role_mapping.guests] : {
    name        = m.name
    account     = m.account
    role        = m.role
    groups      = m.groups
    client_ids  = m.client_ids
    scopes      = m.scopes
    claims      = m.claims
    tags        = m.tags
    priority    = m.priority
    max_session = m.max_session
  }]
}

data "natsping_access_view" "orders" {
  accounts = local.accounts
  mappings = local.mappings
}

# Not marked sensitive: the CLI refuses such an output if any part of the view were.
output "view" {
  value = data.natsping_access_view.orders.markdown
}

output "view_in_plan" {
  value = provider::natsping::access_view(local.accounts, local.mappings)
}
%s
`, writerPub, readerGroups, extra)
}

func accessViewTable(writerPub, readerGroups string) string {
	return strings.Join([]string{
		"| Mapping | Who | Account | Role | Publish | Subscribe | Limits |",
		"|---|---|---|---|---|---|---|",
		"| guests | clients `kiosk` | ORDERS | guest (account defaults) | any | allow `public.>` | session 1h |",
		"| orders-readers | groups " + readerGroups + " | ORDERS | reader | allow `_INBOX.>` | allow `_INBOX.>`, `orders.>` | session 1h |",
		"| orders-writers (priority 10) | groups `nats-writers`; scopes `nats:write`; claim `acr` in `Multi_Factor` | ORDERS | writer | " +
			"allow " + writerPub + "; deny `orders.*.admin`; replies (max 2, ttl 2m0s) | allow `_INBOX.>`, `orders.>` | " +
			"session 30m; subs 100; types `STANDARD`, `WEBSOCKET` |",
		"",
	}, "\n")
}

func TestAccAccessView(t *testing.T) {
	const (
		writer1 = `["orders.{{name()}}.>", "_INBOX.>"]`
		writer2 = `["orders.{{name()}}.>", "orders.{{tag(team)}}.shared", "_INBOX.>"]`
		groups1 = `["nats-readers"]`
		groups2 = `["nats-readers", "auditors"]`
	)
	table1 := accessViewTable("`_INBOX.>`, `orders.{{name()}}.>`", "`nats-readers`")
	table2 := accessViewTable("`_INBOX.>`, `orders.{{name()}}.>`, `orders.{{tag(team)}}.shared`", "`nats-readers`")
	table3 := accessViewTable("`_INBOX.>`, `orders.{{name()}}.>`, `orders.{{tag(team)}}.shared`", "`auditors`, `nats-readers`")
	table4 := accessViewTable("`_INBOX.>`, `orders.{{name()}}.>`", "`auditors`, `nats-readers`")
	writerEntry := tfjsonpath.New("entries").AtSliceIndex(2)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: accessViewConfig(writer1, groups1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					// A new account's public key is generated at apply, so the first view follows it.
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectUnknownOutputValue("view"),
						plancheck.ExpectUnknownOutputValue("view_in_plan"),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("view", knownvalue.StringExact(table1)),
					statecheck.ExpectKnownOutputValue("view_in_plan", knownvalue.StringExact(table1)),
					statecheck.ExpectKnownValue(accessViewRes, writerEntry.AtMapKey("permissions"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"pub_allow": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("_INBOX.>"), knownvalue.StringExact("orders.{{name()}}.>")}),
						"pub_deny":  knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("orders.*.admin")}),
						"sub_allow": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("_INBOX.>"), knownvalue.StringExact("orders.>")}),
						"sub_deny":  knownvalue.ListSizeExact(0),
						"response":  knownvalue.StringExact("max 2, ttl 2m0s"),
					})),
					statecheck.ExpectKnownValue(accessViewRes, writerEntry.AtMapKey("role_limits"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"max_subscriptions":        knownvalue.Int64Exact(100),
						"max_data":                 knownvalue.Int64Exact(-1),
						"max_payload":              knownvalue.Int64Exact(-1),
						"bearer":                   knownvalue.Bool(false),
						"allowed_connection_types": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("STANDARD"), knownvalue.StringExact("WEBSOCKET")}),
						"source_networks":          knownvalue.ListSizeExact(0),
					})),
					statecheck.ExpectKnownValue(accessViewRes, writerEntry.AtMapKey("claims"), knownvalue.MapExact(map[string]knownvalue.Check{
						"acr": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Multi_Factor")}),
					})),
					statecheck.ExpectKnownValue(accessViewRes, tfjsonpath.New("entries").AtSliceIndex(0).AtMapKey("account_defaults"), knownvalue.Bool(true)),
				},
			},
			{
				// A changed role template shows in the plan, in full, before the account is re-signed.
				Config: accessViewConfig(writer2, groups1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_account.orders", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownOutputValue("view", knownvalue.StringExact(table2)),
						plancheck.ExpectKnownOutputValue("view_in_plan", knownvalue.StringExact(table2)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("view", knownvalue.StringExact(table2)),
				},
			},
			{
				// So does a changed mapping.
				Config: accessViewConfig(writer2, groups2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_role_mapping.readers", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownOutputValue("view", knownvalue.StringExact(table3)),
						plancheck.ExpectKnownOutputValue("view_in_plan", knownvalue.StringExact(table3)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("view", knownvalue.StringExact(table3)),
				},
			},
			{
				// The account JWTs are public and give the same view once applied.
				Config: accessViewConfig(writer2, groups2, `
data "natsping_access_view" "from_jwt" {
  accounts = [natsping_account.orders.jwt]
  mappings = data.natsping_access_view.orders.mappings
}

output "view_from_jwt" {
  value = data.natsping_access_view.from_jwt.markdown
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("view_from_jwt", knownvalue.StringExact(table3)),
				},
			},
			{
				// Terraform and OpenTofu read a data source whose own arguments reference a resource
				// with pending changes at apply; through locals (above) it is read in the plan.
				Config: accessViewConfig(writer1, groups2, `
data "natsping_access_view" "inline" {
  accounts = [{ name = natsping_account.orders.name, public_key = natsping_account.orders.public_key, roles = natsping_account.orders.roles }]
  mappings = [{ name = "orders-readers", account = natsping_role_mapping.readers.account, role = "reader" }]
}

output "inline" {
  value = data.natsping_access_view.inline.markdown
}
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_account.orders", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownOutputValue("view", knownvalue.StringExact(table4)),
						plancheck.ExpectKnownOutputValue("view_in_plan", knownvalue.StringExact(table4)),
						plancheck.ExpectUnknownOutputValue("inline"),
					},
				},
			},
			{
				Config: accessViewConfig(writer1, groups2, `
data "natsping_access_view" "bad" {
  accounts = [{ name = "ORDERS", roles = natsping_account.orders.roles }]
  mappings = [{ name = "x", account_name = "ORDERS", role = "admin" }]
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)no role "admin"; its\s+roles are guest, reader, writer`),
			},
			{
				// The whole mapping resource would bring its signer and rule; it is refused.
				Config:      accessViewConfig(writer1, groups2, `resource "terraform_data" "whole" { input = provider::natsping::access_view(local.accounts, [natsping_role_mapping.readers]) }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)mapping attribute "rule"\s+holds the role.s signing seed`),
			},
		},
	})
}

package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// Upgrade tests: a state written by an earlier version of this provider, applied by the real
// CLI with that version's binary, must plan with the current provider exactly as intended, and
// that is "no changes" unless a change is named here with its reason.
//
// Step 1 installs the old provider (built from its commit, see upgrade_helpers_test.go) from a
// filesystem mirror as registry.terraform.io/natsping/natsping 0.0.1 and applies; step 2 plans
// the same configuration with the in-process provider under the same address, so the CLI reads
// the old state with the current schema, exactly as a user's `init -upgrade` does.

// TestAccUpgrade_beforeClientConditions starts from 8f62561, the last commit before
// natsping_role_mapping gained client_ids, scopes and claims (and resolved_clients): the
// mappings (groups only, as every existing user has them), accounts, operator, user and server
// config plan no change at all. The trusts show one change, once: expirySpreadChange.
func TestAccUpgrade_beforeClientConditions(t *testing.T) {
	testAccUpgrade(t, upgradeCase{commit: "8f62561", operatorJWT: true,
		expect: []string{
			"data.natsping_server_config.main read",
			"natsping_trust.ping update: " + expirySpreadChange,
			"natsping_trust.pinned update: " + expirySpreadChange,
			"output.server_config update",
		},
		planChecks: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
			plancheck.ExpectResourceAction("natsping_trust.pinned", plancheck.ResourceActionUpdate),
		},
	})
}

// expirySpreadChange: natsping_trust gained expiry_spread_percent with a default of 5. An
// existing trust has no value for it, so the plan fills in the default (null → 5). Its
// callout_config keeps its bytes, because the default is not written into the document and a
// document without the field already means 5% to the callout; the sessions of an existing
// trust are spread as soon as its callout runs this version, whatever the provider.
const expirySpreadChange = "expiry_spread_percent: null → 5"

// TestAccUpgrade_beforeRoleSigningKey starts from ef49200, the release before the callout
// rules moved to calloutconfig (4c125d8). That commit made two changes an existing state sees,
// once (the plan after this apply is empty), beside expirySpreadChange:
//
//   - A mapping rule carries the role's public key (role_signing_key), so the callout refuses at
//     start a seed of another key. The rule of every existing mapping gains that one field, and
//     the trust's role_mappings and callout_config with it: sensitive in-place updates.
//   - natsping_trust gained strict_issuer_checks with a default of false. An existing trust has
//     no value for it, so the plan fills in the default (null → false). Since 378365c false
//     means a plan during a Ping outage warns and keeps the reviewed keys, where ef49200 failed
//     it (DESIGN.md, Drift); a user who wants the old fail-closed plan sets it to true.
//
// The server config reads the trust, so its read is deferred to apply and its output shows as
// unknown; it renders the same bytes afterwards (checked below), and nothing else changes.
func TestAccUpgrade_beforeRoleSigningKey(t *testing.T) {
	const roleKey = "+role_signing_key (the public key of role_signing_key_seed)"
	testAccUpgrade(t, upgradeCase{
		commit: "ef49200",
		expect: []string{
			"data.natsping_server_config.main read",
			"natsping_role_mapping.readers update: rule (sensitive): " + roleKey,
			"natsping_role_mapping.writers update: rule (sensitive): " + roleKey,
			"natsping_trust.ping update: " +
				"callout_config (sensitive): +mappings[0]." + roleKey[1:] + ", +mappings[1]." + roleKey[1:] + "; " +
				expirySpreadChange + "; " +
				"role_mappings (sensitive): +[0]." + roleKey[1:] + ", +[1]." + roleKey[1:] + "; " +
				"strict_issuer_checks: null → false",
			"natsping_trust.pinned update: " +
				"callout_config (sensitive): +mappings[0]." + roleKey[1:] + "; " +
				expirySpreadChange + "; " +
				"role_mappings (sensitive): +[0]." + roleKey[1:] + "; " +
				"strict_issuer_checks: null → false",
			"output.server_config update",
		},
		planChecks: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction("natsping_role_mapping.readers", plancheck.ResourceActionUpdate),
			plancheck.ExpectResourceAction("natsping_role_mapping.writers", plancheck.ResourceActionUpdate),
			plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
			plancheck.ExpectSensitiveValue("natsping_role_mapping.readers", tfjsonpath.New("rule")),
			plancheck.ExpectSensitiveValue("natsping_role_mapping.writers", tfjsonpath.New("rule")),
			plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("callout_config")),
			plancheck.ExpectResourceAction("natsping_trust.pinned", plancheck.ResourceActionUpdate),
			plancheck.ExpectSensitiveValue("natsping_trust.pinned", tfjsonpath.New("callout_config")),
		},
	})
}

type upgradeCase struct {
	// commit is the old provider's commit.
	commit string
	// operatorJWT sets natsping_account.operator_jwt, which the old version must know.
	operatorJWT bool
	// expect lists the changes the current provider plans for the old state, as
	// describePlanChanges renders them; empty means an empty plan.
	expect []string
	// planChecks run on that plan besides the exact comparison.
	planChecks []plancheck.PlanCheck
	// oldStateLacks is an address and attribute the old schema does not have, proving the
	// first step wrote an old state; default natsping_role_mapping.readers resolved_clients.
	oldStateLacks [2]string
}

func (c upgradeCase) lacks() (string, string) {
	if c.oldStateLacks[0] == "" {
		return "natsping_role_mapping.readers", "resolved_clients"
	}
	return c.oldStateLacks[0], c.oldStateLacks[1]
}

func testAccUpgrade(t *testing.T, c upgradeCase) {
	testAccPreCheck(t)
	mirror := oldProviderMirror(t, c.commit)
	useProviderMirror(t, mirror)

	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	config := upgradeConfig(t, srv, c.operatorJWT)

	preApply := []plancheck.PlanCheck{expectPlanChanges(c.expect)}
	if len(c.expect) == 0 {
		preApply = append(preApply, plancheck.ExpectEmptyPlan())
	}
	preApply = append(preApply, c.planChecks...)
	// Whatever the plan, the current provider renders the same server configuration.
	serverConfigKept := statecheck.CompareValue(compare.ValuesSame())

	resource.Test(t, resource.TestCase{
		PreCheck: func() { testAccPreCheck(t) },
		Steps: []resource.TestStep{
			{
				// The old provider writes the state.
				ExternalProviders: map[string]resource.ExternalProvider{
					"natsping": {Source: upgradeProviderSource, VersionConstraint: upgradeProviderVersion},
				},
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					expectStateProvider(upgradeProviderSource),
					// The old schema has no resolved_clients: this state really is the old one.
					expectNoStateAttribute(c.lacks()),
					serverConfigKept.AddStateValue("data.natsping_server_config.main", tfjsonpath.New("config")),
				},
			},
			{
				// The current provider reads it.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Config:                   config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             preApply,
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					expectStateProvider(upgradeProviderSource),
					// Written with the current schema (the attribute exists, and is null without client_ids).
					statecheck.ExpectKnownValue("natsping_role_mapping.readers", tfjsonpath.New("resolved_clients"), knownvalue.Null()),
					serverConfigKept.AddStateValue("data.natsping_server_config.main", tfjsonpath.New("config")),
				},
			},
		},
	})
}

// upgradeConfig is a quickstart-sized configuration that every version under test accepts:
// operator, an account with roles, exports, limits and JetStream, a second account importing
// from it, two groups-only role mappings resolved in PingOne, a static user, the trust with
// discovery over TLS, a second trust with pinned keys (offline), and the server config as an
// output (so its rendering is compared too).
func upgradeConfig(t *testing.T, srv *pingonetest.Server, operatorJWT bool) string {
	id, secret := srv.WorkerCredentials()
	jwks := fixtureJWKS(t, srv)
	opJWT := ""
	if operatorJWT {
		opJWT = "operator_jwt    = natsping_operator.main.jwt"
	}
	return fmt.Sprintf(`
provider "natsping" {
  pingone = {
    environment_id = %[1]q
    client_id      = %[2]q
    client_secret  = %[3]q
    auth_hostname  = %[4]q
    api_hostname   = %[4]q
  }
}

resource "natsping_operator" "main" {
  name                  = "natsping-upgrade"
  operator_service_urls = ["nats://127.0.0.1:4222"]
  tags                  = ["env:test"]
}

resource "natsping_account" "orders" {
  name            = "ORDERS"
  description     = "Order processing."
  operator_signer = natsping_operator.main.signer
  %[5]s
  tags            = ["team:orders"]

  limits = {
    max_connections = 100
    max_payload     = 1048576
  }

  jetstream = {
    memory_storage = 64 * 1024 * 1024
    disk_storage   = 256 * 1024 * 1024
    max_streams    = 10
    max_consumers  = 100
  }

  exports = [
    { type = "stream", subject = "orders.events.>", name = "order-events" },
    { type = "service", subject = "orders.lookup", name = "order-lookup", response_type = "Singleton" },
  ]

  default_permissions = { sub_allow = ["_INBOX.>"] }

  roles = [
    {
      name        = "reader"
      description = "Reads orders; may not publish them."
      permissions = {
        sub_allow = ["orders.>", "_INBOX.>"]
        pub_allow = ["_INBOX.>", "$JS.API.CONSUMER.INFO.ORDERS.>"]
      }
    },
    {
      name              = "writer"
      description       = "Publishes and reads orders."
      max_subscriptions = 100
      permissions = {
        pub_allow = ["orders.>", "_INBOX.>"]
        sub_allow = ["orders.>", "_INBOX.>"]
      }
    },
  ]
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
  imports = [
    { type = "stream", name = "order-events", subject = "orders.events.>", account = natsping_account.orders.public_key },
  ]
}

resource "natsping_role_mapping" "readers" {
  name         = "orders-readers"
  signer       = natsping_account.orders.role_signers["reader"]
  account_name = natsping_account.orders.name
  groups       = ["Engineering Read-Only"]
  max_session  = "1h"
}

resource "natsping_role_mapping" "writers" {
  name                     = "orders-writers"
  signer                   = natsping_account.orders.role_signers["writer"]
  groups                   = ["Managers", %[6]q]
  priority                 = 10
  max_session              = "30m"
  tags                     = ["team:orders"]
  allowed_connection_types = ["STANDARD", "WEBSOCKET"]
}

resource "natsping_user" "service" {
  name              = "orders-service"
  signer            = natsping_account.orders.signer
  tags              = ["svc:orders"]
  max_subscriptions = 10
  permissions = {
    pub_allow = ["orders.>"]
    sub_allow = ["_INBOX.>"]
  }
}

resource "natsping_trust" "ping" {
  operator_signer           = natsping_operator.main.signer
  issuer                    = %[7]q
  audiences                 = [%[8]q]
  groups_claim              = "groups"
  max_token_lifetime        = "1h"
  jwks_min_refresh_interval = "30s"
  nats_urls                 = ["nats://127.0.0.1:4222"]
  ca_bundle_pem             = <<-EOT
%[9]s
EOT

  role_mappings = [
    natsping_role_mapping.readers.rule,
    natsping_role_mapping.writers.rule,
  ]
}

# Offline: pinned keys, no xkey, an audit subject; nothing is fetched while planning.
resource "natsping_trust" "pinned" {
  name            = "CALLOUT_PINNED"
  operator_signer = natsping_operator.main.signer
  issuer          = "https://127.0.0.1:1/%[10]s/as"
  audiences       = [%[8]q]
  groups_claim    = "groups"
  pinned_jwks     = %[11]q
  xkey            = false
  queue_group     = "natsping-pinned"
  audit_subject   = "natsping.audit"
  role_mappings   = [natsping_role_mapping.readers.rule]
}

data "natsping_server_config" "main" {
  operator_jwt   = natsping_operator.main.jwt
  system_account = natsping_operator.main.system_account_public_key
  account_jwts = [
    natsping_operator.main.system_account_jwt,
    natsping_account.orders.jwt,
    natsping_account.billing.jwt,
    natsping_trust.ping.account_jwt,
  ]
  resolver         = { type = "memory" }
  default_sentinel = natsping_trust.ping.sentinel_jwt
  listen           = { host = "127.0.0.1", port = 4222 }
}

output "server_config" {
  value = data.natsping_server_config.main.config
}
`, srv.EnvironmentID(), id, secret, srv.Host(), opJWT, groupEngineeringID, srv.Issuer(),
		pingonetest.DefaultAppClientID, strings.TrimSpace(string(srv.CAPEM())), pingonetest.DefaultEnvironmentID, jwks)
}

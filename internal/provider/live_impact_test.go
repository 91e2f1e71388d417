package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

const (
	warnDeliver    = "Live servers keep the old account JWT until it is delivered"
	warnDisconnect = "Live connections will be closed"
	warnRestart    = "Live servers must be restarted"
	warnRefuse     = "Servers restarted with this operator JWT will refuse accounts"
)

type impactAccount struct {
	description string
	readerPub   string
	writer      bool
	maxConns    int
	noBearer    bool
	lax         bool // strict_signing_keys = false
}

func liveImpactConfig(a impactAccount, generation string) string {
	writer := ""
	if a.writer {
		writer = `
    {
      name        = "writer"
      permissions = { pub_allow = ["orders.>"] }
    },`
	}
	return fmt.Sprintf(`
resource "natsping_operator" "main" {
  name                     = "acme"
  strict_signing_keys      = %t
  signing_key_rotation     = { generation = %q }
  signing_key_grace_period = "1h"
}

resource "natsping_account" "orders" {
  name            = "ORDERS"
  description     = %q
  operator_signer = natsping_operator.main.signer
  limits          = { max_connections = %d, disallow_bearer = %t }
  roles = [
    {
      name        = "reader"
      permissions = { pub_allow = [%q], sub_allow = ["_INBOX.>"] }
    },%s
  ]
}
`, !a.lax, generation, a.description, a.maxConns, a.noBearer, a.readerPub, writer)
}

// TestAccLiveImpactWarnings: each change that matters for live servers plans with the warning
// a user sees in the CLI (recorded from the provider's PlanResourceChange answers while the
// real CLI runs), naming what changes, what happens on live servers and what to do; every
// second plan is empty and warns nothing, and no warning carries a secret. What the warnings
// claim about servers is pinned against a real nats-server in internal/liveimpact.
func TestAccLiveImpactWarnings(t *testing.T) {
	clock := newTestClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	rec := &planRecorder{}
	base := impactAccount{description: "orders", readerPub: "orders.read.>", writer: true, maxConns: 100, lax: true}
	step := func(a impactAccount, generation string, checks ...plancheck.PlanCheck) resource.TestStep {
		return resource.TestStep{
			PreConfig: rec.reset,
			Config:    liveImpactConfig(a, generation),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             checks,
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), rec.expectQuietNoops()},
			},
		}
	}
	edited, removed, lowered, described := base, base, base, base
	edited.readerPub = "orders.read.*"
	removed.readerPub, removed.writer = edited.readerPub, false
	lowered.readerPub, lowered.writer, lowered.maxConns = edited.readerPub, false, 10
	described.readerPub, described.writer, described.maxConns, described.description = edited.readerPub, false, 10, "all orders"
	noBearer := described
	noBearer.noBearer = true
	strict := noBearer
	strict.lax = false

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: rec.wrap(clock.factories()),
		Steps: []resource.TestStep{
			// Creating nothing live uses yet warns nothing.
			step(base, "1", rec.expectNoWarnings("")),
			step(edited, "1",
				rec.expectWarnings("natsping_account", warnDisconnect,
					[]string{`account "ORDERS"`, `role "reader"`, "changes its permissions", "every connected user of this role is closed", "What to do:"},
					`role "writer"`),
				rec.expectWarnings("natsping_account", warnDeliver,
					[]string{`account "ORDERS"`, "resolver_preload", "reload", "natsping_resolver_push pushes it"}),
				rec.expectNoWarnings("natsping_operator"),
			),
			step(removed, "1",
				rec.expectWarnings("natsping_account", warnDisconnect,
					[]string{`role "writer" (scoped signing key A`, "is removed", "cannot reconnect"}, `role "reader"`)),
			step(lowered, "1",
				rec.expectWarnings("natsping_account", warnDisconnect,
					[]string{"max_connections is lowered from 100 to 10", "closes its newest ones beyond 10"})),
			// A description is not a role: the JWT has to be delivered, nobody is disconnected.
			step(described, "1",
				rec.expectWarnings("natsping_account", warnDeliver, []string{`account "ORDERS"`}, warnDisconnect)),
			step(noBearer, "1",
				rec.expectWarnings("natsping_account", warnDisconnect,
					[]string{"bearer tokens are no longer allowed", "bearer token is closed"})),
			step(strict, "1",
				rec.expectWarnings("natsping_operator", warnRefuse, []string{"strict signing keys are turned on", "operator identity key"}),
				rec.expectWarnings("natsping_operator", warnRestart, []string{"config reload with a changed operator is refused"}),
				rec.expectNoWarnings("natsping_account")),
			// An operator signing-key rotation: a restart, a key the servers must trust before
			// accounts signed by it reach them, and the accounts re-signed by it to deliver.
			step(strict, "2",
				rec.expectWarnings("natsping_operator", warnRestart,
					[]string{`operator "acme"`, "config reload with a changed operator is refused", "restart the servers one at a time"}),
				rec.expectWarnings("natsping_operator", warnRestart,
					[]string{"is added", "natsping_resolver_push refuses to push them", "restart every server with the new operator JWT first"}),
				rec.expectWarnings("natsping_account", warnDeliver, []string{`account "ORDERS"`}),
			),
			// The grace period ends: time alone drops the previous key from the operator JWT.
			{
				PreConfig: func() { rec.reset(); clock.Advance(2 * time.Hour) },
				Config:    liveImpactConfig(strict, "2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						rec.expectWarnings("natsping_operator", warnRefuse, []string{"is no longer listed", "before restarting servers"}),
						rec.expectWarnings("natsping_operator", warnRestart, []string{"config reload with a changed operator is refused"}),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), rec.expectQuietNoops()},
				},
			},
			// Destroying the account: servers that drop it close all its connections.
			{
				PreConfig: rec.reset,
				Config: `resource "natsping_operator" "main" {
  name                     = "acme"
  signing_key_rotation     = { generation = "2" }
  signing_key_grace_period = "1h"
}`,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_account.orders", plancheck.ResourceActionDestroy),
						rec.expectWarnings("natsping_account", warnDisconnect,
							[]string{`account "ORDERS"`, "the account is removed", "MEMORY resolver reloaded without it", "keeps serving the account"}),
						rec.expectNoWarnings("natsping_operator"),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), rec.expectQuietNoops()},
				},
			},
			// Nothing changes: an empty plan without a single warning.
			{
				PreConfig: rec.reset,
				Config: `resource "natsping_operator" "main" {
  name                     = "acme"
  signing_key_rotation     = { generation = "2" }
  signing_key_grace_period = "1h"
}`,
				PlanOnly: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), rec.expectNoWarnings("")},
				},
			},
		},
	})
}

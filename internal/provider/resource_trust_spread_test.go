package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// spreadInDoc expects the callout to run with percent: absent from the document at the
// default (which the callout reads as the default), written otherwise.
func spreadInDoc(percent float64) knownvalue.Check {
	return calloutDoc(func(doc *calloutconfig.Document) error {
		wantAbsent := percent == calloutconfig.DefaultExpirySpreadPercent
		switch {
		case doc.ExpirySpread() != percent:
			return fmt.Errorf("the callout would spread by %v%%, want %v%%", doc.ExpirySpread(), percent)
		case wantAbsent != (doc.ExpirySpreadPercent == nil):
			return fmt.Errorf("expiry_spread_percent written %v, want it written only away from the default", doc.ExpirySpreadPercent)
		}
		return nil
	})
}

// TestAccTrust_expirySpread: spreading is on by default and shown in the plan; an explicit
// percentage and 0 (off) reach the callout's document; a value out of bounds fails the plan
// with calloutconfig's message; every apply is followed by an empty plan.
func TestAccTrust_expirySpread(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	spread := tfjsonpath.New("expiry_spread_percent")
	step := func(extra string, percent float64, action plancheck.ResourceActionType) resource.TestStep {
		return resource.TestStep{
			Config: trustChainConfig(srv, extra),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(trustRes, action),
					plancheck.ExpectKnownValue(trustRes, spread, knownvalue.Float64Exact(percent)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(trustRes, spread, knownvalue.Float64Exact(percent)),
				statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), spreadInDoc(percent)),
			},
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step("", calloutconfig.DefaultExpirySpreadPercent, plancheck.ResourceActionCreate),
			step("expiry_spread_percent = 12.5", 12.5, plancheck.ResourceActionUpdate),
			step("expiry_spread_percent = 0", 0, plancheck.ResourceActionUpdate),
			{
				Config:      trustChainConfig(srv, "expiry_spread_percent = 60"),
				ExpectError: regexp.MustCompile(`(?s)Expiry spread out of range.*expiry_spread_percent 60 is outside 0 to 50.*more than half`),
			},
			{
				Config:      trustChainConfig(srv, "expiry_spread_percent = -1"),
				ExpectError: regexp.MustCompile(`(?s)Expiry spread out of range.*expiry_spread_percent -1 is outside 0 to 50`),
			},
			// Back to the default: the field leaves the document again.
			step("", calloutconfig.DefaultExpirySpreadPercent, plancheck.ResourceActionUpdate),
		},
	})
}

package provider

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwttest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

func trustStatus(attr, name string) tfjsonpath.Path { return tfjsonpath.New(attr).AtMapKey(name) }

// calloutXKeys checks the document's current xkey and its extra xkeys, by public key.
func calloutXKeys(current *captured, extra ...*captured) knownvalue.Check {
	return calloutDoc(func(d *calloutconfig.Document) error {
		pub := func(seed string) string {
			kp, err := nkeys.FromCurveSeed([]byte(seed))
			if err != nil {
				return "invalid"
			}
			p, _ := kp.PublicKey()
			return p
		}
		if got := pub(d.NATS.XKeySeed); got != current.v {
			return fmt.Errorf("xkey_seed is %s, want %s", got, current.v)
		}
		if len(d.NATS.XKeySeeds) != len(extra) {
			return fmt.Errorf("xkey_seeds holds %d keys, want %d", len(d.NATS.XKeySeeds), len(extra))
		}
		for i, e := range extra {
			if got := pub(d.NATS.XKeySeeds[i]); got != e.v {
				return fmt.Errorf("xkey_seeds[%d] is %s, want %s", i, got, e.v)
			}
		}
		return nil
	})
}

func calloutAccount(xkey *captured, listed []*captured, gone ...*captured) knownvalue.Check {
	return accountClaims(func(c *jwt.AccountClaims) error {
		if c.Authorization.XKey != xkey.v {
			return fmt.Errorf("authorization.xkey is %s, want %s", c.Authorization.XKey, xkey.v)
		}
		for _, k := range listed {
			if _, ok := c.SigningKeys[k.v]; !ok {
				return fmt.Errorf("signing keys do not list %s", k.v)
			}
		}
		for _, k := range gone {
			if _, ok := c.SigningKeys[k.v]; ok {
				return fmt.Errorf("signing key %s is still listed", k.v)
			}
		}
		return nil
	})
}

// TestAccTrust_keyRotation rotates the callout account's signing key (on its period) and
// the xkey (on keepers), then lets the grace end, on the provider's clock: every step is in
// the plan, and the JWT and callout document carry exactly the keys the schedule says.
func TestAccTrust_keyRotation(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{})
	jwks := fixtureJWKS(t, srv)
	srv.Close()
	o := newTrustOffline(t)
	clock := newTestClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg := func(xkeyRotation string) string {
		return o.config("https://127.0.0.1:1/"+pingonetest.DefaultEnvironmentID+"/as", fmt.Sprintf(`pinned_jwks = %q
  signing_key_rotation = { period = "24h", grace_period = "1h" }
  xkey_rotation        = %s`, jwks, xkeyRotation))
	}
	sk1, skn1, skn2 := &captured{}, &captured{}, &captured{}
	x1, xn1, xn2, xn3 := &captured{}, &captured{}, &captured{}, &captured{}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factories(),
		Steps: []resource.TestStep{
			{
				Config:           cfg(`{ keepers = { generation = "1" }, grace_period = "1h" }`),
				ConfigPlanChecks: planChecks(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_signing_key"), sk1.store()),
					statecheck.ExpectKnownValue(trustRes, trustStatus("signing_key_rotation_status", "key"), sk1.equals()),
					statecheck.ExpectKnownValue(trustRes, trustStatus("signing_key_rotation_status", "next_key"), skn1.storeOther(sk1)),
					statecheck.ExpectKnownValue(trustRes, trustStatus("signing_key_rotation_status", "next_rotation_at"), knownvalue.StringExact("2030-01-02T00:00:00Z")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("xkey_public_key"), x1.store()),
					statecheck.ExpectKnownValue(trustRes, trustStatus("xkey_rotation_status", "next_key"), xn1.storeOther(x1)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutXKeys(x1, xn1)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), calloutAccount(x1, []*captured{sk1, skn1})),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("sentinel_jwt"), trustRes, tfjsonpath.New("account_signing_key"), natsjwttest.IssuedBy()),
				},
			},
			{
				// The signing key's period ends: the plan names the prepared key; the callout user
				// and the sentinel are re-signed with it.
				PreConfig: func() { clock.Advance(24 * time.Hour) },
				Config:    cfg(`{ keepers = { generation = "1" }, grace_period = "1h" }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_signing_key"), skn1.equals()),
					plancheck.ExpectKnownValue(trustRes, trustStatus("signing_key_rotation_status", "previous_key"), sk1.equals()),
					plancheck.ExpectUnknownValue(trustRes, tfjsonpath.New("sentinel_jwt")),
					plancheck.ExpectUnknownValue(trustRes, tfjsonpath.New("callout_user_creds")),
					plancheck.ExpectUnknownValue(trustRes, tfjsonpath.New("account_jwt")),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("xkey_public_key"), x1.equals()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, trustStatus("signing_key_rotation_status", "next_key"), skn2.storeOther(skn1)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), calloutAccount(x1, []*captured{sk1, skn1, skn2})),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("sentinel_jwt"), trustRes, tfjsonpath.New("account_signing_key"), natsjwttest.IssuedBy()),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutXKeys(x1, xn1)),
				},
			},
			{
				// The xkey's keepers change: the server is told the prepared xkey, which the callout
				// has held since the first apply; the callout keeps the old one through the grace.
				Config: cfg(`{ keepers = { generation = "2" }, grace_period = "1h" }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("xkey_public_key"), xn1.equals()),
					plancheck.ExpectKnownValue(trustRes, trustStatus("xkey_rotation_status", "previous_key"), x1.equals()),
					plancheck.ExpectUnknownValue(trustRes, tfjsonpath.New("account_jwt")),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_signing_key"), skn1.equals()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, trustStatus("xkey_rotation_status", "next_key"), xn2.storeOther(xn1)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutXKeys(xn1, xn2, x1)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), calloutAccount(xn1, []*captured{skn1, skn2})),
				},
			},
			{
				// An hour on, both graces are over: the old signing key leaves the JWT and the old
				// xkey leaves the callout document.
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    cfg(`{ keepers = { generation = "2" }, grace_period = "1h" }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectKnownValue(trustRes, trustStatus("signing_key_rotation_status", "previous_key"), knownvalue.Null()),
					plancheck.ExpectKnownValue(trustRes, trustStatus("xkey_rotation_status", "previous_key"), knownvalue.Null()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutXKeys(xn1, xn2)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), calloutAccount(xn1, []*captured{skn1, skn2}, sk1)),
				},
			},
			{
				// Emergency: the old xkey is not kept at all.
				Config: cfg(`{ keepers = { generation = "3" }, emergency = true }`),
				ConfigPlanChecks: planChecks(
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("xkey_public_key"), xn2.equals()),
					plancheck.ExpectKnownValue(trustRes, trustStatus("xkey_rotation_status", "previous_key"), knownvalue.Null()),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, trustStatus("xkey_rotation_status", "next_key"), xn3.storeOther(xn2)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutXKeys(xn2, xn3)),
				},
			},
			{
				Config: o.config("https://127.0.0.1:1/"+pingonetest.DefaultEnvironmentID+"/as", fmt.Sprintf(`pinned_jwks = %q
  xkey          = false
  xkey_rotation = { period = "24h" }`, jwks)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`xkey_rotation without xkey`),
			},
			{
				Config: o.config("https://127.0.0.1:1/"+pingonetest.DefaultEnvironmentID+"/as", fmt.Sprintf(`pinned_jwks = %q
  signing_key_rotation = { period = "2h", grace_period = "3h" }`, jwks)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`grace period 3h0m0s is longer than the rotation period`),
			},
		},
	})
}

// TestAccTrust_refusesRuleWhoseSessionOutlivesItsKey: a rule edited by hand (or rendered
// elsewhere) whose max_session is longer than its role key's grace is refused by the trust
// as well, with the rule's own message; the callout would refuse the document at start.
func TestAccTrust_refusesRuleWhoseSessionOutlivesItsKey(t *testing.T) {
	o := newTrustOffline(t)
	signer, err := natsjwt.ParseSigner(o.roleSigner, natsjwt.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := json.Marshal(calloutconfig.Mapping{
		Name: "readers", Groups: []calloutconfig.Group{{Name: "readers"}}, Account: o.accountPub, Role: "reader",
		RoleSigningKey: signer.PublicKey, RoleSigningKeySeed: signer.Seed, MaxSession: calloutconfig.Duration(2 * time.Hour),
		RoleKeyRotation: &calloutconfig.KeyRotation{Period: calloutconfig.Duration(24 * time.Hour), Grace: calloutconfig.Duration(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := pingonetest.New(pingonetest.Options{})
	jwks := fixtureJWKS(t, srv)
	srv.Close()
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "natsping_trust" "ping" {
  operator_signer = %q
  issuer          = "https://127.0.0.1:1/%s/as"
  audiences       = ["nats"]
  groups_claim    = "groups"
  pinned_jwks     = %q
  role_mappings   = [%q]
}`, o.operatorSeed, pingonetest.DefaultEnvironmentID, jwks, string(rule)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Role mapping rule refused.*max_session 2h0m0s is longer\s+than\s+the\s+grace\s+period\s+1h0m0s`),
		}},
	})
}

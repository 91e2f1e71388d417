package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwttest"
)

const testEcho, testEchoCapped = "echo.test", "echo.capped"

func (c *testClock) factoriesWithEcho() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"natsping": providerserver.NewProtocol6WithError(&natspingProvider{version: "test", now: c.Now}),
		"echo":     echoprovider.NewProviderServer(),
	}
}

// withEcho makes the ephemeral result observable: the echo provider copies it into the
// state of echo.test, which only exists in tests.
// Echo copies the data only when echo.<name> is created, so each step that opens new
// credentials uses its own echo resource name.
func withEcho(body string) string { return withEchoNamed("test", body) }

func withEchoNamed(name, body string) string {
	return fmt.Sprintf(`
ephemeral "natsping_user_creds" "test" {
%s
}
provider "echo" {
  data = ephemeral.natsping_user_creds.test
}
resource "echo" %q {}
`, body, name)
}

func echoData(attr string) tfjsonpath.Path { return tfjsonpath.New("data").AtMapKey(attr) }

func expiresAt(want time.Time) knownvalue.Check {
	return userClaims(func(c *jwt.UserClaims) error {
		if c.Expires != want.Unix() {
			return fmt.Errorf("exp = %s, want %s", time.Unix(c.Expires, 0).UTC(), want)
		}
		return nil
	})
}

func TestAccUserCreds_ephemeral(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := newTestClock(start)
	acc := newTestAccount(t)
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factoriesWithEcho(),
		Steps: []resource.TestStep{
			{
				Config: withEcho(fmt.Sprintf(`  name   = "carol"
  signer = %q
  tags   = ["team:blue"]
  ttl    = "10m"`, acc.roleSigner)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testEcho, echoData("public_key"), natsjwttest.PublicKey(natsjwt.KindUser)),
					statecheck.ExpectKnownValue(testEcho, echoData("seed"), natsjwttest.Seed(natsjwt.KindUser)),
					statecheck.ExpectKnownValue(testEcho, echoData("jwt"), natsjwttest.JWTNamed(jwt.UserClaim, "carol")),
					statecheck.ExpectKnownValue(testEcho, echoData("jwt"), expiresAt(start.Add(10*time.Minute))),
					statecheck.ExpectKnownValue(testEcho, echoData("jwt"), userClaims(func(c *jwt.UserClaims) error {
						if !c.HasEmptyPermissions() || c.IssuerAccount != acc.pub || c.Issuer != acc.rolePub || !c.Tags.Contains("team:blue") {
							return fmt.Errorf("expected a scoped user of the role with its tag: %+v", c)
						}
						return nil
					})),
					statecheck.ExpectKnownValue(testEcho, echoData("valid_until"), knownvalue.StringExact("2030-01-01T00:10:00Z")),
					statecheck.ExpectKnownValue(testEcho, echoData("role"), knownvalue.StringExact("readers")),
					statecheck.ExpectKnownValue(testEcho, echoData("issuer"), knownvalue.StringExact(acc.rolePub)),
					statecheck.ExpectKnownValue(testEcho, echoData("account"), knownvalue.StringExact(acc.pub)),
					statecheck.ExpectKnownValue(testEcho, echoData("creds"), natsjwttest.Creds()),
					statecheck.CompareValuePairs(testEcho, echoData("creds"), testEcho, echoData("public_key"), natsjwttest.CredsFor()),
				},
			},
			{
				// Default ttl (1h), capped by expires_at; a signing key signer with permissions.
				Config: withEchoNamed("capped", fmt.Sprintf(`  name       = "dave"
  signer     = %q
  expires_at = "2030-01-01T00:30:00Z"
  permissions = {
    pub_allow = ["orders.>"]
  }`, acc.skSigner)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testEchoCapped, echoData("ttl"), knownvalue.StringExact("1h")),
					statecheck.ExpectKnownValue(testEchoCapped, echoData("valid_until"), knownvalue.StringExact("2030-01-01T00:30:00Z")),
					statecheck.ExpectKnownValue(testEchoCapped, echoData("jwt"), expiresAt(start.Add(30*time.Minute))),
					statecheck.ExpectKnownValue(testEchoCapped, echoData("role"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testEchoCapped, echoData("jwt"), userClaims(func(c *jwt.UserClaims) error {
						if !c.Pub.Allow.Contains("orders.>") || c.IssuerAccount != acc.pub {
							return fmt.Errorf("permissions or issuer_account missing: %+v", c.User)
						}
						return nil
					})),
				},
			},
		},
	})
}

func TestAccUserCreds_invalidInputs(t *testing.T) {
	acc := newTestAccount(t)
	_, opSeed, _ := natsjwt.NewKey(natsjwt.KindOperator)
	tests := []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"ttl too short", fmt.Sprintf("name = \"u\"\nsigner = %q\nttl = \"30s\"", acc.seed), regexp.MustCompile(`shorter than the minimum of 1m0s`)},
		{"ttl not a duration", fmt.Sprintf("name = \"u\"\nsigner = %q\nttl = \"an hour\"", acc.seed), regexp.MustCompile(`is not a duration`)},
		{"role with permissions", fmt.Sprintf("name = \"u\"\nsigner = %q\npermissions = { pub_allow = [\"x\"] }", acc.roleSigner), regexp.MustCompile(`(?s)Role template applies.*remove\s+permissions`)},
		{"operator seed", fmt.Sprintf("name = \"u\"\nsigner = %q", opSeed), regexp.MustCompile(`(?s)Invalid signer.*operator seed`)},
		{"expires in the past", fmt.Sprintf("name = \"u\"\nsigner = %q\nexpires_at = \"2020-01-01T00:00:00Z\"", acc.seed), regexp.MustCompile(`Expiry in the past`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactoriesWithEcho,
				Steps:                    []resource.TestStep{{Config: withEcho(tt.body), ExpectError: tt.want}},
			})
		})
	}
}

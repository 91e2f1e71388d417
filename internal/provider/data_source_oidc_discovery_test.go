package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

const discoveryData = "data.natsping_oidc_discovery.ping"

func discoveryConfig(issuer, caPEM string) string {
	ca := ""
	if caPEM != "" {
		ca = fmt.Sprintf("ca_bundle_pem = <<-EOT\n%s\nEOT", strings.TrimSpace(caPEM))
	}
	return fmt.Sprintf(`
data "natsping_oidc_discovery" "ping" {
  issuer = %q
  %s
}
`, issuer, ca)
}

func TestAccOIDCDiscoveryDataSource(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{})
	t.Cleanup(srv.Close)
	kid := srv.ActiveKeyID()
	var rotated string
	attr := tfjsonpath.New[string]

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: discoveryConfig(srv.Issuer(), string(srv.CAPEM())),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(discoveryData, attr("jwks_uri"), knownvalue.StringExact(srv.JWKSURL())),
					statecheck.ExpectKnownValue(discoveryData, attr("token_endpoint"), knownvalue.StringExact(srv.TokenURL())),
					statecheck.ExpectKnownValue(discoveryData, attr("authorization_endpoint"), knownvalue.StringExact(srv.Issuer()+"/authorize")),
					statecheck.ExpectKnownValue(discoveryData, attr("userinfo_endpoint"), knownvalue.StringExact(srv.Issuer()+"/userinfo")),
					statecheck.ExpectKnownValue(discoveryData, attr("id_token_signing_alg_values_supported"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("RS256")})),
					statecheck.ExpectKnownValue(discoveryData, attr("scopes_supported"), knownvalue.ListPartial(map[int]knownvalue.Check{
						0: knownvalue.StringExact("openid"),
					})),
					statecheck.ExpectKnownValue(discoveryData, attr("claims_supported"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(discoveryData, attr("jwks_keys"), jwksKidsCheck(kid)),
				},
			},
			{
				// Ping rotates its key: the data source shows both keys on the next read.
				PreConfig: func() { rotated = srv.RotateKey() },
				Config:    discoveryConfig(srv.Issuer(), string(srv.CAPEM())),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(discoveryData, attr("jwks_keys"), jwksKidsCheckLate(&kid, &rotated)),
				},
			},
			{
				// Without the fixture's CA the TLS handshake must fail: no silent fallback.
				Config:      discoveryConfig(srv.Issuer(), ""),
				ExpectError: regexp.MustCompile(`(?s)Cannot read the OIDC issuer.*certificate`),
			},
			{
				Config:      discoveryConfig(strings.Replace(srv.Issuer(), "https://", "http://", 1), ""),
				ExpectError: regexp.MustCompile(`(?s)Issuer URL refused.*allow_insecure_http`),
			},
			{
				Config:      discoveryConfig(srv.Issuer()+"/", string(srv.CAPEM())),
				ExpectError: regexp.MustCompile(`(?s)must\s+match\s+exactly`),
			},
		},
	})
}

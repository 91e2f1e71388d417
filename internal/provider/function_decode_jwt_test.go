package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func TestAccDecodeJWTFunction(t *testing.T) {
	f := newDecodeFixture()
	cfg := func(token string) string {
		return fmt.Sprintf(`
locals {
  decoded = jsondecode(provider::natsping::decode_jwt(%q))
}

output "type" {
  value = local.decoded.type
}

output "issuer_account" {
  value = local.decoded.issuer_account
}

output "expires_at" {
  value = local.decoded.expires_at
}

output "signature_valid" {
  value = local.decoded.signature_valid
}

output "publish_allow" {
  value = local.decoded.claims.nats.pub.allow
}
`, token)
	}
	resource.Test(t, resource.TestCase{
		PreCheck: func() { testAccPreCheck(t) },
		// Provider-defined functions exist from Terraform 1.8 and OpenTofu 1.7.
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(f.user),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("type", knownvalue.StringExact("user")),
					statecheck.ExpectKnownOutputValue("issuer_account", knownvalue.StringExact(f.accountPub)),
					statecheck.ExpectKnownOutputValue("expires_at", knownvalue.StringExact("2031-01-02T03:04:05Z")),
					statecheck.ExpectKnownOutputValue("signature_valid", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("publish_allow", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("orders.>")})),
				},
			},
			{
				Config: cfg(f.tampered),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("signature_valid", knownvalue.Bool(false)),
				},
			},
			{
				Config:      cfg("not-a-jwt"),
				ExpectError: regexp.MustCompile(`three\s+dot-separated\s+parts`),
			},
		},
	})
}

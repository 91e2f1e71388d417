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
)

// TestAccServerConfig_fragmentExternalResolver renders the fragment the Kubernetes guide
// includes from the Helm chart: no resolver block (the chart's config.resolver renders it),
// the system account preloaded for the chart's full resolver, and the same plan again. Every
// setting the chart owns fails the plan naming the chart value to use instead.
func TestAccServerConfig_fragmentExternalResolver(t *testing.T) {
	f := newServerConfigFixture()
	addr := "data.natsping_server_config.test"
	phrase := func(words ...string) *regexp.Regexp {
		for i, w := range words {
			words[i] = regexp.QuoteMeta(w)
		}
		return regexp.MustCompile(strings.Join(words, `\s+`))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      f.config("  resolver = { type = \"full\", external = true }", "SYS", "APP"),
				ExpectError: phrase("resolver.external:", "needs", "fragment", "=", "true"),
			},
			{
				Config:      f.config("  fragment = true\n  resolver = { external = true }", "SYS", "APP"),
				ExpectError: phrase("resolver.external:", "needs", `type = "full" or "cache"`),
			},
			{
				Config:      f.config("  fragment = true\n  resolver = { type = \"full\", external = true, dir = \"/data/jwt\" }", "SYS", "APP"),
				ExpectError: phrase("resolver.dir:", "cannot", "be", "set", "with", "resolver.external", "=", "true:", "it", "belongs", "to"),
			},
			{
				// fragment known only at apply: external waits for it instead of failing the plan.
				Config: f.config("  fragment = terraform_data.fragment.output\n  resolver = { type = \"full\", external = true }", "SYS", "APP") +
					`resource "terraform_data" "fragment" { input = true }`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("config"), stringContains("resolver block is the including configuration's")),
				},
			},
			// Last, so the post-test destroy runs against a valid configuration.
			{
				Config: f.config("  fragment = true\n  resolver = { type = \"full\", external = true }\n  default_sentinel = "+
					fmt.Sprintf("%q", f.sentinel), "SYS", "APP", "AUTH"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("config"), knownvalue.StringFunc(func(v string) error {
						switch {
						case strings.Contains(v, "resolver {") || strings.Contains(v, "resolver:"):
							return fmt.Errorf("the chart's resolver block is rendered in the fragment too:\n%s", v)
						case !strings.Contains(v, f.keys["SYS"]+`: "`+f.jwts["SYS"]+`"`) || strings.Contains(v, f.jwts["APP"]):
							return fmt.Errorf("want only the system account preloaded for a full resolver:\n%s", v)
						case !strings.Contains(v, "default_sentinel: "):
							return fmt.Errorf("the fragment lost the sentinel:\n%s", v)
						}
						return nil
					})),
					// The whole resolver directory is still there to seed the chart's volume from.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("resolver_files").AtMapKey(f.keys["APP"]+".jwt"),
						knownvalue.StringExact(f.jwts["APP"])),
				},
			},
		},
	})
}

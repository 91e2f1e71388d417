package provider

import (
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// accountFactoriesAt starts the provider with its clock fixed at now.
func accountFactoriesAt(now time.Time) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"natsping": func() (tfprotov6.ProviderServer, error) {
			return newProviderServer(&natspingProvider{version: "test", now: func() time.Time { return now }}), nil
		},
	}
}

func TestAccAccount_invalidInputs(t *testing.T) {
	_, opSeed := testAccOperatorSeed(t)
	_, accountSeed, _ := natsjwt.NewKey(natsjwt.KindAccount)
	_, userSeed, _ := natsjwt.NewKey(natsjwt.KindUser)
	other := testAccPub(t, natsjwt.KindAccount)
	tests := []struct {
		name, signer, attrs string
		want                string
	}{
		{"export subject with empty token", opSeed, `exports = [{ type = "stream", subject = "orders..created" }]`, `exports\[0\]\.subject(?s:.*)empty\s+token`},
		{"export subject with > not last", opSeed, `exports = [{ type = "stream", subject = "orders.>.x" }]`, `'>'\s+may\s+only\s+be\s+the\s+last\s+token`},
		{"import subject with spaces", opSeed, fmt.Sprintf(`imports = [{ type = "stream", subject = "orders created", account = %q }]`, other), `contains\s+whitespace`},
		{"account seed as operator signer", accountSeed, ``, `account\s+seed\s+\(SA…\)\s+but\s+an\s+operator\s+seed`},
		{"user seed as operator signer", userSeed, ``, `user\s+seed\s+\(SU…\)\s+but\s+an\s+operator\s+seed`},
		{"negative limit", opSeed, `limits = { max_connections = -2 }`, `max_connections(?s:.*)at\s+least\s+-1`},
		{"negative jetstream limit", opSeed, `jetstream = { max_streams = -5 }`, `max_streams(?s:.*)at\s+least\s+-1`},
		{"duplicate role names", opSeed, `roles = [{ name = "reader" }, { name = "reader" }]`, `roles\[1\]\.name(?s:.*)already\s+defined\s+at\s+roles\[0\]`},
		{"bad role name", opSeed, `roles = [{ name = "read ers" }]`, `role\s+name\s+"read\s+ers"\s+is\s+invalid`},
		{"bad role template function", opSeed, `roles = [{ name = "r", permissions = { pub_allow = ["orders.{{group()}}"] } }]`, `unknown\s+template\s+function\s+"group"`},
		{"template outside a role", opSeed, `default_permissions = { pub_allow = ["orders.{{tag(team)}}"] }`, `only\s+role\s+templates`},
		{"allowed accounts without auth users", opSeed, fmt.Sprintf(`authorization = { allowed_accounts = [%q] }`, other), `allowed_accounts(?s:.*)auth_users\s+is\s+empty`},
		{"tiered and untiered jetstream", opSeed, `jetstream = { disk_storage = 1024, tiers = { R1 = {} } }`, `mutually\s+exclusive`},
		{"unknown tier", opSeed, `jetstream = { tiers = { R9 = {} } }`, `R1,\s+R2,\s+R3,\s+R4\s+or\s+R5`},
		{"wildcard export not allowed", opSeed, `
  limits  = { allow_wildcard_exports = false }
  exports = [{ type = "stream", subject = "orders.>" }]`, `allow_wildcard_exports\s+is\s+false`},
		{"response type on a stream", opSeed, `exports = [{ type = "stream", subject = "a", response_type = "Stream" }]`, `only\s+services`},
		{"garbage activation token", opSeed, fmt.Sprintf(`imports = [{ type = "service", subject = "a", account = %q, token = "abc" }]`, other), `not\s+a\s+valid\s+activation\s+JWT`},
		{"expiry in the past", opSeed, `expires_at = "2030-05-31T00:00:00Z"`, `2030-05-31T00:00:00Z\s+is\s+not\s+in\s+the\s+future`},
		{"upper-case tag", opSeed, `tags = ["Team:Blue"]`, `write\s+"team:blue"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: accountFactoriesAt(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)),
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`resource "natsping_account" "test" {
  name            = "A"
  operator_signer = %q
  %s
}`, tt.signer, tt.attrs),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tt.want),
				}},
			})
		})
	}
}

// Time passing must not block unrelated changes: once applied, an expiry that has since
// passed only warns, while setting a past expiry fails the plan.
func TestAccAccount_expiryPassesAfterApply(t *testing.T) {
	_, seed := testAccOperatorSeed(t)
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"natsping": func() (tfprotov6.ProviderServer, error) {
			return newProviderServer(&natspingProvider{version: "test", now: func() time.Time { return time.Unix(now.Load(), 0) }}), nil
		},
	}
	config := func(description, expires string) string {
		return fmt.Sprintf(`resource "natsping_account" "test" {
  name            = "A"
  description     = %q
  operator_signer = %q
  expires_at      = %q
}`, description, seed, expires)
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{Config: config("v1", "2030-06-01T00:00:00Z"), ConfigPlanChecks: accountPlan()},
			{
				PreConfig: func() { now.Store(time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC).Unix()) },
				Config:    config("v2", "2030-06-01T00:00:00Z"),
				ConfigPlanChecks: accountPlan(
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionUpdate),
				),
			},
			{
				Config:      config("v2", "2030-06-15T00:00:00Z"),
				ExpectError: regexp.MustCompile(`2030-06-15T00:00:00Z\s+is\s+not\s+in\s+the\s+future`),
			},
		},
	})
}

func TestAccountAttrPath(t *testing.T) {
	t.Parallel()
	f := natsjwt.Field
	tests := []struct {
		field natsjwt.FieldPath
		want  string
	}{
		{f("name"), "name"},
		{f("limits").AtName("max_connections"), "limits.max_connections"},
		{f("imports").AtIndex(2).AtName("token"), "imports[2].token"},
		{f("jetstream").AtName("tiers").AtKey("R3").AtName("max_streams"), `jetstream.tiers["R3"].max_streams`},
		{f("jetstream").AtName("tiers").AtKey("R.3"), `jetstream.tiers["R.3"]`},
		{f("signing_keys").AtIndex(1), "signing_keys"},
		{f("authorization").AtName("auth_users"), "authorization.auth_users"},
		{nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.field.String(), func(t *testing.T) {
			t.Parallel()
			if got := accountAttrPath(tt.field).String(); got != tt.want {
				t.Errorf("accountAttrPath(%s) = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

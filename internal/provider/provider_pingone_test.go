package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// allPingOneEnv is every environment variable the provider reads for PingOne.
var allPingOneEnv = []string{envPingOneRegionCode, envPingOneEnvironmentID, envPingOneClientID, envPingOneClientSecret,
	envPingOneAuthHostname, envPingOneAPIHostname, envPingOneAuthHostnameAlias, envPingOneAPIHostnameAlias}

func TestResolvePingOneSettings(t *testing.T) {
	t.Parallel()
	const secret = "worker-secret-value"
	creds := map[string]string{envPingOneEnvironmentID: pingonetest.DefaultEnvironmentID, envPingOneClientID: "client",
		envPingOneClientSecret: secret}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	str := types.StringValue
	tests := []struct {
		name      string
		model     *pingOneModel
		env       map[string]string
		want      PingOneSettings // compared field by field where set
		offline   bool
		wantError string // in a diagnostic's summary or detail
	}{
		{name: "nothing set: offline in NA", offline: true, want: PingOneSettings{Region: "NA"}},
		{name: "region_code attribute", model: &pingOneModel{RegionCode: str("EU")}, offline: true, want: PingOneSettings{Region: "EU"}},
		{name: "region_code beats PINGONE_REGION_CODE", model: &pingOneModel{RegionCode: str("EU")},
			env: map[string]string{envPingOneRegionCode: "AU"}, offline: true, want: PingOneSettings{Region: "EU"}},
		{name: "deprecated region still works", model: &pingOneModel{Region: str("CA")}, offline: true, want: PingOneSettings{Region: "CA"}},
		{name: "region and region_code agreeing", model: &pingOneModel{Region: str("SG"), RegionCode: str("SG")}, offline: true,
			want: PingOneSettings{Region: "SG"}},
		{name: "region and region_code disagreeing", model: &pingOneModel{Region: str("EU"), RegionCode: str("NA")},
			wantError: `region = "EU" and region_code = "NA" disagree`},
		{name: "PINGONE_REGION_CODE", env: map[string]string{envPingOneRegionCode: "AP"}, offline: true, want: PingOneSettings{Region: "AP"}},
		{name: "unknown PINGONE_REGION_CODE", env: map[string]string{envPingOneRegionCode: "US"},
			wantError: `PINGONE_REGION_CODE is "US"; use one of AP, AU, CA, EU, NA, SG`},
		{name: "PingOne provider hostname variables", env: with(creds, envPingOneAPIHostname, "api.example.com",
			envPingOneAuthHostname, "auth.example.com"),
			want: PingOneSettings{Region: "NA", APIHostname: "api.example.com", AuthHostname: "auth.example.com",
				EnvironmentID: pingonetest.DefaultEnvironmentID, ClientID: "client", ClientSecret: secret}},
		{name: "older hostname variables", env: with(creds, envPingOneAPIHostnameAlias, "api.old", envPingOneAuthHostnameAlias, "auth.old"),
			want: PingOneSettings{APIHostname: "api.old", AuthHostname: "auth.old"}},
		{name: "both names agreeing", env: with(creds, envPingOneAPIHostname, "api.same", envPingOneAPIHostnameAlias, "api.same"),
			want: PingOneSettings{APIHostname: "api.same"}},
		{name: "both names disagreeing", env: with(creds, envPingOneAPIHostname, "api.new", envPingOneAPIHostnameAlias, "api.old"),
			wantError: `PINGONE_API_SERVICE_HOSTNAME="api.new" and PINGONE_API_HOSTNAME="api.old" disagree`},
		{name: "auth names disagreeing", env: with(creds, envPingOneAuthHostname, "auth.new", envPingOneAuthHostnameAlias, "auth.old"),
			wantError: `PINGONE_AUTH_SERVICE_HOSTNAME="auth.new" and PINGONE_AUTH_HOSTNAME="auth.old" disagree`},
		{name: "attributes beat disagreeing variables", model: &pingOneModel{APIHostname: str("api.attr"), AuthHostname: str("auth.attr")},
			env: with(creds, envPingOneAPIHostname, "api.new", envPingOneAPIHostnameAlias, "api.old",
				envPingOneAuthHostname, "auth.new", envPingOneAuthHostnameAlias, "auth.old"),
			want: PingOneSettings{APIHostname: "api.attr", AuthHostname: "auth.attr"}},
		{name: "partial credentials name what is missing", env: map[string]string{envPingOneClientID: "client"},
			wantError: "environment_id is missing. Set it (or PINGONE_ENVIRONMENT_ID)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var diags diag.Diagnostics
			got, configured := resolvePingOneSettings(tt.model, func(k string) string { return tt.env[k] }, &diags)
			for _, d := range diags {
				if strings.Contains(d.Summary()+d.Detail(), secret) {
					t.Fatalf("a diagnostic shows the client secret: %s: %s", d.Summary(), d.Detail())
				}
			}
			if tt.wantError != "" {
				for _, d := range diags {
					if d.Severity() == diag.SeverityError && strings.Contains(d.Detail(), tt.wantError) {
						return
					}
				}
				t.Fatalf("want an error containing %q, got %v", tt.wantError, diags)
			}
			if diags.HasError() {
				t.Fatalf("unexpected errors: %v", diags)
			}
			if configured == tt.offline {
				t.Fatalf("configured = %v, want %v", configured, !tt.offline)
			}
			for field, pair := range map[string][2]string{
				"Region": {got.Region, tt.want.Region}, "APIHostname": {got.APIHostname, tt.want.APIHostname},
				"AuthHostname": {got.AuthHostname, tt.want.AuthHostname}, "EnvironmentID": {got.EnvironmentID, tt.want.EnvironmentID},
				"ClientID": {got.ClientID, tt.want.ClientID}, "ClientSecret": {got.ClientSecret, tt.want.ClientSecret},
			} {
				if pair[1] != "" && pair[0] != pair[1] {
					t.Errorf("%s = %q, want %q", field, pair[0], pair[1])
				}
			}
		})
	}
}

// The environment one shell sets for the PingOne provider configures natsping too, the older
// names keep working, and the attribute names are checked against each other while planning.
func TestAccProvider_pingOneEnvironmentConventions(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	for _, env := range allPingOneEnv {
		t.Setenv(env, "")
	}
	id, secret := srv.WorkerCredentials()
	t.Setenv(envPingOneEnvironmentID, srv.EnvironmentID())
	t.Setenv(envPingOneClientID, id)
	t.Setenv(envPingOneClientSecret, secret)
	t.Setenv(envPingOneRegionCode, "EU")
	const closed = "127.0.0.1:1" // nothing listens there: a request sent to it fails
	managers := `data "natsping_ping_groups" "managers" { filter = "name eq \"Managers\"" }`
	found := []statecheck.StateCheck{
		statecheck.ExpectKnownValue("data.natsping_ping_groups.managers", tfjsonpath.New("groups"), namesCheck("Managers")),
	}
	hostnames := func(host string) string {
		return "\n  api_hostname  = \"" + host + "\"\n  auth_hostname = \"" + host + "\"\n"
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					t.Setenv(envPingOneAPIHostname, srv.Host())
					t.Setenv(envPingOneAuthHostname, srv.Host())
				},
				Config:            `provider "natsping" {}` + "\n" + managers,
				ConfigStateChecks: found,
			},
			{
				PreConfig: func() {
					t.Setenv(envPingOneAPIHostname, "")
					t.Setenv(envPingOneAuthHostname, "")
					t.Setenv(envPingOneAPIHostnameAlias, srv.Host())
					t.Setenv(envPingOneAuthHostnameAlias, srv.Host())
				},
				Config:            `provider "natsping" {}` + "\n" + managers,
				ConfigStateChecks: found,
			},
			{
				PreConfig:   func() { t.Setenv(envPingOneAPIHostname, closed) },
				Config:      `provider "natsping" {}` + "\n" + managers,
				ExpectError: regexp.MustCompile(`(?s)Conflicting PingOne environment variables.*PINGONE_API_SERVICE_HOSTNAME="127\.0\.0\.1:1".*PINGONE_API_HOSTNAME=.*older\s+name`),
			},
			{
				// Attributes win over the environment, even over names that disagree.
				Config:            "provider \"natsping\" {\n  pingone = {" + hostnames(srv.Host()) + "  }\n}\n" + managers,
				ConfigStateChecks: found,
			},
			{
				Config: "provider \"natsping\" {\n  pingone = {\n    region = \"EU\"\n    region_code = \"NA\"" + hostnames(srv.Host()) +
					"  }\n}\n" + managers,
				ExpectError: regexp.MustCompile(`(?s)Conflicting PingOne region.*region\s+=\s+"EU"\s+and\s+region_code\s+=\s+"NA"\s+disagree.*remove\s+region`),
			},
			{
				// The deprecated name alone still configures the region.
				Config:            "provider \"natsping\" {\n  pingone = {\n    region = \"EU\"" + hostnames(srv.Host()) + "  }\n}\n" + managers,
				ConfigStateChecks: found,
			},
		},
	})
}

package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// testAccTrustPingOne makes the provider under test trust srv's certificate the way a user
// trusts a private endpoint: through PINGONE_CA_BUNDLE_FILE. It uses t.Setenv, so the calling
// test cannot be parallel.
func testAccTrustPingOne(t *testing.T, srv *pingonetest.Server) {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "pingone-ca.pem")
	if err := os.WriteFile(caFile, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(pingOneCABundleEnv, caFile)
}

// testAccPingOneProviderConfig points the provider's pingone block at srv.
func testAccPingOneProviderConfig(srv *pingonetest.Server, clientSecret string) string {
	id, secret := srv.WorkerCredentials()
	if clientSecret != "" {
		secret = clientSecret
	}
	return fmt.Sprintf(`
provider "natsping" {
  pingone = {
    region_code    = "EU"
    environment_id = %q
    client_id      = %q
    client_secret  = %q
    auth_hostname  = %q
    api_hostname   = %q
  }
}
`, srv.EnvironmentID(), id, secret, srv.Host(), srv.Host())
}

func groupCheck(id, name string, description, externalID, populationID knownvalue.Check) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"id":            knownvalue.StringExact(id),
		"name":          knownvalue.StringExact(name),
		"description":   description,
		"external_id":   externalID,
		"population_id": populationID,
	})
}

func namesCheck(names ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, len(names))
	for i, n := range names {
		checks[i] = knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(n)})
	}
	return knownvalue.ListExact(checks)
}

func TestAccPingGroupsDataSource(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	provider := testAccPingOneProviderConfig(srv, "")
	groups := tfjsonpath.New("groups")

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: provider + `data "natsping_ping_groups" "all" {}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_ping_groups.all", groups, knownvalue.ListExact([]knownvalue.Check{
						groupCheck("99999999-0002-4000-8000-000000000002", "Engineering",
							knownvalue.StringExact("Population group with dynamic membership"),
							knownvalue.StringExact("ext-eng-001"), knownvalue.StringExact(pingonetest.DefaultPopulationID)),
						groupCheck("99999999-0003-4000-8000-000000000003", "Engineering Read-Only",
							knownvalue.StringExact("Developers with read-only access"),
							knownvalue.Null(), knownvalue.StringExact(pingonetest.DefaultPopulationID)),
						groupCheck("99999999-0001-4000-8000-000000000001", "Managers",
							knownvalue.StringExact("Environment-level static group"), knownvalue.Null(), knownvalue.Null()),
					})),
				},
			},
			{
				// An administrator renames one group and deletes another: the next plan must show it.
				PreConfig: func() {
					if err := srv.RenameGroup("99999999-0001-4000-8000-000000000001", "Platform Leads"); err != nil {
						t.Fatal(err)
					}
					if err := srv.DeleteGroup("99999999-0003-4000-8000-000000000003"); err != nil {
						t.Fatal(err)
					}
				},
				Config: provider + `data "natsping_ping_groups" "all" {}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_ping_groups.all", groups, namesCheck("Engineering", "Platform Leads")),
				},
			},
			{
				Config: provider + `
data "natsping_ping_groups" "eng" {
  filter = "name sw \"eng\" and population.id eq \"` + pingonetest.DefaultPopulationID + `\""
}
data "natsping_ping_groups" "by_name" {
  filter = "name eq \"Platform Leads\""
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_ping_groups.eng", groups, namesCheck("Engineering")),
					statecheck.ExpectKnownValue("data.natsping_ping_groups.by_name", groups, namesCheck("Platform Leads")),
				},
			},
			{
				Config:      provider + `data "natsping_ping_groups" "bad" { filter = "title eq \"x\"" }`,
				ExpectError: regexp.MustCompile(`(?s)Invalid PingOne group filter.*INVALID_FILTER.*unsupported\s+attribute\s+"title"`),
			},
			{
				Config:      provider + `data "natsping_ping_groups" "empty" { filter = "" }`,
				ExpectError: regexp.MustCompile(`(?s)Attribute\s+filter\s+string\s+length\s+must\s+be\s+at\s+least\s+1`),
			},
			{
				Config:      testAccPingOneProviderConfig(srv, "not-the-secret") + `data "natsping_ping_groups" "all" {}`,
				ExpectError: regexp.MustCompile(`(?s)Cannot list PingOne groups.*HTTP\s+401\s+invalid_client`),
			},
		},
	})
}

func TestAccPingGroupsDataSource_withoutPingOne(t *testing.T) {
	for _, env := range allPingOneEnv {
		t.Setenv(env, "")
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `data "natsping_ping_groups" "all" {}`,
			ExpectError: regexp.MustCompile("(?s)PingOne is not configured.*Configure the provider's\\s+`pingone`\\s+block.*PINGONE_CLIENT_SECRET"),
		}},
	})
}

func TestPingOneHTTPClient(t *testing.T) {
	t.Parallel()
	srv := pingonetest.New(pingonetest.Options{})
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fixtureCA := write("ca.pem", srv.CAPEM())
	notPEM := write("not.pem", []byte("hello"))
	tests := []struct {
		name       string
		caFile     string
		wantErr    string
		wantTrusts bool
	}{
		{name: "system roots only", caFile: ""},
		{name: "extra CA", caFile: fixtureCA, wantTrusts: true},
		{name: "missing file", caFile: filepath.Join(dir, "missing.pem"), wantErr: "PINGONE_CA_BUNDLE_FILE: cannot read the CA bundle"},
		{name: "not PEM", caFile: notPEM, wantErr: "holds no certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc, err := pingOneHTTPClient(tt.caFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.JWKSURL(), nil)
			resp, err := hc.Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			if trusted := err == nil; trusted != tt.wantTrusts {
				t.Fatalf("request error = %v; want trusted=%v", err, tt.wantTrusts)
			}
		})
	}
}

func TestNewPingOneClientReportsBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings *PingOneSettings
		wantErr  string
	}{
		{name: "not configured", wantErr: "Configure the provider's `pingone` block"},
		{name: "environment id", settings: &PingOneSettings{Region: "NA", EnvironmentID: "prod", ClientID: "a", ClientSecret: "b"},
			wantErr: `invalid PingOne settings in the provider's ` + "`pingone`" + ` block or PINGONE_* environment variables: PingOne environment id "prod" is not a UUID`},
		{name: "hostname", settings: &PingOneSettings{EnvironmentID: pingonetest.DefaultEnvironmentID, ClientID: "a",
			ClientSecret: "b", APIHostname: "https://api.example.com/"}, wantErr: "API hostname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newPingOneClient(tt.settings)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/pingone"
)

// The PingOne settings fall back to the environment variables the PingOne Terraform provider
// reads, so one shell environment serves both providers. The names natsping used before
// (`region`, PINGONE_AUTH_HOSTNAME, PINGONE_API_HOSTNAME) stay accepted as aliases.
const (
	envPingOneRegionCode    = "PINGONE_REGION_CODE"
	envPingOneEnvironmentID = "PINGONE_ENVIRONMENT_ID"
	envPingOneClientID      = "PINGONE_CLIENT_ID"
	envPingOneClientSecret  = "PINGONE_CLIENT_SECRET"
	envPingOneAuthHostname  = "PINGONE_AUTH_SERVICE_HOSTNAME"
	envPingOneAPIHostname   = "PINGONE_API_SERVICE_HOSTNAME"
	// Older natsping names of the two above.
	envPingOneAuthHostnameAlias = "PINGONE_AUTH_HOSTNAME"
	envPingOneAPIHostnameAlias  = "PINGONE_API_HOSTNAME"
)

// checkRegionAlias refuses region and region_code set to different values: whichever one
// lost, the user would believe groups are checked in a region they are not.
func checkRegionAlias(m *pingOneModel, diags *diag.Diagnostics) {
	if !isSet(m.Region) || !isSet(m.RegionCode) || m.Region.ValueString() == m.RegionCode.ValueString() {
		return
	}
	diags.AddAttributeError(path.Root("pingone").AtName("region"), "Conflicting PingOne region",
		fmt.Sprintf("region = %q and region_code = %q disagree. region is the deprecated name of region_code: "+
			"remove region and set region_code to the region of the PingOne environment.",
			m.Region.ValueString(), m.RegionCode.ValueString()))
}

// resolvePingOneSettings applies, per setting, the attribute, else its environment variables,
// else the default. configured reports whether any credential was given at all; the provider
// is offline otherwise.
func resolvePingOneSettings(m *pingOneModel, getenv func(string) string, diags *diag.Diagnostics) (s PingOneSettings, configured bool) {
	if m == nil {
		m = &pingOneModel{}
	}
	checkRegionAlias(m, diags)
	region := m.RegionCode
	if !isSet(region) {
		region = m.Region
	}
	s = PingOneSettings{
		Region:        attrOrEnv(region, getenv, diags, envPingOneRegionCode),
		EnvironmentID: attrOrEnv(m.EnvironmentID, getenv, diags, envPingOneEnvironmentID),
		ClientID:      attrOrEnv(m.ClientID, getenv, diags, envPingOneClientID),
		ClientSecret:  attrOrEnv(m.ClientSecret, getenv, diags, envPingOneClientSecret),
		AuthHostname:  attrOrEnv(m.AuthHostname, getenv, diags, envPingOneAuthHostname, envPingOneAuthHostnameAlias),
		APIHostname:   attrOrEnv(m.APIHostname, getenv, diags, envPingOneAPIHostname, envPingOneAPIHostnameAlias),
	}
	if s.Region == "" {
		s.Region = pingone.DefaultRegion
	}
	if !slices.Contains(pingone.Regions(), s.Region) {
		// The schema validates the attributes, so this value came from the environment.
		diags.AddAttributeError(path.Root("pingone").AtName("region_code"), "Unknown PingOne region",
			fmt.Sprintf("%s is %q; use one of %s.", envPingOneRegionCode, s.Region, strings.Join(pingone.Regions(), ", ")))
	}
	configured = s.EnvironmentID != "" || s.ClientID != "" || s.ClientSecret != ""
	if !configured {
		return s, false
	}
	for _, c := range []struct{ attr, env, value string }{
		{"environment_id", envPingOneEnvironmentID, s.EnvironmentID},
		{"client_id", envPingOneClientID, s.ClientID},
		{"client_secret", envPingOneClientSecret, s.ClientSecret},
	} {
		if c.value == "" {
			diags.AddAttributeError(path.Root("pingone").AtName(c.attr), "Incomplete PingOne credentials",
				fmt.Sprintf("PingOne is partly configured but %s is missing. Set it (or %s), or remove the other "+
					"PingOne settings to run offline.", c.attr, c.env))
		}
	}
	return s, true
}

// attrOrEnv returns the attribute when it is set, else the first of envs that is set. Names of
// one setting that disagree are an error rather than a silent choice: the wrong hostname would
// receive the worker application's credentials.
func attrOrEnv(v types.String, getenv func(string) string, diags *diag.Diagnostics, envs ...string) string {
	if isSet(v) {
		return v.ValueString()
	}
	value, from := "", ""
	for _, env := range envs {
		got := getenv(env)
		switch {
		case got == "":
		case value == "":
			value, from = got, env
		case got != value:
			diags.AddError("Conflicting PingOne environment variables",
				fmt.Sprintf("%s=%q and %s=%q disagree. %s is the older name of %s: unset it, or give both the "+
					"same value.", from, value, env, got, env, from))
		}
	}
	return value
}

func isSet(v types.String) bool { return !v.IsNull() && !v.IsUnknown() }

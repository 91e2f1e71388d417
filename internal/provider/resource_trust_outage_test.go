package provider

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// An existing trust whose issuer goes away still plans: with no change the plan is empty,
// another change applies with the keys reviewed before the outage, and only what needs the
// issuer's answer (a changed issuer, strict_issuer_checks) fails.
func TestAccTrust_issuerOutageKeepsReviewedKeys(t *testing.T) {
	o := newTrustOffline(t)
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	kid := idp.ActiveKeyID()
	config := func(extra string) string { return o.config(idp.Issuer(), "allow_insecure_http = true\n  "+extra) }
	keysKept := statecheck.CompareValue(compare.ValuesSame())
	issuerNamed := regexp.QuoteMeta(idp.Issuer())

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					keysKept.AddStateValue(trustRes, tfjsonpath.New("jwks_keys")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_keys"), jwksKidsCheck(kid)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("strict_issuer_checks"), knownvalue.Bool(false)),
				},
			},
			{
				// The issuer is gone: refresh and plan succeed and show no change.
				PreConfig: idp.Close,
				Config:    config(""),
				PlanOnly:  true,
			},
			{
				// An unrelated change still applies, rendered with the reviewed keys.
				Config: config(`audit_subject = "natsping.audit"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_keys"), jwksKidsCheck(kid)),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_uri"), knownvalue.StringExact(idp.JWKSURL())),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					keysKept.AddStateValue(trustRes, tfjsonpath.New("jwks_keys")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutDoc(func(d *calloutconfig.Document) error {
						if d.Issuer.JWKSURL != idp.JWKSURL() || d.NATS.AuditSubject != "natsping.audit" {
							return errors.New("callout_config lost the reviewed jwks_url or the applied audit_subject: " +
								d.Issuer.JWKSURL + " " + d.NATS.AuditSubject)
						}
						return nil
					})),
				},
			},
			{
				// Keys of the old issuer say nothing about a new one.
				Config: strings.Replace(config(`audit_subject = "natsping.audit"`), idp.Issuer(),
					"http://127.0.0.1:1/"+pingonetest.DefaultEnvironmentID+"/as", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Cannot read the Ping issuer's keys.*127\.0\.0\.1:1.*issuer,\s+ca_bundle_pem\s+or\s+allow_insecure_http\s+changed`),
			},
			{
				// Opting into strict checks makes the same outage an error naming the issuer.
				Config:      config("audit_subject = \"natsping.audit\"\n  strict_issuer_checks = true"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Cannot read the Ping issuer's keys.*` + issuerNamed + `.*(refused|connect).*strict_issuer_checks\s+is\s+true`),
			},
		},
	})
}

// A trust created with strict_issuer_checks fails its plan as soon as the issuer's JWKS is
// unavailable (an HTTP 503 here, with discovery still answering).
func TestAccTrust_strictIssuerChecksFailClosed(t *testing.T) {
	o := newTrustOffline(t)
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	config := o.config(idp.Issuer(), "allow_insecure_http = true\n  strict_issuer_checks = true")

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("strict_issuer_checks"), knownvalue.Bool(true)),
				},
			},
			{
				PreConfig:   func() { idp.SetJWKSAvailable(false) },
				Config:      config,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Cannot read the Ping issuer's keys.*` + regexp.QuoteMeta(idp.JWKSURL()) + `.*503.*strict_issuer_checks\s+is\s+true`),
			},
			{
				// Back to the default: the same outage only warns.
				Config:   o.config(idp.Issuer(), "allow_insecure_http = true"),
				PlanOnly: true,
				// strict_issuer_checks true -> false is a change to apply, so the plan is not
				// empty; what matters is that it is made at all.
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// issuerUnavailable decides, and says, whether a plan may go on with the reviewed keys.
func TestIssuerUnavailable(t *testing.T) {
	const issuer = "https://auth.pingone.eu/env/as"
	reviewed := jwksKeysValue([]oidc.KeyFingerprint{{KID: "k1", KeyType: "RSA", Use: "sig", Thumbprint: "tp"}})
	existing := func() *trustModel {
		return &trustModel{
			Issuer: types.StringValue(issuer), AllowInsecureHTTP: types.BoolValue(false),
			PinnedJWKS: jsontypes.NewNormalizedNull(), JWKSURI: types.StringValue(issuer + "/jwks"), JWKSKeys: reviewed,
			StrictIssuerChecks: types.BoolValue(false),
		}
	}
	fetchErr := errors.New(`OIDC discovery for issuer "` + issuer + `": GET ` + issuer +
		`/.well-known/openid-configuration: dial tcp: connection refused`)
	cases := []struct {
		name      string
		plan      func(*trustModel)
		state     func(*trustModel) *trustModel
		err       error
		wantError string // in the error's detail; "" expects a warning and the reviewed keys
	}{
		{name: "existing trust warns and keeps the keys"},
		{name: "an error that does not name the issuer gets it named", err: errors.New("fetching JWKS: HTTP 503")},
		{name: "create", state: func(*trustModel) *trustModel { return nil }, wantError: "A new trust fails closed"},
		{name: "strict", plan: func(m *trustModel) { m.StrictIssuerChecks = types.BoolValue(true) },
			wantError: "strict_issuer_checks is true"},
		{name: "strict unknown counts as strict", plan: func(m *trustModel) { m.StrictIssuerChecks = types.BoolUnknown() },
			wantError: "strict_issuer_checks is true"},
		{name: "issuer changed", state: func(s *trustModel) *trustModel { s.Issuer = types.StringValue(issuer + "/old"); return s },
			wantError: "cannot stand in"},
		{name: "CA bundle changed", plan: func(m *trustModel) { m.CABundlePEM = types.StringValue("pem") },
			wantError: "cannot stand in"},
		{name: "allow_insecure_http changed", plan: func(m *trustModel) { m.AllowInsecureHTTP = types.BoolValue(true) },
			wantError: "cannot stand in"},
		{name: "state was pinned", state: func(s *trustModel) *trustModel {
			s.PinnedJWKS, s.JWKSURI = jsontypes.NewNormalizedValue(`{"keys":[]}`), types.StringNull()
			return s
		}, wantError: "cannot stand in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, state := existing(), existing()
			plan.JWKSURI, plan.JWKSKeys = types.StringUnknown(), types.ListUnknown(reviewed.ElementType(t.Context()))
			if c.plan != nil {
				c.plan(plan)
			}
			if c.state != nil {
				state = c.state(state)
			}
			err := fetchErr
			if c.err != nil {
				err = c.err
			}
			var diags diag.Diagnostics
			issuerUnavailable(plan, state, err, &diags)

			if len(diags) != 1 {
				t.Fatalf("want exactly one diagnostic, got %v", diags)
			}
			d := diags[0]
			if !strings.Contains(d.Detail(), `"`+issuer+`"`) || !strings.Contains(d.Detail(), err.Error()) {
				t.Errorf("the detail must name the issuer and the error %q:\n%s", err, d.Detail())
			}
			if c.wantError != "" {
				if d.Severity() != diag.SeverityError || !strings.Contains(d.Detail(), c.wantError) {
					t.Fatalf("want an error saying %q, got %s: %s\n%s", c.wantError, d.Severity(), d.Summary(), d.Detail())
				}
				if !plan.JWKSKeys.IsUnknown() {
					t.Errorf("an error must not fill in keys, got %v", plan.JWKSKeys)
				}
				return
			}
			if d.Severity() != diag.SeverityWarning || !strings.Contains(d.Detail(), "strict_issuer_checks = true") {
				t.Fatalf("want a warning pointing at strict_issuer_checks, got %s: %s\n%s", d.Severity(), d.Summary(), d.Detail())
			}
			if !plan.JWKSKeys.Equal(reviewed) || !plan.JWKSURI.Equal(state.JWKSURI) {
				t.Errorf("the plan must carry the reviewed keys: jwks_uri %v, jwks_keys %v", plan.JWKSURI, plan.JWKSKeys)
			}
		})
	}
}

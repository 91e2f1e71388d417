package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// introspectionChainConfig is the chain with the given introspection attribute on the trust.
func introspectionChainConfig(idp *pingonetest.Server, introspection string) string {
	return chainConfig(idp, introspection, "")
}

// introspectionBlock is an introspection attribute with the fixture's client; extra adds
// endpoint or auth_method lines.
func introspectionBlock(idp *pingonetest.Server, extra string) string {
	id, secret := idp.IntrospectionCredentials()
	return fmt.Sprintf(`introspection = {
    client_id     = %q
    client_secret = %q
    %s
  }`, id, secret, extra)
}

// introspectionDoc expects the callout config's introspection section to be exactly want.
func introspectionDoc(want *calloutconfig.Introspection) knownvalue.Check {
	return calloutDoc(func(d *calloutconfig.Document) error {
		got := d.Issuer.Introspection
		switch {
		case want == nil && got == nil:
			return nil
		case want == nil || got == nil || *got != *want:
			return fmt.Errorf("issuer.introspection is %s, want %s", describeIntrospection(got), describeIntrospection(want))
		}
		return nil
	})
}

// describeIntrospection prints a section without its secret, which must not reach test logs.
func describeIntrospection(in *calloutconfig.Introspection) string {
	if in == nil {
		return "absent"
	}
	return fmt.Sprintf("{endpoint %s, client_id %s, auth_method %s, secret of %d bytes}", in.Endpoint, in.ClientID, in.AuthMethod, len(in.ClientSecret))
}

// issuerClock is the wall clock plus a skip, shared by the fixture issuer and the callout, so
// a check can move both past the callout's positive-answer window without waiting for it.
type issuerClock struct{ skip atomic.Int64 }

func (c *issuerClock) now() time.Time          { return time.Now().Add(time.Duration(c.skip.Load())) }
func (c *issuerClock) advance(d time.Duration) { c.skip.Add(int64(d)) }

// auditBuffer collects the callout's audit lines.
type auditBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *auditBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// reasons lists the decisions for token, oldest first, as "allow ok" or "deny <reason>".
func (b *auditBuffer) reasons(token string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec callout.AuditRecord
		if json.Unmarshal([]byte(line), &rec) == nil && rec.TokenSHA256 == oidc.TokenHash(token) {
			out = append(out, rec.Decision+" "+string(rec.Reason))
		}
	}
	return out
}

// opaqueTokensConnect boots nats-server from the rendered server config and the real callout
// from the trust's callout_config, on the fixture's clock, then holds the callout to what the
// trust promises: an opaque token of the mapped group connects with its role; once the issuer
// has revoked it and the positive-answer window has passed it is refused token_inactive; a
// JWT is still verified locally. claims shapes the opaque token (PingFederate sends no iss
// and iat).
func opaqueTokensConnect(t *testing.T, idp *pingonetest.Server, clk *issuerClock, claims pingonetest.TokenOptions) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		audit := &auditBuffer{}
		rt, stop, err := startChain(s, t.TempDir(), callout.Options{AuditWriter: audit, Now: clk.now})
		if err != nil {
			return err
		}
		defer stop()
		connect := rt.connect

		claims.Audience, claims.Groups = []string{chainAudience}, []string{"orders-readers"}
		opaque := idp.IssueOpaqueToken(claims)
		before := idp.IntrospectionRequests()
		if err := connect(opaque); err != nil {
			return fmt.Errorf("the opaque token was refused: %w (audit %v)", err, audit.reasons(opaque))
		}
		if idp.IntrospectionRequests() == before {
			return errors.New("the opaque token was admitted without asking the issuer")
		}
		idp.RevokeToken(opaque)
		clk.advance(oidc.DefaultIntrospectionFreshFor)
		if err := connect(opaque); err == nil {
			return errors.New("a revoked opaque token still connects after the positive-answer window")
		}
		if err := waitFor(5*time.Second, func() error {
			if got := audit.reasons(opaque); len(got) != 2 || got[0] != "allow ok" || got[1] != "deny "+string(oidc.ReasonTokenInactive) {
				return fmt.Errorf("decisions for the opaque token: %v, want allow then deny token_inactive", got)
			}
			return nil
		}); err != nil {
			return err
		}
		jwtRequests := idp.IntrospectionRequests()
		if err := connect(idp.IssueToken(pingonetest.TokenOptions{Audience: []string{chainAudience},
			Groups: []string{"orders-readers"}})); err != nil {
			return fmt.Errorf("a JWT was refused by an introspecting callout: %w", err)
		}
		if idp.IntrospectionRequests() != jwtRequests {
			return errors.New("a JWT was sent to the introspection endpoint")
		}
		return nil
	}
}

// The introspection block plans the endpoint from discovery or as configured, keeps the
// client secret out of every plan, renders what the callout needs to admit opaque tokens, and
// changes nothing but the callout config.
func TestAccTrust_introspectionEndToEnd(t *testing.T) {
	clk := &issuerClock{}
	idp := pingonetest.New(pingonetest.Options{Now: clk.now})
	t.Cleanup(idp.Close)
	id, secret := idp.IntrospectionCredentials()
	discovered := introspectionChainConfig(idp, introspectionBlock(idp, ""))
	pingFederate := introspectionChainConfig(idp, introspectionBlock(idp, fmt.Sprintf(
		"endpoint    = %q\n    auth_method = \"client_secret_post\"", idp.PingFederateIntrospectionURL())))
	secretHidden := []plancheck.PlanCheck{
		plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("introspection").AtMapKey("client_secret")),
		plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("callout_config")),
	}
	jwtKept := statecheck.CompareValue(compare.ValuesSame())

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: discovered,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(secretHidden,
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.IntrospectionURL())),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection").AtMapKey("auth_method"), knownvalue.StringExact("client_secret_basic")),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection").AtMapKey("endpoint"), knownvalue.Null()),
				)},
				ConfigStateChecks: []statecheck.StateCheck{
					jwtKept.AddStateValue(trustRes, tfjsonpath.New("account_jwt")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(&calloutconfig.Introspection{
						Endpoint: idp.IntrospectionURL(), ClientID: id, ClientSecret: secret, AuthMethod: "client_secret_basic"})),
				},
				Check: opaqueTokensConnect(t, idp, clk, pingonetest.TokenOptions{Subject: "alice"}),
			},
			{
				Config:           discovered,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// PingFederate's path and form authentication, and its answers without iss and iat.
				Config: pingFederate,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(secretHidden,
					plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.PingFederateIntrospectionURL())),
					// Only the callout config changes: the callout account JWT is kept.
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), knownvalue.NotNull()),
				)},
				ConfigStateChecks: []statecheck.StateCheck{
					jwtKept.AddStateValue(trustRes, tfjsonpath.New("account_jwt")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(&calloutconfig.Introspection{
						Endpoint: idp.PingFederateIntrospectionURL(), ClientID: id, ClientSecret: secret, AuthMethod: "client_secret_post"})),
				},
				Check: opaqueTokensConnect(t, idp, clk, pingonetest.TokenOptions{Subject: "bob", Omit: []string{"iss", "iat"}}),
			},
			{
				Config:           pingFederate,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				Config: introspectionChainConfig(idp, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					jwtKept.AddStateValue(trustRes, tfjsonpath.New("account_jwt")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(nil)),
				},
			},
		},
	})
}

// Every bad introspection attribute fails the plan with the attribute's path, before any
// request to the issuer.
func TestAccTrust_introspectionPlanErrors(t *testing.T) {
	o := newTrustOffline(t)
	const issuer = "https://auth.pingone.eu/" + pingonetest.DefaultEnvironmentID + "/as"
	block := func(lines string) string {
		return "introspection = {\n    " + lines + "\n  }"
	}
	const creds = "client_id = \"nats-callout\"\n    client_secret = \"s3cret\"\n    "
	step := func(extra, want string) resource.TestStep {
		return resource.TestStep{Config: o.config(issuer, extra), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(block(creds+`auth_method = "private_key_jwt"`), `(?s)Unsupported client authentication.*"private_key_jwt".*client_secret_basic`),
			step(block(creds+`auth_method = ""`), `(?s)introspection\.auth_method.*at least 1`),
			step(block(creds+`reuse_for = "10m"`), `(?s)Duration too long.*maximum of 5m.*revoked at Ping`),
			step(block(creds+`endpoint = "http://pf.example.com/as/introspect.oauth2"`), `(?s)Introspection endpoint refused.*plain\s+http`),
			step("allow_insecure_http = true\n  "+block(creds+`endpoint = "http://10.0.0.1/as/introspect.oauth2"`),
				`(?s)Introspection endpoint refused.*non-loopback\s+host`),
			step(block(creds+`endpoint = "https://callout:pw@pf.example.com/as/introspect.oauth2"`),
				`(?s)Introspection endpoint refused.*credentials\s+in\s+its\s+user\s+part`),
			step(block(creds+`endpoint = "/as/introspect.oauth2"`), `(?s)Introspection endpoint refused.*not\s+an\s+absolute\s+URL`),
			step(`pinned_jwks = jsonencode({keys = []})`+"\n  "+block(creds), `(?s)Introspection endpoint required.*pinned_jwks`),
			step(block(`client_id = "nats callout"`+"\n    client_secret = \"s3cret\""), `(?s)Invalid client id.*contains\s+a\s+space`),
			step(block(`client_id = "nats-callout"`+"\n    client_secret = \"\""), `(?s)introspection\.client_secret.*at least 1`),
			step(block(`client_id = "nats-callout"`), `(?s)"client_secret"\s+is\s+required`),
		},
	})
}

// A rejected endpoint never has its credentials repeated: the diagnostic ends up in CI logs.
func TestValidateIntrospectionNeverEchoesCredentials(t *testing.T) {
	const password = "pw-0123456789"
	in := types.ObjectValueMust(introspectionAttribute().GetType().(types.ObjectType).AttrTypes, map[string]attr.Value{
		"endpoint":      types.StringValue("https://callout:" + password + "@pf.example.com/as/introspect.oauth2"),
		"client_id":     types.StringValue("nats-callout"),
		"client_secret": types.StringValue("s3cret"),
		"auth_method":   types.StringValue("client_secret_basic"),
		"reuse_for":     types.StringValue("0s"),
	})
	m := &trustModel{Introspection: in, AllowInsecureHTTP: types.BoolValue(false), PinnedJWKS: jsontypes.NewNormalizedNull()}
	var diags diag.Diagnostics
	validateIntrospection(t.Context(), m, &diags)
	if !diags.HasError() {
		t.Fatal("an endpoint with credentials was accepted")
	}
	for _, d := range diags {
		if strings.Contains(d.Summary()+d.Detail(), password) || strings.Contains(d.Detail(), "s3cret") {
			t.Fatalf("the diagnostic repeats a credential: %s: %s", d.Summary(), d.Detail())
		}
	}
}

// An issuer that does not advertise its introspection endpoint needs one configured; with
// pinned_jwks one is needed anyway, and neither makes a request while planning.
func TestAccTrust_introspectionEndpointNotAdvertised(t *testing.T) {
	o := newTrustOffline(t)
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	idp.SetIntrospectionAdvertised(false)
	jwks := fixtureJWKS(t, idp)
	id, secret := idp.IntrospectionCredentials()
	block := func(endpoint string) string {
		b := fmt.Sprintf("introspection = {\n    client_id = %q\n    client_secret = %q\n", id, secret)
		if endpoint != "" {
			b += fmt.Sprintf("    endpoint = %q\n", endpoint)
		}
		return b + "  }"
	}
	config := func(extra string) string { return o.config(idp.Issuer(), "allow_insecure_http = true\n  "+extra) }

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:   config(block("")),
				PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Issuer names no introspection endpoint.*` +
					regexp.QuoteMeta(idp.DiscoveryURL()) + `.*has\s+no\s+introspection_endpoint`),
			},
			{
				Config: config(block(idp.IntrospectionURL())),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.IntrospectionURL())),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(&calloutconfig.Introspection{
						Endpoint: idp.IntrospectionURL(), ClientID: id, ClientSecret: secret, AuthMethod: "client_secret_basic"})),
				},
			},
			{
				// Pinned keys read no discovery: an endpoint must be given, and then the plan
				// makes no request at all.
				PreConfig: idp.Close,
				Config:    config(fmt.Sprintf("pinned_jwks = %q\n  %s", jwks, block(""))),
				PlanOnly:  true, ExpectError: regexp.MustCompile(`(?s)Introspection endpoint required.*pinned_jwks`),
			},
			{
				Config: config(fmt.Sprintf("pinned_jwks = %q\n  %s", jwks, block(idp.PingFederateIntrospectionURL()))),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.PingFederateIntrospectionURL())),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_uri"), knownvalue.Null()),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(&calloutconfig.Introspection{
						Endpoint: idp.PingFederateIntrospectionURL(), ClientID: id, ClientSecret: secret, AuthMethod: "client_secret_basic"})),
				},
			},
		},
	})
}

// An outage at Ping keeps an endpoint read from discovery as reviewed, like the keys; an
// endpoint configured before says nothing about discovery and cannot stand in for it.
func TestAccTrust_introspectionOutageKeepsReviewedEndpoint(t *testing.T) {
	o := newTrustOffline(t)
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	id, secret := idp.IntrospectionCredentials()
	config := func(lines string) string {
		return o.config(idp.Issuer(), fmt.Sprintf("allow_insecure_http = true\n  introspection = {\n    client_id = %q\n    "+
			"client_secret = %q\n    %s\n  }", id, secret, lines))
	}
	explicit := "http://127.0.0.1:9/as/introspect.oauth2"

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.IntrospectionURL())),
				},
			},
			{
				// The issuer is gone: the plan still succeeds and shows no change.
				PreConfig: idp.Close,
				Config:    config(""),
				PlanOnly:  true,
			},
			{
				Config: config(`auth_method = "client_secret_post"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.IntrospectionURL())),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(&calloutconfig.Introspection{
						Endpoint: idp.IntrospectionURL(), ClientID: id, ClientSecret: secret, AuthMethod: "client_secret_post"})),
				},
			},
			{
				Config: config(fmt.Sprintf("endpoint = %q", explicit)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(explicit)),
				},
			},
			{
				Config:   config(""),
				PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Cannot read the issuer's introspection endpoint.*` +
					`the\s+last\s+apply\s+read\s+no\s+endpoint\s+from\s+it`),
			},
		},
	})
}

// Values known only at apply (a secret from another resource) still render a callout config
// the plan promised as unknown, and the next plan is empty.
func TestAccTrust_introspectionKnownAfterApply(t *testing.T) {
	o := newTrustOffline(t)
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	id, secret := idp.IntrospectionCredentials()
	config := fmt.Sprintf(`
resource "terraform_data" "secret" { input = %q }
`, secret) + o.config(idp.Issuer(), fmt.Sprintf(`allow_insecure_http = true
  introspection = {
    client_id     = %q
    client_secret = terraform_data.secret.output
  }`, id))

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(trustRes, tfjsonpath.New("callout_config")),
				plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("introspection_endpoint"), knownvalue.StringExact(idp.IntrospectionURL())),
			}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), introspectionDoc(&calloutconfig.Introspection{
					Endpoint: idp.IntrospectionURL(), ClientID: id, ClientSecret: secret, AuthMethod: "client_secret_basic"})),
			},
		}},
	})
}

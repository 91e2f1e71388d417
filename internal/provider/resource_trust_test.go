package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwttest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

const trustRes = "natsping_trust.ping"

// Ids of pingonetest.DefaultGroups.
const (
	groupManagersID    = "99999999-0001-4000-8000-000000000001"
	groupEngineeringID = "99999999-0002-4000-8000-000000000002"
	groupReadOnlyID    = "99999999-0003-4000-8000-000000000003"
)

// trustChainConfig is the whole graph: operator → account with two roles → two role
// mappings → trust, against the PingOne fixture over TLS.
func trustChainConfig(srv *pingonetest.Server, trustExtra string) string {
	return testAccPingOneProviderConfig(srv, "") + fmt.Sprintf(`
resource "natsping_operator" "op" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.op.signer
  roles = [
    { name = "reader", permissions = { sub_allow = ["orders.>"] } },
    { name = "writer", permissions = { pub_allow = ["orders.>"], sub_allow = ["orders.>"] } },
  ]
}

resource "natsping_role_mapping" "readers" {
  name         = "orders-readers"
  signer       = natsping_account.orders.role_signers["reader"]
  account_name = "ORDERS"
  groups       = ["Engineering Read-Only"]
}

resource "natsping_role_mapping" "writers" {
  name        = "orders-writers"
  signer      = natsping_account.orders.role_signers["writer"]
  groups      = ["Managers", %[3]q]
  priority    = 10
  max_session = "8h"
  tags        = ["team:orders"]
}

resource "natsping_trust" "ping" {
  operator_signer = natsping_operator.op.signer
  issuer          = %[1]q
  audiences       = [%[4]q]
  groups_claim    = "groups"
  ca_bundle_pem   = <<-EOT
%[2]s
EOT
  role_mappings   = [natsping_role_mapping.readers.rule, natsping_role_mapping.writers.rule]
  %[5]s
}
`, srv.Issuer(), strings.TrimSpace(string(srv.CAPEM())), groupEngineeringID, pingonetest.DefaultAppClientID, trustExtra)
}

// calloutDoc parses callout_config the way the service does and hands it to check.
func calloutDoc(check func(*calloutconfig.Document) error) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		doc, err := calloutconfig.Parse([]byte(v))
		if err != nil {
			return fmt.Errorf("callout_config does not parse as the service parses it: %w", err)
		}
		return check(doc)
	})
}

// jwksKidsCheck expects exactly the given key ids in jwks_keys.
func jwksKidsCheck(kids ...string) knownvalue.Check {
	sorted := slices.Clone(kids)
	slices.Sort(sorted)
	checks := make([]knownvalue.Check, len(sorted))
	for i, kid := range sorted {
		checks[i] = knownvalue.ObjectExact(map[string]knownvalue.Check{
			"kid":        knownvalue.StringExact(kid),
			"key_type":   knownvalue.StringExact("RSA"),
			"algorithm":  knownvalue.Null(),
			"use":        knownvalue.StringExact("sig"),
			"thumbprint": knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)),
		})
	}
	return knownvalue.ListExact(checks)
}

func TestAccTrust_chainAndKeyRotation(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	config := trustChainConfig(srv, "")
	firstKid := srv.ActiveKeyID()
	var rotatedKid string
	// A key rotation at Ping changes what is reviewed, not what is signed.
	jwtKept := statecheck.CompareValue(compare.ValuesSame())
	configKept := statecheck.CompareValue(compare.ValuesSame())

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionCreate),
					plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("account_seed")),
					plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("callout_user_creds")),
					plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("xkey_seed")),
					plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("callout_config")),
					plancheck.ExpectSensitiveValue(trustRes, tfjsonpath.New("role_mappings")),
					// Discovery ran while planning: the keys are known before apply.
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_keys"), jwksKidsCheck(firstKid)),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_uri"), knownvalue.StringExact(srv.JWKSURL())),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					jwtKept.AddStateValue(trustRes, tfjsonpath.New("account_jwt")),
					configKept.AddStateValue(trustRes, tfjsonpath.New("callout_config")),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("account_jwt"), "natsping_operator.op", tfjsonpath.New("signing_key"), natsjwttest.IssuedBy()),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("account_jwt"), trustRes, tfjsonpath.New("account_public_key"), natsjwttest.HasSubject()),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("issuer_public_key"), "natsping_operator.op", tfjsonpath.New("signing_key"), compareSame{}),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("sentinel_jwt"), trustRes, tfjsonpath.New("account_signing_key"), natsjwttest.IssuedBy()),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("sentinel_jwt"), trustRes, tfjsonpath.New("sentinel_public_key"), natsjwttest.HasSubject()),
					statecheck.CompareValuePairs(trustRes, tfjsonpath.New("callout_user_creds"), trustRes, tfjsonpath.New("callout_user_public_key"), natsjwttest.CredsFor()),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("xkey_public_key"), natsjwttest.PublicKey(natsjwt.KindCurve)),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_keys"), jwksKidsCheck(firstKid)),
					statecheck.ExpectKnownValue("natsping_role_mapping.writers", tfjsonpath.New("resolved_groups"), knownvalue.ListExact([]knownvalue.Check{
						resolvedGroupCheck(groupEngineeringID, "Engineering", groupEngineeringID),
						resolvedGroupCheck("Managers", "Managers", groupManagersID),
					})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(trustRes, "allowed_accounts.#", "1"),
					resource.TestCheckResourceAttrPair(trustRes, "allowed_accounts.0", "natsping_account.orders", "public_key"),
					checkTrustState(t),
				),
			},
			{
				// Ping rotates its signing key: the next plan must show it as an in-place update
				// of the reviewed keys, and nothing else is re-signed.
				PreConfig: func() { rotatedKid = srv.RotateKey() },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(trustRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_keys"), jwksKidsCheckLate(&firstKid, &rotatedKid)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					jwtKept.AddStateValue(trustRes, tfjsonpath.New("account_jwt")),
					configKept.AddStateValue(trustRes, tfjsonpath.New("callout_config")),
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func resolvedGroupCheck(value, name, id string) knownvalue.Check {
	nameCheck, idCheck := knownvalue.Check(knownvalue.Null()), knownvalue.Check(knownvalue.Null())
	if name != "" {
		nameCheck = knownvalue.StringExact(name)
	}
	if id != "" {
		idCheck = knownvalue.StringExact(id)
	}
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"value": knownvalue.StringExact(value), "name": nameCheck, "id": idCheck,
	})
}

// jwksKidsCheckLate reads the kids when the check runs, after PreConfig rotated the key.
func jwksKidsCheckLate(kids ...*string) knownvalue.Check {
	return lateCheck(func() knownvalue.Check {
		vals := make([]string, len(kids))
		for i, k := range kids {
			vals[i] = *k
		}
		return jwksKidsCheck(vals...)
	})
}

type lateCheck func() knownvalue.Check

func (c lateCheck) CheckValue(v any) error { return c().CheckValue(v) }
func (c lateCheck) String() string         { return "late-bound check" }

// compareSame is compare.ValuesSame for a pair of attributes.
type compareSame struct{}

func (compareSame) CompareValues(values ...any) error {
	if len(values) != 2 || values[0] != values[1] {
		return fmt.Errorf("values differ: %v", values)
	}
	return nil
}

// checkTrustState ties the callout account JWT and the callout config to the rest of the graph.
func checkTrustState(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		trust := s.RootModule().Resources[trustRes].Primary.Attributes
		account := s.RootModule().Resources["natsping_account.orders"].Primary.Attributes
		claims, err := jwt.DecodeAccountClaims(trust["account_jwt"])
		if err != nil {
			return err
		}
		auth := claims.Authorization
		if !slices.Equal(auth.AuthUsers, []string{trust["callout_user_public_key"]}) {
			return fmt.Errorf("auth_users %v, want the callout user %s", auth.AuthUsers, trust["callout_user_public_key"])
		}
		if !slices.Equal(auth.AllowedAccounts, []string{account["public_key"]}) {
			return fmt.Errorf("allowed_accounts %v, want the mappings' account %s", auth.AllowedAccounts, account["public_key"])
		}
		if auth.XKey != trust["xkey_public_key"] {
			return fmt.Errorf("xkey %q, want %s", auth.XKey, trust["xkey_public_key"])
		}
		if !claims.SigningKeys.Contains(trust["account_signing_key"]) {
			return fmt.Errorf("the callout account does not list its signing key %s", trust["account_signing_key"])
		}
		doc, err := calloutconfig.Parse([]byte(trust["callout_config"]))
		if err != nil {
			return fmt.Errorf("callout_config: %w", err)
		}
		if doc.NATS.CalloutAccount != trust["account_public_key"] || doc.NATS.CalloutAccountSeed != trust["account_seed"] ||
			doc.NATS.XKeySeed != trust["xkey_seed"] || doc.Issuer.JWKSURL == "" {
			return fmt.Errorf("callout_config does not carry the trust's keys and jwks_url: %+v", doc.NATS)
		}
		var names []string
		for _, m := range doc.Mappings {
			names = append(names, m.Name)
			if m.Account != account["public_key"] {
				return fmt.Errorf("mapping %s targets %s, want %s", m.Name, m.Account, account["public_key"])
			}
			want := account["role_keys."+m.Role]
			if pub := seedPublicKey(t, m.RoleSigningKeySeed); pub != want {
				return fmt.Errorf("mapping %s signs with %s, want role %s's key %s", m.Name, pub, m.Role, want)
			}
		}
		if !slices.Equal(names, []string{"orders-readers", "orders-writers"}) {
			return fmt.Errorf("mappings %v", names)
		}
		writers := doc.Mappings[1]
		if writers.Priority != 10 || writers.MaxSession.Std().String() != "8h0m0s" || !slices.Equal(writers.Tags, []string{"team:orders"}) ||
			!slices.Equal(writers.Groups, []calloutconfig.Group{{Name: "Engineering", ID: groupEngineeringID}, {Name: "Managers", ID: groupManagersID}}) {
			return fmt.Errorf("orders-writers mapping: %+v", writers)
		}
		return nil
	}
}

func seedPublicKey(t *testing.T, seed string) string {
	t.Helper()
	kp, err := natsjwt.ParseSeed(seed, natsjwt.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return pub
}

// fixtureJWKS fetches the fixture's JWKS as a client of the issuer would.
func fixtureJWKS(t *testing.T, srv *pingonetest.Server) string {
	t.Helper()
	resp, err := srv.Client().Get(srv.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(body) {
		t.Fatalf("fixture JWKS is not JSON: %s", body)
	}
	return string(body)
}

// trustOfflineConfig is a trust with Go-made signers and no PingOne connection: only the
// trust and one role mapping, for the fast tests.
type trustOffline struct {
	operatorSeed, operatorPub string
	accountPub, roleSigner    string
}

func newTrustOffline(t *testing.T) trustOffline {
	t.Helper()
	var o trustOffline
	var err error
	if o.operatorPub, o.operatorSeed, err = natsjwt.NewKey(natsjwt.KindOperator); err != nil {
		t.Fatal(err)
	}
	var roleSeed string
	o.accountPub = testAccPub(t, natsjwt.KindAccount)
	if _, roleSeed, err = natsjwt.NewKey(natsjwt.KindAccount); err != nil {
		t.Fatal(err)
	}
	o.roleSigner = natsjwt.EncodeSigner(&natsjwt.Signer{Owner: o.accountPub, Role: "reader", Seed: roleSeed})
	return o
}

func (o trustOffline) config(issuer, trustExtra string) string {
	return fmt.Sprintf(`
resource "natsping_role_mapping" "readers" {
  name   = "readers"
  signer = %q
  groups = ["Engineering Read-Only"]
}

resource "natsping_trust" "ping" {
  operator_signer = %q
  issuer          = %q
  audiences       = ["nats"]
  groups_claim    = "groups"
  role_mappings   = [natsping_role_mapping.readers.rule]
  %s
}
`, o.roleSigner, o.operatorSeed, issuer, trustExtra)
}

func TestAccTrust_pinnedJWKSNeedsNoNetwork(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{})
	jwks := fixtureJWKS(t, srv)
	kid := srv.ActiveKeyID()
	srv.Close()
	o := newTrustOffline(t)
	// Port 1 on loopback is closed: any request would fail the plan.
	config := o.config("https://127.0.0.1:1/"+pingonetest.DefaultEnvironmentID+"/as",
		fmt.Sprintf("pinned_jwks = %q\n  xkey = false", jwks))

	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_keys"), jwksKidsCheck(kid)),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("jwks_uri"), knownvalue.Null()),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("issuer_public_key"), knownvalue.StringExact(o.operatorPub)),
					plancheck.ExpectKnownValue(trustRes, tfjsonpath.New("allowed_accounts"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(o.accountPub)})),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), natsjwttest.JWTNamed(jwt.AccountClaim, "CALLOUT")),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("callout_config"), calloutDoc(func(d *calloutconfig.Document) error {
						if d.Issuer.JWKSURL != "" || len(d.Issuer.PinnedJWKS) == 0 {
							return fmt.Errorf("pinned mode must carry the keys and no jwks_url: url %q, %d bytes pinned", d.Issuer.JWKSURL, len(d.Issuer.PinnedJWKS))
						}
						if d.NATS.XKeySeed != "" {
							return fmt.Errorf("xkey = false must leave the xkey seed out of the config")
						}
						if len(d.Mappings) != 1 || !slices.Equal(d.Mappings[0].Groups, []calloutconfig.Group{{Name: "Engineering Read-Only"}}) {
							return fmt.Errorf("without PingOne a group name is used as given: %+v", d.Mappings)
						}
						return nil
					})),
					statecheck.ExpectKnownValue(trustRes, tfjsonpath.New("account_jwt"), knownvalue.StringFunc(func(v string) error {
						c, err := jwt.DecodeAccountClaims(v)
						if err != nil {
							return err
						}
						if c.Authorization.XKey != "" {
							return fmt.Errorf("xkey = false, but the account JWT names xkey %s", c.Authorization.XKey)
						}
						return nil
					})),
				},
			},
		},
	})
}

func TestAccTrust_unreachableIssuerFailsClosed(t *testing.T) {
	o := newTrustOffline(t)
	issuer := "https://127.0.0.1:1/" + pingonetest.DefaultEnvironmentID + "/as"
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      o.config(issuer, ""),
			ExpectError: regexp.MustCompile(`(?s)Cannot read the Ping issuer's keys.*127\.0\.0\.1:1.*(refused|connect).*A\s+new\s+trust\s+fails\s+closed`),
		}},
	})
}

func TestAccTrust_planErrors(t *testing.T) {
	o := newTrustOffline(t)
	const issuer = "https://auth.pingone.eu/" + pingonetest.DefaultEnvironmentID + "/as"
	step := func(cfg, want string) resource.TestStep {
		return resource.TestStep{Config: cfg, PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	accountSeedSigner := natsjwt.EncodeSigner(&natsjwt.Signer{Owner: o.accountPub, Seed: mustSeed(t, natsjwt.KindAccount)})
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(o.config("http://auth.example.com/as", ""), `(?s)plain\s+http`),
			step(o.config("http://auth.example.com/as", "allow_insecure_http = true"), `(?s)non-loopback\s+host`),
			step(o.config(issuer, `algorithms = ["none"]`), `(?s)Algorithm refused.*unsigned`),
			step(o.config(issuer, `algorithms = ["HS256"]`), `(?s)Algorithm refused.*shared\s+secret`),
			step(o.config(issuer, `algorithms = ["RS257"]`), `(?s)Unsupported algorithm`),
			step(o.config(issuer, "required_scopes = [\"nats\", \"openid\"]\n  forbidden_scopes = [\"nats\", \"admin\"]"),
				`(?s)Scope both required and forbidden.*"nats"`),
			step(o.config(issuer, `max_token_lifetime = "90 minutes"`), `(?s)Invalid duration`),
			step(o.config(issuer, `max_token_lifetime = "720h"`), `(?s)Duration too long`),
			step(o.config(issuer, `clock_skew = "10m"`), `(?s)Duration too long`),
			step(o.config(issuer, `ca_bundle_pem = "not a certificate"`), `(?s)Invalid CA bundle`),
			step(o.config(issuer, `pinned_jwks = jsonencode({keys = [{kty = "oct", k = "c2VjcmV0"}]})`), `(?s)private or symmetric`),
			step(o.config(issuer, `nats_urls = ["http://nats:4222"]`), `(?s)Invalid URL`),
			step(strings.Replace(o.config(issuer, ""), `groups_claim    = "groups"`, `groups_claim = "groups..x"`, 1), `(?s)dot path`),
			step(withRoleMappings(o.config(issuer, ""), `[natsping_role_mapping.readers.rule, natsping_role_mapping.readers.rule]`),
				`(?s)Duplicate role mapping name.*"readers"`),
			step(withRoleMappings(o.config(issuer, ""), `["{\"name\": \"x\", \"seed\": 1}"]`), `(?s)Not a role mapping rule`),
			step(strings.Replace(o.config(issuer, ""), o.roleSigner, accountSeedSigner, 1), `(?s)Not a role signer.*unscoped signing key`),
			step(strings.Replace(o.config(issuer, ""), `groups = ["Engineering Read-Only"]`, `groups = ["Engineering Read-Only"]`+"\n  max_session = \"48h\"", 1),
				`(?s)Duration too long`),
			step(strings.Replace(o.config(issuer, ""), `groups = ["Engineering Read-Only"]`, `groups = ["x"]`+"\n  tags = [\"role:admin\"]", 1),
				`(?s)Reserved tag key`),
			step(strings.Replace(o.config(issuer, ""), o.operatorSeed, mustSeed(t, natsjwt.KindAccount), 1), `(?s)Invalid signer`),
		},
	})
}

func withRoleMappings(config, list string) string {
	return strings.Replace(config, "role_mappings   = [natsping_role_mapping.readers.rule]", "role_mappings = "+list, 1)
}

func mustSeed(t *testing.T, kind natsjwt.KeyKind) string {
	t.Helper()
	_, seed, err := natsjwt.NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// A lab issuer on plain http works on loopback once the configuration opts in; the rendered
// callout config carries the opt-in so the service accepts the same issuer.
func TestAccTrust_plainHTTPLoopbackIssuer(t *testing.T) {
	o := newTrustOffline(t)
	idp := pingonetest.New(pingonetest.Options{PlainHTTP: true})
	t.Cleanup(idp.Close)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: o.config(idp.Issuer(), ""), ExpectError: regexp.MustCompile(`(?s)plain\s+http`)},
			{
				Config: o.config(idp.Issuer(), "allow_insecure_http = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("natsping_trust.ping", tfjsonpath.New("jwks_uri"), knownvalue.StringExact(idp.JWKSURL())),
					statecheck.ExpectKnownValue("natsping_trust.ping", tfjsonpath.New("callout_config"), knownvalue.StringFunc(func(v string) error {
						doc, err := calloutconfig.Parse([]byte(v))
						if err != nil {
							return err
						}
						if !doc.Issuer.AllowInsecureHTTP || doc.Issuer.JWKSURL != idp.JWKSURL() {
							return fmt.Errorf("callout config issuer = %+v", doc.Issuer)
						}
						return nil
					})),
				},
			},
			{Config: o.config(idp.Issuer(), "allow_insecure_http = true"), PlanOnly: true},
		},
	})
}

// TestAccTrust_operatorSignerCheckedAgainstOperatorJWT: with operator_jwt, the plan refuses the
// operator's identity seed under strict signing keys (the default) and a signer of another
// operator, before the callout account is signed; the operator's signer plans and applies.
func TestAccTrust_operatorSignerCheckedAgainstOperatorJWT(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{})
	t.Cleanup(srv.Close)
	jwks := fixtureJWKS(t, srv)
	o := newTrustOffline(t)
	operators := `
resource "natsping_operator" "op" { name = "acme" }
resource "natsping_operator" "other" { name = "other" }
`
	trust := func(signer string) string {
		cfg := strings.Replace(o.config(srv.Issuer(), fmt.Sprintf("pinned_jwks = %q\n  operator_jwt = natsping_operator.op.jwt", jwks)),
			fmt.Sprintf("%q", o.operatorSeed), signer, 1)
		return operators + cfg
	}
	ws := `\s+`
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: operators},
			{
				Config:   trust("natsping_operator.op.seed"),
				PlanOnly: true,
				ExpectError: regexp.MustCompile(`Operator identity key under strict signing keys(?s:.*)operator_signer` + ws + `=` + ws +
					`natsping_operator\.<name>\.signer`),
			},
			{
				Config:      trust("natsping_operator.other.signer"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Signer of another operator`),
			},
			{
				Config:           trust("natsping_operator.op.signer"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

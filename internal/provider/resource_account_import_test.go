package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// importRoundTripConfig uses every input that lands in the account JWT, written the way the
// JWT reads back (UTC times, defaults unset), so an import of the signed JWT restores it.
func importRoundTripConfig(billing, authUser, revokedUser string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "main" { name = "acme" }

resource "natsping_account" "test" {
  name            = "ORDERS"
  description     = "order processing"
  info_url        = "https://wiki.example.com/orders"
  operator_signer = natsping_operator.main.signer
  tags            = ["team:blue", "env:prod"]
  expires_at      = "2031-01-02T03:04:05Z"
  limits          = { max_connections = 100, max_payload = 0, disallow_bearer = true }
  jetstream       = { memory_storage = 1048576, max_streams = 4, max_ack_pending = 10 }
  exports = [
    {
      type                = "service"
      subject             = "orders.get"
      token_required      = true
      response_type       = "Stream"
      response_threshold  = "5s"
      revoked_activations = { %[1]q = "2026-11-30T00:00:00Z" }
    },
    { type = "stream", subject = "orders.public.>", name = "public", advertise = true },
  ]
  imports             = [{ type = "stream", subject = "billing.>", account = %[1]q, local_subject = "from-billing.>" }]
  default_permissions = { sub_allow = ["_INBOX.>"] }
  roles = [
    { name = "reader", description = "reads", permissions = { sub_allow = ["orders.{{tag(team)}}.>"], response = { ttl = "1s" } }, max_subscriptions = 10 },
    { name = "writer", permissions = { pub_allow = ["orders.>"] } },
  ]
  authorization           = { auth_users = [%[2]q], allowed_accounts = ["*"] }
  revoked_users           = { %[3]q = "2026-11-30T00:00:00Z" }
  revoke_all_users_before = "2026-06-01T00:00:00Z"
}
`, billing, authUser, revokedUser)
}

// storeAppliedAccount writes the applied operator and account into an nsc store, with every
// seed in the keystore, and returns the account JWT's path.
func storeAppliedAccount(f *nscFixture, s *terraform.State) (string, error) {
	op := s.RootModule().Resources["natsping_operator.main"].Primary.Attributes
	acc := s.RootModule().Resources[accountRes].Primary.Attributes
	f.operator("acme", op["jwt"])
	f.seedString(op["signing_key_seed"])
	f.seedString(acc["seed"])
	signer, err := natsjwt.ParseSigner(acc["signer"], natsjwt.KindAccount)
	if err != nil {
		return "", err
	}
	f.seedString(signer.Seed)
	for _, role := range []string{"reader", "writer"} {
		rs, err := natsjwt.ParseSigner(acc["role_signers."+role], natsjwt.KindAccount)
		if err != nil {
			return "", err
		}
		f.seedString(rs.Seed)
	}
	return f.account("acme", "ORDERS", acc["jwt"]), nil
}

// TestAccAccount_importRoundTrip: an account natsping signed, imported from an nsc store by the
// path of its JWT, gives back exactly the state it was applied with, and an import block with
// the same configuration plans nothing.
func TestAccAccount_importRoundTrip(t *testing.T) {
	f := newNSCFixture(t)
	config := importRoundTripConfig(testAccPub(t, natsjwt.KindAccount), testAccPub(t, natsjwt.KindUser), testAccPub(t, natsjwt.KindUser))
	var jwtPath string
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           config,
				ConfigPlanChecks: accountPlan(),
				Check: func(s *terraform.State) (err error) {
					jwtPath, err = storeAppliedAccount(f, s)
					return err
				},
			},
			{
				ResourceName:                         accountRes,
				ImportState:                          true,
				ImportStateIdFunc:                    func(*terraform.State) (string, error) { return jwtPath, nil },
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "public_key",
			},
			{
				ResourceName:      accountRes,
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return jwtPath, nil },
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(accountRes, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

// nscAccount is an account nsc made: an operator without signing keys (nsc's default, so the
// identity signs), an account with an unscoped signing key and a role, limits, JetStream, a
// private export with a revoked activation, an import and user revocations.
type nscAccount struct {
	f                            *nscFixture
	operator, opSeedPath         string
	account, signingKey, roleKey string
	importer, revokedUser        string
	jwtPath                      string
	accountKP, signingKP, roleKP nkeys.KeyPair
}

func newNSCAccount(t *testing.T, f *nscFixture) *nscAccount {
	n := &nscAccount{f: f}
	var opKP nkeys.KeyPair
	n.operator, opKP = f.key(nkeys.PrefixByteOperator)
	n.opSeedPath = f.keystore.KeyPath(n.operator)
	oc := jwt.NewOperatorClaims(n.operator)
	oc.Name = "acme"
	f.operator("acme", encodeClaims(t, oc, opKP))

	n.account, n.accountKP = f.key(nkeys.PrefixByteAccount)
	n.signingKey, n.signingKP = f.key(nkeys.PrefixByteAccount)
	n.roleKey, n.roleKP = f.key(nkeys.PrefixByteAccount)
	n.importer = testAccPub(t, natsjwt.KindAccount)
	n.revokedUser = testAccPub(t, natsjwt.KindUser)
	cutoff := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

	ac := jwt.NewAccountClaims(n.account)
	ac.Name = "ORDERS"
	ac.Description = "order processing"
	ac.Tags.Add("team:blue")
	ac.Limits.Conn = 100
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: 1 << 30, Streams: -1, Consumer: -1}
	get := &jwt.Export{Subject: "orders.get", Type: jwt.Service, TokenReq: true, ResponseType: jwt.ResponseTypeSingleton}
	get.RevokeAt(n.importer, cutoff)
	ac.Exports.Add(get, &jwt.Export{Subject: "orders.public.>", Type: jwt.Stream})
	ac.Imports.Add(&jwt.Import{Subject: "billing.>", Account: n.importer, Type: jwt.Stream})
	ac.SigningKeys.Add(n.signingKey)
	scope := jwt.NewUserScope()
	scope.Key, scope.Role = n.roleKey, "reader"
	scope.Template.Sub.Allow.Add("orders.>")
	ac.SigningKeys.AddScopedSigner(scope)
	ac.RevokeAt(n.revokedUser, cutoff)
	ac.RevokeAt(jwt.All, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	n.jwtPath = f.account("acme", "ORDERS", encodeClaims(t, ac, opKP))
	return n
}

// hcl is the configuration that says what the nsc account's JWT says, with description and
// extra lines replacing parts of it.
func (n *nscAccount) hcl(description, extra string) string {
	return fmt.Sprintf(`
resource "natsping_account" "orders" {
  name            = "ORDERS"
  description     = %q
  operator_signer = file(%q)
  %s
  limits          = { max_connections = 100 }
  jetstream       = { disk_storage = 1073741824 }
  exports = [
    { type = "service", subject = "orders.get", token_required = true, revoked_activations = { %q = "2026-11-30T00:00:00Z" } },
    { type = "stream", subject = "orders.public.>" },
  ]
  imports                 = [{ type = "stream", subject = "billing.>", account = %q }]
  roles                   = [{ name = "reader", permissions = { sub_allow = ["orders.>"] } }]
  revoked_users           = { %q = "2026-11-30T00:00:00Z" }
  revoke_all_users_before = "2026-06-01T00:00:00Z"
}
`, description, n.opSeedPath, extra, n.importer, n.importer, n.revokedUser)
}

const nscAccountRes = "natsping_account.orders"

// importBlockProviders names the provider's full address: plugin-testing adds it to the
// configuration of ordinary steps, not to an import step's own configuration, and OpenTofu
// would otherwise look hashicorp/natsping up in its own registry.
const importBlockProviders = `
terraform {
  required_providers {
    natsping = { source = "registry.terraform.io/hashicorp/natsping" }
  }
}
`

func nscImportStep(config, id string) resource.TestStep {
	return resource.TestStep{
		Config:          importBlockProviders + config,
		ResourceName:    nscAccountRes,
		ImportState:     true,
		ImportStateKind: resource.ImportBlockWithID,
		ImportStateId:   id,
	}
}

// TestAccAccount_importFromNSC: an account in an nsc store, imported with an import block by
// the path of its JWT: the plan is empty when the configuration says what the JWT says and,
// when it does not, shows exactly the differing claims and a re-signed JWT.
func TestAccAccount_importFromNSC(t *testing.T) {
	n := newNSCAccount(t, newNSCFixture(t))
	matching := nscImportStep(n.hcl("order processing", `tags = ["team:blue"]`), n.jwtPath)
	matching.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(nscAccountRes, plancheck.ResourceActionNoop),
		plancheck.ExpectKnownValue(nscAccountRes, acctAttr("signing_key"), knownvalue.StringExact(n.signingKey)),
		plancheck.ExpectKnownValue(nscAccountRes, roleKeyAttr("reader"), knownvalue.StringExact(n.roleKey)),
		plancheck.ExpectKnownValue(nscAccountRes, acctAttr("issuer"), knownvalue.StringExact(n.operator)),
	}}
	differing := nscImportStep(n.hcl("orders, v2", ""), n.jwtPath)
	differing.ExpectNonEmptyPlan = true
	differing.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(nscAccountRes, plancheck.ResourceActionUpdate),
		expectPlanChanges([]string{nscAccountRes + ` update: description: "order processing" → "orders, v2"; jwt: (known after apply); tags: ["team:blue"] → null`}),
	}}
	// The operator's key passed as a natsping signer instead of the raw seed: the same key signs
	// the same claims, so only operator_signer changes and the JWT is kept.
	otherForm := nscImportStep(strings.Replace(n.hcl("order processing", `tags = ["team:blue"]`), fmt.Sprintf("file(%q)", n.opSeedPath),
		fmt.Sprintf(`"natsping-signer:v1:%s::${file(%q)}"`, n.operator, n.opSeedPath), 1), n.jwtPath)
	otherForm.ExpectNonEmptyPlan = true
	otherForm.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		expectPlanChanges([]string{nscAccountRes + ` update: operator_signer (sensitive): changed`}),
		plancheck.ExpectKnownValue(nscAccountRes, acctAttr("jwt"), knownvalue.StringFunc(func(v string) error {
			if token, _ := natsjwt.ReadJWTFile(n.jwtPath); v != token {
				return fmt.Errorf("the plan re-signs the imported JWT")
			}
			return nil
		})),
	}}
	runImportSteps(t, map[string]resource.TestStep{"matching": matching, "differing": differing, "signer in another form": otherForm})
}

// runImportSteps runs each import-block step as a test case of its own: an import step after
// another one would copy a state that no earlier step wrote.
func runImportSteps(t *testing.T, steps map[string]resource.TestStep) {
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{step},
			})
		})
	}
}

// TestAccAccount_importFromNSCErrors: a seed missing from the keystore, a path that holds no
// account JWT and a signer of another operator each fail with a message naming the fix.
func TestAccAccount_importFromNSCErrors(t *testing.T) {
	f := newNSCFixture(t)
	n := newNSCAccount(t, f)
	otherOp, _ := f.key(nkeys.PrefixByteOperator)
	userPub, userKP := f.key(nkeys.PrefixByteUser)
	userJWT, _ := f.user("acme", "ORDERS", "svc", encodeClaims(t, jwt.NewUserClaims(userPub), n.signingKP), userKP)
	config := n.hcl("order processing", `tags = ["team:blue"]`)

	failing := func(config, id, want string) resource.TestStep {
		step := nscImportStep(config, id)
		step.ExpectError = regexp.MustCompile(want)
		return step
	}
	runImportSteps(t, map[string]resource.TestStep{
		"wrong path":     failing(config, n.jwtPath+".missing", `ORDERS\.jwt\.missing\s+does\s+not\s+exist`),
		"not an account": failing(config, userJWT, `is\s+not\s+a\s+valid\s+account\s+JWT`),
		// The configuration passes another operator's seed.
		"other operator": failing(regexp.MustCompile(`file\("[^"]+"\)`).ReplaceAllString(config, fmt.Sprintf("file(%q)", f.keystore.KeyPath(otherOp))),
			n.jwtPath, `Signer\s+of\s+another\s+operator(?s:.*)imported\s+from\s+the\s+store\s+of\s+operator\s+"acme"`),
	})
	// The keystore loses the account's identity seed.
	if err := os.Remove(f.keystore.KeyPath(n.account)); err != nil {
		t.Fatal(err)
	}
	runImportSteps(t, map[string]resource.TestStep{
		"missing seed": failing(config, n.jwtPath, `identity\s+key\s+A[A-Z0-9]+:\s+seed\s+not\s+in\s+the\s+keystore(?s:.*)NKEYS_PATH`),
	})
}

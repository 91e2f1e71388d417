package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// storeAppliedOperator writes the applied operator, its system account and system user into an
// nsc store, with every seed in the keystore, and returns the operator JWT's path.
func storeAppliedOperator(f *nscFixture, s *terraform.State) (string, error) {
	a := s.RootModule().Resources[testOperator].Primary.Attributes
	for _, seed := range []string{a["seed"], a["signing_key_seed"], a["system_account_seed"], a["system_user_seed"]} {
		f.seedString(seed)
	}
	sysSK, err := natsjwt.ParseSigner(a["system_account_signer"], natsjwt.KindAccount)
	if err != nil {
		return "", err
	}
	f.seedString(sysSK.Seed)
	userJWT, err := jwt.ParseDecoratedJWT([]byte(a["system_user_creds"]))
	if err != nil {
		return "", err
	}
	f.operator(a["name"], a["jwt"])
	f.account(a["name"], a["system_account_name"], a["system_account_jwt"])
	f.user(a["name"], a["system_account_name"], a["system_user_name"], userJWT, nil)
	return filepath.Join(f.stores, a["name"], a["name"]+".jwt"), nil
}

// TestAccOperator_importRoundTrip: an operator natsping signed, imported from an nsc store by the
// path of its JWT, gives back exactly the state it was applied with (but the time its signing
// key was made, which no JWT records), and an import block with the same configuration plans
// nothing.
func TestAccOperator_importRoundTrip(t *testing.T) {
	f := newNSCFixture(t)
	config := `resource "natsping_operator" "test" {
  name                  = "acme"
  strict_signing_keys   = false
  account_server_url    = "https://accounts.example.com/jwt/v1"
  operator_service_urls = ["nats://a.example.com:4222", "tls://b.example.com:4222"]
  tags                  = ["team:blue", "env:prod"]
  expires_at            = "2031-01-02T03:04:05Z"
  system_account_name   = "SYSTEM"
  system_user_name      = "admin"
}`
	var jwtPath string
	idFunc := func(*terraform.State) (string, error) { return jwtPath, nil }
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) (err error) {
					jwtPath, err = storeAppliedOperator(f, s)
					return err
				},
			},
			{
				ResourceName: testOperator, ImportState: true, ImportStateIdFunc: idFunc, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"signing_key_created_at"},
			},
			{
				ResourceName: testOperator, ImportState: true, ImportStateKind: resource.ImportBlockWithID, ImportStateIdFunc: idFunc,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testOperator, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

// nscOperator is the operator of an nsc store after `nsc edit operator --sk generate` and
// `nsc edit account SYS --sk generate` on what `nsc init` makes: identity-signed SYS account
// and sys user, no strict signing keys, nsc's service URL. It is the operator of the nscAccount
// fixture, so the store also holds ORDERS and its users.
type nscOperator struct {
	path, signingKey, sysAccount, sysSigningKey, sysUser string
	sysUserCreds                                         string
}

func newNSCOperator(t *testing.T, n *nscAccount) *nscOperator {
	f := n.f
	raw, err := os.ReadFile(n.opSeedPath)
	if err != nil {
		t.Fatal(err)
	}
	opKP, err := nkeys.FromSeed(raw)
	if err != nil {
		t.Fatal(err)
	}
	o := &nscOperator{}
	var sysKP, userKP nkeys.KeyPair
	o.signingKey, _ = f.key(nkeys.PrefixByteOperator)
	o.sysAccount, sysKP = f.key(nkeys.PrefixByteAccount)
	o.sysSigningKey, _ = f.key(nkeys.PrefixByteAccount)
	o.sysUser, userKP = f.key(nkeys.PrefixByteUser)

	ac := jwt.NewAccountClaims(o.sysAccount)
	ac.Name = "SYS"
	ac.SigningKeys.Add(o.sysSigningKey)
	f.account("acme", "SYS", encodeClaims(t, ac, opKP))
	uc := jwt.NewUserClaims(o.sysUser)
	uc.Name = "sys"
	_, o.sysUserCreds = f.user("acme", "SYS", "sys", encodeClaims(t, uc, sysKP), userKP)

	oc := jwt.NewOperatorClaims(n.operator)
	oc.Name, oc.SystemAccount = "acme", o.sysAccount
	oc.SigningKeys.Add(o.signingKey)
	oc.OperatorServiceURLs.Add("nats://localhost:4222")
	f.operator("acme", encodeClaims(t, oc, opKP))
	o.path = filepath.Join(f.stores, "acme", "acme.jwt")
	return o
}

const nscOperatorRes = "natsping_operator.acme"

// hcl is the operator's configuration; extra adds or overrides attributes.
func (o *nscOperator) hcl(extra string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "acme" {
  name                  = "acme"
  operator_service_urls = ["nats://localhost:4222"]
  %s
}
`, extra)
}

func nscOperatorImportStep(config, id string) resource.TestStep {
	step := nscImportStep(config, id)
	step.ResourceName = nscOperatorRes
	return step
}

// TestAccOperator_importFromNSC: an operator in an nsc store, imported with an import block by
// the path of its JWT, with every seed from the keystore: the plan is empty when the
// configuration says what the JWTs say; when it does not, it shows exactly the differing
// attributes, and making the operator strict re-signs the identity-signed system account and
// user, which a strict server would refuse.
func TestAccOperator_importFromNSC(t *testing.T) {
	n := newNSCAccount(t, newNSCFixture(t))
	o := newNSCOperator(t, n)
	opToken, _ := natsjwt.ReadJWTFile(o.path)
	matching := nscOperatorImportStep(o.hcl(`strict_signing_keys = false`), o.path)
	matching.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(nscOperatorRes, plancheck.ResourceActionNoop),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("jwt"), knownvalue.StringExact(opToken)),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("public_key"), knownvalue.StringExact(n.operator)),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("signing_key"), knownvalue.StringExact(o.signingKey)),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("system_account_public_key"), knownvalue.StringExact(o.sysAccount)),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("system_account_signing_key"), knownvalue.StringExact(o.sysSigningKey)),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("system_user_public_key"), knownvalue.StringExact(o.sysUser)),
	}}
	differing := nscOperatorImportStep(o.hcl(`
  strict_signing_keys = false
  tags                = ["env:prod"]`), o.path)
	differing.ExpectNonEmptyPlan = true
	differing.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(nscOperatorRes, plancheck.ResourceActionUpdate),
		expectPlanChanges([]string{nscOperatorRes + ` update: jwt: (known after apply); tags: null → ["env:prod"]`}),
	}}
	strict := nscOperatorImportStep(o.hcl(""), o.path)
	strict.ExpectNonEmptyPlan = true
	strict.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		expectPlanChanges([]string{nscOperatorRes + ` update: jwt: (known after apply); strict_signing_keys: false → true; ` +
			`system_account_jwt: (known after apply); system_user_creds (sensitive): (known after apply)`}),
	}}
	renamed := nscOperatorImportStep(o.hcl(`
  strict_signing_keys = false
  system_account_name = "SYSTEM"`), o.path)
	renamed.ExpectError = regexp.MustCompile(`imported\s+system\s+account\s+is\s+named\s+"SYS"(?s:.*)system_account_name\s+=\s+"SYS"`)
	// Rotation keepers in the import plan are recorded, as after every import: no new key, and
	// the JWT, which does not carry them, is kept.
	keepers := nscOperatorImportStep(o.hcl(`
  strict_signing_keys  = false
  signing_key_rotation = { generation = "1" }`), o.path)
	keepers.ExpectNonEmptyPlan = true
	keepers.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		expectPlanChanges([]string{nscOperatorRes + ` update: signing_key_rotation: null → {"generation":"1"}`}),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("jwt"), knownvalue.StringExact(opToken)),
		plancheck.ExpectKnownValue(nscOperatorRes, opAttr("signing_key"), knownvalue.StringExact(o.signingKey)),
	}}
	runImportSteps(t, map[string]resource.TestStep{"matching": matching, "differing": differing, "made strict": strict,
		"system account renamed": renamed, "rotation keepers": keepers})
}

// TestAccOperator_importFromNSCErrors: a seed missing from the keystore, a JWT that is not an
// operator's, a store without a system account and an operator without a signing key each fail
// with a message naming the key, the place looked at or the fix.
func TestAccOperator_importFromNSCErrors(t *testing.T) {
	f := newNSCFixture(t)
	n := newNSCAccount(t, f)
	o := newNSCOperator(t, n)
	config := o.hcl(`strict_signing_keys = false`)
	failing := func(id, want string) resource.TestStep {
		step := nscOperatorImportStep(config, id)
		step.ExpectError = regexp.MustCompile(want)
		return step
	}
	bare := filepath.Join(f.stores, "bare", "bare.jwt")
	bareOp, bareKP := f.key(nkeys.PrefixByteOperator)
	oc := jwt.NewOperatorClaims(bareOp)
	oc.Name = "bare"
	f.write(bare, []byte(encodeClaims(t, oc, bareKP)))
	unsigned := filepath.Join(f.stores, "nosk", "nosk.jwt")
	oc = jwt.NewOperatorClaims(bareOp)
	oc.Name, oc.SystemAccount = "nosk", o.sysAccount
	f.write(unsigned, []byte(encodeClaims(t, oc, bareKP)))
	sys := jwt.NewAccountClaims(o.sysAccount)
	sys.Name = "SYS"
	f.account("nosk", "SYS", encodeClaims(t, sys, bareKP))
	f.write(filepath.Join(f.stores, "nosk", "accounts", "SYS", "users", "sys.jwt"), []byte(mustRead(t, filepath.Join(f.stores, "acme", "accounts", "SYS", "users", "sys.jwt"))))

	runImportSteps(t, map[string]resource.TestStep{
		"not an operator":   failing(n.jwtPath, `ORDERS\.jwt\s+is\s+not\s+a\s+valid\s+operator\s+JWT`),
		"no system account": failing(bare, `operator\s+"bare"(?s:.*)has\s+no\s+system\s+account(?s:.*)nsc\s+edit\s+operator\s+--system-account`),
		"no signing key":    failing(unsigned, `operator\s+"nosk"\s+has\s+no\s+signing\s+key(?s:.*)nsc\s+edit\s+operator\s+--sk\s+generate`),
	})
	// The keystore loses the system account's identity seed.
	if err := os.Remove(f.keystore.KeyPath(o.sysAccount)); err != nil {
		t.Fatal(err)
	}
	runImportSteps(t, map[string]resource.TestStep{
		"missing seed": failing(o.path, `identity\s+key\s+`+o.sysAccount+`\s+of\s+system\s+account\s+"SYS":\s+seed\s+not\s+in\s+the\s+keystore:(?s:.*)`+
			regexp.QuoteMeta(o.sysAccount[:1]+string(filepath.Separator)+o.sysAccount[1:3])+`(?s:.*)NKEYS_PATH`),
	})
}

// TestAccOperator_importSystemUserFromCreds: a keystore that kept the system user's creds file
// but not its .nk still imports; without both, the error names both places.
func TestAccOperator_importSystemUserFromCreds(t *testing.T) {
	f := newNSCFixture(t)
	o := newNSCOperator(t, newNSCAccount(t, f))
	if err := os.Remove(f.keystore.KeyPath(o.sysUser)); err != nil {
		t.Fatal(err)
	}
	found := nscOperatorImportStep(o.hcl(`strict_signing_keys = false`), o.path)
	found.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(nscOperatorRes, plancheck.ResourceActionNoop),
	}}
	runImportSteps(t, map[string]resource.TestStep{"from creds": found})
	if err := os.Remove(o.sysUserCreds); err != nil {
		t.Fatal(err)
	}
	missing := nscOperatorImportStep(o.hcl(`strict_signing_keys = false`), o.path)
	missing.ExpectError = regexp.MustCompile(`system\s+user\s+"sys":\s+seed\s+not\s+in\s+the\s+keystore(?s:.*)nor\s+in\s+its\s+creds\s+file(?s:.*)sys\.creds`)
	runImportSteps(t, map[string]resource.TestStep{"missing": missing})
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestOperatorImport_seedListWarns: the older seed-list ID still imports, with a warning that it
// holds secrets and names the path form; a path imports without that warning, and a seed-like
// ID that is not a seed list fails without repeating it.
func TestOperatorImport_seedListWarns(t *testing.T) {
	_, opSeed, _ := natsjwt.NewKey(natsjwt.KindOperator)
	m, warnings, fromNSC, err := operatorFromImport(opSeed, natsjwt.NSCKeystore{Dir: t.TempDir()}, time.Now())
	if err != nil || m == nil || fromNSC {
		t.Fatalf("seed list: m = %v, fromNSC = %v, err = %v", m, fromNSC, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].detail, "<operator>/<operator>.jwt") || !strings.Contains(warnings[0].summary, "secrets") {
		t.Fatalf("warnings = %+v", warnings)
	}
	_, accSeed, _ := natsjwt.NewKey(natsjwt.KindAccount)
	if _, _, _, err := operatorFromImport(accSeed, natsjwt.NSCKeystore{}, time.Now()); err == nil || strings.Contains(err.Error(), accSeed) {
		t.Fatalf("an account seed as ID: err = %v", err)
	}

	f := newNSCFixture(t)
	o := newNSCOperator(t, newNSCAccount(t, f))
	_, warnings, fromNSC, err = operatorFromImport(o.path, f.keystore, time.Now())
	if err != nil || !fromNSC || len(warnings) != 0 {
		t.Fatalf("path: warnings = %+v, fromNSC = %v, err = %v", warnings, fromNSC, err)
	}
}

// BenchmarkResignRefusedSystemJWTs measures what the issuer check adds to every operator plan:
// decoding the system account JWT and the system user's creds of a natsping-made operator.
func BenchmarkResignRefusedSystemJWTs(b *testing.B) {
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	opPub, _, err := natsjwt.NewKey(natsjwt.KindOperator)
	must(err)
	_, skSeed, err := natsjwt.NewKey(natsjwt.KindOperator)
	must(err)
	sysPub, _, err := natsjwt.NewKey(natsjwt.KindAccount)
	must(err)
	sysSKPub, sysSKSeed, err := natsjwt.NewKey(natsjwt.KindAccount)
	must(err)
	userPub, userSeed, err := natsjwt.NewKey(natsjwt.KindUser)
	must(err)
	sk, err := natsjwt.NewSigner(opPub, "", skSeed, natsjwt.KindOperator)
	must(err)
	sysJWT, err := natsjwt.BuildSystemAccountJWT(natsjwt.SystemAccountSpec{Name: "SYS", PublicKey: sysPub, SigningKey: sysSKPub}, sk)
	must(err)
	sysSigner, err := natsjwt.NewSigner(sysPub, "", sysSKSeed, natsjwt.KindAccount)
	must(err)
	userJWT, err := natsjwt.BuildUserJWT(natsjwt.UserSpec{Name: "sys", PublicKey: userPub}, sysSigner)
	must(err)
	creds, err := natsjwt.FormatCreds(userJWT, userSeed)
	must(err)
	plan := operatorModel{
		StrictSigningKeys: types.BoolValue(true), PublicKey: types.StringValue(opPub), SigningKey: types.StringValue(sk.PublicKey),
		PreviousSigningKey: types.StringNull(), SystemAccountPublicKey: types.StringValue(sysPub),
		SystemAccountSigningKey: types.StringValue(sysSKPub), SystemAccountJWT: types.StringValue(sysJWT), SystemUserCreds: types.StringValue(creds),
	}
	b.ReportAllocs()
	for b.Loop() {
		p := plan
		resignRefusedSystemJWTs(&p)
		if p.SystemAccountJWT.IsUnknown() || p.SystemUserCreds.IsUnknown() {
			b.Fatal("a natsping-made system account or user was marked for re-signing")
		}
	}
}

// TestOperatorSigningKeysFromNSC: of two operator signing keys, the one that signed the system
// account becomes signing_key and the other previous_signing_key (with a warning); a missing
// seed is skipped; no seed at all, or more than two keys, fail naming the keys and places.
func TestOperatorSigningKeysFromNSC(t *testing.T) {
	f := newNSCFixture(t)
	first, _ := f.key(nkeys.PrefixByteOperator)
	second, _ := f.key(nkeys.PrefixByteOperator)
	op := jwt.NewOperatorClaims(testAccPub(t, natsjwt.KindOperator))
	op.Name = "acme"
	op.SigningKeys.Add(first, second)
	st := &natsjwt.NSCOperatorStore{Operator: op, SystemAccount: jwt.NewAccountClaims(testAccPub(t, natsjwt.KindAccount))}
	st.SystemAccount.Issuer = second
	current, seed, previous, err := operatorSigningKeys(st, f.keystore)
	if err != nil || current != second || previous != first || seed == "" {
		t.Fatalf("current %s (want the system account's issuer %s), previous %s, err %v", current, second, previous, err)
	}
	if err := os.Remove(f.keystore.KeyPath(second)); err != nil {
		t.Fatal(err)
	}
	if current, _, previous, err = operatorSigningKeys(st, f.keystore); err != nil || current != first || previous != second {
		t.Fatalf("without the issuer's seed: current %s, previous %s, err %v", current, previous, err)
	}
	if err := os.Remove(f.keystore.KeyPath(first)); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = operatorSigningKeys(st, f.keystore)
	if err == nil || !strings.Contains(err.Error(), f.keystore.KeyPath(first)) || !strings.Contains(err.Error(), f.keystore.KeyPath(second)) {
		t.Fatalf("no seed: err = %v", err)
	}
	op.SigningKeys.Add(testAccPub(t, natsjwt.KindOperator))
	if _, _, _, err = operatorSigningKeys(st, f.keystore); err == nil || !strings.Contains(err.Error(), "lists 3 signing keys") {
		t.Fatalf("three keys: err = %v", err)
	}
}

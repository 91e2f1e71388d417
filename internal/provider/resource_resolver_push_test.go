package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// freePort reserves a loopback port and releases it, so the HCL can name the server's URL
// before the server (which needs the operator Terraform creates) can start.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func resolverPushConfig(servers string, billingConns int, push bool) string {
	cfg := fmt.Sprintf(`
resource "natsping_operator" "main" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
  limits          = { max_connections = %d }
}

data "natsping_server_config" "main" {
  operator_jwt = natsping_operator.main.jwt
  account_jwts = [natsping_operator.main.system_account_jwt]
  resolver     = { type = "full" }
}
`, billingConns)
	if push {
		cfg += fmt.Sprintf(`
resource "natsping_resolver_push" "live" {
  servers           = [%s]
  system_user_creds = natsping_operator.main.system_user_creds
  accounts = {
    (natsping_account.orders.public_key)  = natsping_account.orders.jwt
    (natsping_account.billing.public_key) = natsping_account.billing.jwt
  }
}
`, servers)
	}
	return cfg
}

// liveServer is the embedded full-resolver server of an acceptance test, started once the
// operator exists and restarted or stopped by later steps.
type liveServer struct {
	t      *testing.T
	port   int
	config string
	srv    *natstest.Server
	// Captured from the state, for pushing and looking up out of band.
	sysCreds, signer, orders, billing string
}

func (l *liveServer) start() {
	l.srv = natstest.StartServer(l.t, l.config, natstest.WithListen("127.0.0.1", l.port))
}

func (l *liveServer) stop() {
	l.srv.Shutdown()
	l.srv.WaitForShutdown()
}

func (l *liveServer) capture(s *terraform.State) error {
	get := func(addr, name string) (string, error) {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return "", fmt.Errorf("%s is not in state", addr)
		}
		return rs.Primary.Attributes[name], nil
	}
	var err error
	for _, f := range []struct {
		dst        *string
		addr, name string
	}{
		{&l.config, "data.natsping_server_config.main", "config"},
		{&l.sysCreds, "natsping_operator.main", "system_user_creds"},
		{&l.signer, "natsping_operator.main", "signer"},
		{&l.orders, "natsping_account.orders", "public_key"},
		{&l.billing, "natsping_account.billing", "public_key"},
	} {
		if *f.dst, err = get(f.addr, f.name); err != nil {
			return err
		}
	}
	return nil
}

func (l *liveServer) push(token string) error {
	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{l.srv.URL}, Creds: l.sysCreds})
	if err != nil {
		return err
	}
	defer nc.Close()
	_, err = resolver.Push(context.Background(), nc, []string{token}, resolver.Options{Servers: 1})
	return err
}

// holds checks that the server holds exactly the JWTs the state says were pushed.
func (l *liveServer) holds(s *terraform.State) error {
	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{l.srv.URL}, Creds: l.sysCreds})
	if err != nil {
		return err
	}
	defer nc.Close()
	live, err := resolver.Lookup(context.Background(), nc, []string{l.orders, l.billing}, resolver.Options{Servers: 1})
	if err != nil {
		return err
	}
	for _, name := range []string{"orders", "billing"} {
		rs := s.RootModule().Resources["natsping_account."+name]
		if got := live.JWT[rs.Primary.Attributes["public_key"]]; got != rs.Primary.Attributes["jwt"] {
			return fmt.Errorf("the server does not hold the current JWT of account %s", name)
		}
	}
	return nil
}

func lastPushAccounts(n int64) statecheck.StateCheck {
	return statecheck.ExpectKnownValue("natsping_resolver_push.live", tfjsonpath.New("last_push").AtMapKey("accounts"), knownvalue.Int64Exact(n))
}

// TestAccResolverPush_DriftAndUpdate: apply pushes both accounts to a live full resolver; a JWT
// pushed out of band and a server that lost its store both show up as an in-place update that
// restores them; a changed limit pushes only that account; an unreachable server only warns.
func TestAccResolverPush_DriftAndUpdate(t *testing.T) {
	live := &liveServer{t: t, port: freePort(t)}
	url := fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", live.port))
	// A second seed URL where nothing listens: nats.go moves on to the live one.
	twoURLs := url + fmt.Sprintf(", \"nats://127.0.0.1:%d\"", freePort(t))
	updatePush := plancheck.ExpectResourceAction("natsping_resolver_push.live", plancheck.ResourceActionUpdate)
	emptyAfter := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// The operator must exist before its server can start.
				Config: resolverPushConfig(url, 10, false),
				Check: func(s *terraform.State) error {
					if err := live.capture(s); err != nil {
						return err
					}
					live.start()
					return nil
				},
			},
			{
				Config: resolverPushConfig(url, 10, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_resolver_push.live", plancheck.ResourceActionCreate),
						plancheck.ExpectSensitiveValue("natsping_resolver_push.live", tfjsonpath.New("system_user_creds")),
					},
					PostApplyPostRefresh: emptyAfter,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					lastPushAccounts(2),
					statecheck.ExpectKnownValue("natsping_resolver_push.live", tfjsonpath.New("last_push").AtMapKey("servers"), knownvalue.Int64Exact(1)),
				},
				Check: live.holds,
			},
			{
				// Someone pushes another JWT for ORDERS behind Terraform's back.
				PreConfig: func() {
					signer, err := natsjwt.ParseSigner(live.signer, natsjwt.KindOperator)
					if err != nil {
						t.Fatal(err)
					}
					token, err := natsjwt.SignAccount(natsjwt.AccountSpec{Name: "ORDERS", Description: "pushed by hand"}, live.orders, signer)
					if err != nil {
						t.Fatal(err)
					}
					if err := live.push(token); err != nil {
						t.Fatal(err)
					}
				},
				Config: resolverPushConfig(url, 10, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{updatePush},
					PostApplyPostRefresh: emptyAfter,
				},
				ConfigStateChecks: []statecheck.StateCheck{lastPushAccounts(1)},
				Check:             live.holds,
			},
			{
				// A changed limit re-signs BILLING; only that account is pushed.
				Config: resolverPushConfig(url, 20, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						updatePush,
						plancheck.ExpectResourceAction("natsping_account.billing", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("natsping_account.orders", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: emptyAfter,
				},
				ConfigStateChecks: []statecheck.StateCheck{lastPushAccounts(1)},
				Check:             live.holds,
			},
			{
				// The server comes back with an empty store (a new node, a lost disk): both
				// accounts are missing and both are pushed again.
				PreConfig: func() {
					live.stop()
					live.start()
				},
				Config:            resolverPushConfig(url, 20, true),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{updatePush}, PostApplyPostRefresh: emptyAfter},
				ConfigStateChecks: []statecheck.StateCheck{lastPushAccounts(2)},
				Check:             live.holds,
			},
			{
				// Another server list: the state describes the old list, so everything is pushed.
				Config:            resolverPushConfig(twoURLs, 20, true),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{updatePush}, PostApplyPostRefresh: emptyAfter},
				ConfigStateChecks: []statecheck.StateCheck{lastPushAccounts(2)},
				Check:             live.holds,
			},
			{
				// Unreachable servers: refresh warns and keeps the state, the plan stays empty.
				PreConfig: live.stop,
				Config:    resolverPushConfig(twoURLs, 20, true),
				PlanOnly:  true,
			},
		},
	})
}

// TestAccResolverPush_PlanTimeErrors: every bad input fails `plan` with the attribute and the fix,
// before any server is contacted (none runs here).
func TestAccResolverPush_PlanTimeErrors(t *testing.T) {
	opPub, opSeed, _ := natsjwt.NewKey(natsjwt.KindOperator)
	signer, err := natsjwt.NewSigner(opPub, "", opSeed, natsjwt.KindOperator)
	if err != nil {
		t.Fatal(err)
	}
	accPub, _, _ := natsjwt.NewKey(natsjwt.KindAccount)
	otherPub, _, _ := natsjwt.NewKey(natsjwt.KindAccount)
	accJWT, err := natsjwt.SignAccount(natsjwt.AccountSpec{Name: "ORDERS"}, accPub, signer)
	if err != nil {
		t.Fatal(err)
	}
	_, skSeed, _ := natsjwt.NewKey(natsjwt.KindAccount)
	accSigner, _ := natsjwt.NewSigner(accPub, "", skSeed, natsjwt.KindAccount)
	_, _, userJWT, creds, err := natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "u", Account: accPub}, accSigner)
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(servers, credsExpr, accounts, extra string) string {
		return fmt.Sprintf(`
variable "creds" {
  type      = string
  sensitive = true
}
resource "natsping_resolver_push" "live" {
  servers           = %s
  system_user_creds = %s
  accounts          = %s
  %s
}
`, servers, credsExpr, accounts, extra)
	}
	ok := fmt.Sprintf("{ %q = %q }", accPub, accJWT)
	steps := []struct {
		config string
		want   string
	}{
		{cfg(`["nats://127.0.0.1:4222"]`, "var.creds", fmt.Sprintf("{ %q = %q }", otherPub, accJWT), ""),
			"holds the JWT of account " + accPub},
		{cfg(`["nats://127.0.0.1:4222"]`, "var.creds", fmt.Sprintf("{ %q = %q }", accPub, userJWT), ""),
			"It is a user JWT"},
		{cfg(`["nats://127.0.0.1:4222"]`, "var.creds", fmt.Sprintf("{ %q = %q }", "ORDERS", accJWT), ""),
			`Invalid public key`},
		{cfg(`["https://nats.example.com"]`, "var.creds", ok, ""), `has scheme "https"`},
		{cfg(`[]`, "var.creds", ok, ""), `at least 1`},
		{cfg(`["nats://127.0.0.1:4222"]`, `"SUAMLK"`, ok, ""), `Invalid creds`},
		{cfg(`["nats://127.0.0.1:4222"]`, "var.creds", ok, `timeout = "soon"`), `Invalid duration`},
		{cfg(`["nats://127.0.0.1:4222"]`, "var.creds", ok, `timeout = "1ms"`), `shorter than the minimum`},
		{cfg(`["tls://127.0.0.1:4222"]`, "var.creds", ok, `ca_bundle_pem = "not a certificate"`), `holds no certificate`},
	}
	var tsteps []resource.TestStep
	for _, s := range steps {
		tsteps = append(tsteps, resource.TestStep{
			Config:          s.config,
			ConfigVariables: config.Variables{"creds": config.StringVariable(creds)},
			PlanOnly:        true,
			ExpectError:     wrappedText(s.want),
		})
	}
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    tsteps,
	})
}

// wrappedText matches text in CLI output, where long diagnostics are wrapped at any space.
func wrappedText(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// resolverDeleteConfig is an operator with two accounts, a full resolver that allows deletes,
// and, when accounts is not nil, a push of those accounts with the operator's signer.
func resolverDeleteConfig(url string, accounts []string) string {
	cfg := `
resource "natsping_operator" "main" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
}

data "natsping_server_config" "main" {
  operator_jwt = natsping_operator.main.jwt
  account_jwts = [natsping_operator.main.system_account_jwt]
  resolver     = { type = "full", allow_delete = true }
}
`
	if accounts == nil {
		return cfg
	}
	entries := ""
	for _, a := range accounts {
		entries += fmt.Sprintf("    (natsping_account.%s.public_key) = natsping_account.%s.jwt\n", a, a)
	}
	return cfg + fmt.Sprintf(`
resource "natsping_resolver_push" "live" {
  servers           = [%q]
  system_user_creds = natsping_operator.main.system_user_creds
  operator_signer   = natsping_operator.main.signer
  accounts = {
%s  }
}
`, url, entries)
}

// lacks checks that the server holds none of the named accounts ("orders", "billing") and
// still holds the JWTs of the others.
func (l *liveServer) lacks(names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{l.srv.URL}, Creds: l.sysCreds})
		if err != nil {
			return err
		}
		defer nc.Close()
		keys := map[string]string{"orders": l.orders, "billing": l.billing}
		live, err := resolver.Lookup(context.Background(), nc, []string{l.orders, l.billing}, resolver.Options{Servers: 1})
		if err != nil {
			return err
		}
		for name, key := range keys {
			gone := slices.Contains(names, name)
			if got := live.JWT[key]; gone && got != "" {
				return fmt.Errorf("the server still holds account %s", name)
			} else if !gone && got == "" {
				return fmt.Errorf("the server lost account %s, which was not removed", name)
			}
		}
		return nil
	}
}

// TestAccResolverPush_Delete: with operator_signer set, an account removed from `accounts` is
// deleted from a full resolver that allows deletes, and destroying the resource deletes the
// rest.
func TestAccResolverPush_Delete(t *testing.T) {
	live := &liveServer{t: t, port: freePort(t)}
	url := fmt.Sprintf("nats://127.0.0.1:%d", live.port)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             live.lacks("orders", "billing"),
		Steps: []resource.TestStep{
			{
				Config: resolverDeleteConfig(url, nil),
				Check: func(s *terraform.State) error {
					if err := live.capture(s); err != nil {
						return err
					}
					live.start()
					return nil
				},
			},
			{
				Config: resolverDeleteConfig(url, []string{"orders", "billing"}),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectSensitiveValue("natsping_resolver_push.live", tfjsonpath.New("operator_signer")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(live.holds, live.lacks()),
			},
			{
				Config: resolverDeleteConfig(url, []string{"orders"}),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("natsping_resolver_push.live", plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("natsping_resolver_push.live", tfjsonpath.New("accounts"), knownvalue.MapSizeExact(1)),
				},
				Check: live.lacks("billing"),
			},
		},
	})
}

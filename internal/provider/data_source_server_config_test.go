package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// serverConfigFixture is an operator (with a signing key) and its accounts SYS, APP and
// AUTH, a user of APP allowed on app.>, and a bearer sentinel of AUTH, built with
// nats-io/jwt directly so the data source is tested against independently made JWTs.
type serverConfigFixture struct {
	operatorJWT string
	opPub       string
	sys         string
	keys        map[string]string // account name → public key
	jwts        map[string]string // account name → JWT
	userCreds   string
	sentinel    string
}

func mustOK[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newServerConfigFixture() *serverConfigFixture {
	opKP := mustOK(nkeys.CreateOperator())
	opSK := mustOK(nkeys.CreateOperator())
	f := &serverConfigFixture{opPub: mustOK(opKP.PublicKey()), keys: map[string]string{}, jwts: map[string]string{}}
	kps := map[string]nkeys.KeyPair{}
	for _, name := range []string{"SYS", "APP", "AUTH"} {
		kps[name] = mustOK(nkeys.CreateAccount())
		f.keys[name] = mustOK(kps[name].PublicKey())
		ac := jwt.NewAccountClaims(f.keys[name])
		ac.Name = name
		f.jwts[name] = mustOK(ac.Encode(opSK))
	}
	f.sys = f.keys["SYS"]
	oc := jwt.NewOperatorClaims(f.opPub)
	oc.Name = "ACME"
	oc.SystemAccount = f.sys
	oc.SigningKeys.Add(mustOK(opSK.PublicKey()))
	f.operatorJWT = mustOK(oc.Encode(opKP))

	ukp := mustOK(nkeys.CreateUser())
	uc := jwt.NewUserClaims(mustOK(ukp.PublicKey()))
	uc.Name = "dev"
	uc.Pub.Allow.Add("app.>")
	uc.Sub.Allow.Add("app.>")
	f.userCreds = mustOK(natstest.Creds(mustOK(uc.Encode(kps["APP"])), string(mustOK(ukp.Seed()))))

	skp := mustOK(nkeys.CreateUser())
	sc := jwt.NewUserClaims(mustOK(skp.PublicKey()))
	sc.Name = "sentinel"
	sc.BearerToken = true
	sc.Pub.Deny.Add(">")
	sc.Sub.Deny.Add(">")
	f.sentinel = mustOK(sc.Encode(kps["AUTH"]))
	return f
}

// config renders a data source block; accounts are listed in the given order.
func (f *serverConfigFixture) config(body string, accounts ...string) string {
	list := make([]string, len(accounts))
	for i, name := range accounts {
		list[i] = fmt.Sprintf("    %q,", f.jwts[name])
	}
	return fmt.Sprintf(`
data "natsping_server_config" "test" {
  operator_jwt = %q
  account_jwts = [
%s
  ]
%s
}

output "config" {
  value = data.natsping_server_config.test.config
}
`, f.operatorJWT, strings.Join(list, "\n"), body)
}

func stringContains(parts ...string) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		for _, p := range parts {
			if !strings.Contains(v, p) {
				return fmt.Errorf("config does not contain %q", p)
			}
		}
		return nil
	})
}

// bootsAndCarriesTraffic starts an embedded nats-server from the rendered config and the
// resolver files in state, and has the APP user publish and receive a message.
func (f *serverConfigFixture) bootsAndCarriesTraffic(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources["data.natsping_server_config.test"]
		if !ok {
			return fmt.Errorf("data source not in state")
		}
		files := map[string]string{}
		for k, v := range rs.Primary.Attributes {
			if name, ok := strings.CutPrefix(k, "resolver_files."); ok && name != "%" {
				files[name] = v
			}
		}
		srv, err := natstest.Start(rs.Primary.Attributes["config"], t.TempDir(), natstest.WithResolverFiles(files))
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		nc, err := natstest.ConnectCreds(srv.ClientURL(), f.userCreds)
		if err != nil {
			return fmt.Errorf("APP user cannot connect to the rendered server: %w", err)
		}
		defer nc.Close()
		sub, err := nc.SubscribeSync("app.ping")
		if err != nil {
			return err
		}
		if err := nc.Publish("app.ping", []byte("pong")); err != nil {
			return err
		}
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			return fmt.Errorf("message not delivered through the rendered server: %w", err)
		}
		return nil
	}
}

func TestAccServerConfigDataSource(t *testing.T) {
	f := newServerConfigFixture()
	sameConfig := statecheck.CompareValue(compare.ValuesSame())
	full := `
  resolver = {
    type = "full"
  }
  default_sentinel = "` + f.sentinel + `"`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(full, "SYS", "APP", "AUTH"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_server_config.test", tfjsonpath.New("config"), stringContains(
						"operator: \""+f.operatorJWT+"\"",
						"system_account: "+f.sys,
						"type: full", `dir: "./jwt"`, `interval: "2m"`, `timeout: "1.9s"`,
						f.sys+": \""+f.jwts["SYS"]+"\"",
						"default_sentinel: \""+f.sentinel+"\"",
					)),
					statecheck.ExpectKnownValue("data.natsping_server_config.test", tfjsonpath.New("config"),
						knownvalue.StringFunc(func(v string) error {
							if strings.Contains(v, f.jwts["APP"]) {
								return fmt.Errorf("a full resolver config must preload only the system account")
							}
							return nil
						})),
					statecheck.ExpectKnownValue("data.natsping_server_config.test", tfjsonpath.New("system_account"), knownvalue.StringExact(f.sys)),
					statecheck.ExpectKnownValue("data.natsping_server_config.test", tfjsonpath.New("resolver_files"), knownvalue.MapExact(map[string]knownvalue.Check{
						f.keys["SYS"] + ".jwt":  knownvalue.StringExact(f.jwts["SYS"]),
						f.keys["APP"] + ".jwt":  knownvalue.StringExact(f.jwts["APP"]),
						f.keys["AUTH"] + ".jwt": knownvalue.StringExact(f.jwts["AUTH"]),
					})),
					sameConfig.AddStateValue("data.natsping_server_config.test", tfjsonpath.New("config")),
				},
				Check: f.bootsAndCarriesTraffic(t),
			},
			{
				// The same accounts in another order: identical bytes, so nothing to change.
				Config: f.config(full, "AUTH", "APP", "SYS"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameConfig.AddStateValue("data.natsping_server_config.test", tfjsonpath.New("config")),
				},
			},
			{
				Config: f.config(`
  system_account = "`+f.sys+`"
  listen = {
    host = "127.0.0.1"
    port = 4333
  }
  server_name = "edge-1"
  jetstream = {
    max_memory = "64M"
  }`, "APP", "SYS", "AUTH"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_server_config.test", tfjsonpath.New("config"), stringContains(
						"resolver: MEMORY",
						f.keys["APP"]+": \""+f.jwts["APP"]+"\"",
						f.keys["AUTH"]+": \""+f.jwts["AUTH"]+"\"",
						`server_name: "edge-1"`, `host: "127.0.0.1"`, "port: 4333",
						"jetstream {\n  max_memory_store: \"64M\"\n}",
					)),
				},
				Check: f.bootsAndCarriesTraffic(t),
			},
		},
	})
}

func TestAccServerConfigDataSource_invalid(t *testing.T) {
	f := newServerConfigFixture()
	other := newServerConfigFixture()
	otherAccount := strings.Replace(f.config("", "SYS", "APP"), fmt.Sprintf("%q", f.jwts["APP"]), fmt.Sprintf("%q", other.jwts["APP"]), 1)
	ws := `\s+`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Caught by ValidateConfig, before any JWT is looked at.
				Config:      f.config("  resolver = {\n    type = \"cache\"\n    interval = \"2m\"\n  }", "SYS", "APP"),
				ExpectError: regexp.MustCompile(`resolver\.interval:` + ws + `is` + ws + `not` + ws + `supported` + ws + `by` + ws + `the` + ws + `cache`),
			},
			{
				Config:      f.config("  resolver = {\n    timeout = \"soon\"\n    type = \"full\"\n  }", "SYS", "APP"),
				ExpectError: regexp.MustCompile(`resolver\.timeout:` + ws + `"soon"` + ws + `is` + ws + `not` + ws + `a` + ws + `positive`),
			},
			{
				Config:      f.config("", "APP", "AUTH"),
				ExpectError: regexp.MustCompile(`system` + ws + `account` + ws + f.sys + ws + `is` + ws + `not` + ws + `among`),
			},
			{
				Config:      otherAccount,
				ExpectError: regexp.MustCompile(`neither` + ws + `operator` + ws + `"ACME"`),
			},
			{
				Config:      f.config(`  default_sentinel = "`+f.jwts["AUTH"]+`"`, "SYS", "APP", "AUTH"),
				ExpectError: regexp.MustCompile(`default_sentinel:` + ws + `is` + ws + `an` + ws + `account` + ws + `JWT`),
			},
		},
	})
}

package provider

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

const limitsAudience = "https://nats.example.com"

// limitsChainConfig is the smallest graph a Ping user connects through: an account with a
// reader role, a mapping of one group to it, the trust, and the server config with limits.
func limitsChainConfig(idp *pingonetest.Server, limits string) string {
	return fmt.Sprintf(`
resource "natsping_operator" "op" { name = "acme" }

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.op.signer
  roles           = [{ name = "reader", permissions = { sub_allow = ["orders.>"] } }]
}

resource "natsping_role_mapping" "readers" {
  name         = "orders-readers"
  signer       = natsping_account.orders.role_signers["reader"]
  account_name = "ORDERS"
  groups       = ["orders-readers"]
}

resource "natsping_trust" "ping" {
  operator_signer = natsping_operator.op.signer
  issuer          = %[1]q
  audiences       = [%[2]q]
  groups_claim    = "groups"
  ca_bundle_pem   = <<-EOT
%[3]s
EOT
  role_mappings   = [natsping_role_mapping.readers.rule]
}

data "natsping_server_config" "test" {
  operator_jwt = natsping_operator.op.jwt
  account_jwts = [
    natsping_operator.op.system_account_jwt,
    natsping_account.orders.jwt,
    natsping_trust.ping.account_jwt,
  ]
  default_sentinel = natsping_trust.ping.sentinel_jwt
  %[4]s
}
`, idp.Issuer(), limitsAudience, strings.TrimSpace(string(idp.CAPEM())), limits)
}

// manyGroupsToken is the token of a person in the mapped group and 119 others, with names
// as long as real ones ("engineering-team-042"): more than 4 KiB on its own.
func manyGroupsToken(t *testing.T, idp *pingonetest.Server) string {
	t.Helper()
	groups := []string{"orders-readers"}
	for i := range 119 {
		groups = append(groups, fmt.Sprintf("engineering-team-%03d", i))
	}
	token := idp.IssueToken(pingonetest.TokenOptions{Audience: []string{limitsAudience}, Groups: groups})
	if len(token) <= 4096 {
		t.Fatalf("the token is %d bytes; the test needs one above 4 KiB", len(token))
	}
	return token
}

// tokenConnects boots nats-server from the rendered config and the real callout service from
// the trust's callout_config, then connects with each token: the first must be refused with
// wantBigErr (nil: accepted), the second always accepted. It also counts the callout's
// decisions, so a refusal by the server is told apart from a refusal by the callout.
func tokenConnects(t *testing.T, big, small string, wantBigErr *regexp.Regexp) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := func(addr string) (map[string]string, error) {
			rs, ok := s.RootModule().Resources[addr]
			if !ok {
				return nil, fmt.Errorf("%s not in state", addr)
			}
			return rs.Primary.Attributes, nil
		}
		cfg, err := attrs("data.natsping_server_config.test")
		if err != nil {
			return err
		}
		trust, err := attrs("natsping_trust.ping")
		if err != nil {
			return err
		}
		srv, err := natstest.Start(cfg["config"], t.TempDir())
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		doc, err := calloutconfig.Parse([]byte(trust["callout_config"]))
		if err != nil {
			return fmt.Errorf("callout_config: %w", err)
		}
		doc.NATS.URLs = []string{srv.ClientURL()}
		svc, err := callout.New(doc, callout.Options{AuditWriter: io.Discard})
		if err != nil {
			return err
		}
		if err := svc.Start(); err != nil {
			return err
		}
		defer func() { _ = svc.Shutdown(context.Background()) }()
		if err := waitFor(10*time.Second, svc.Ready); err != nil {
			return fmt.Errorf("callout not ready: %w", err)
		}

		connect := func(token string) error {
			nc, err := nats.Connect(srv.ClientURL(), nats.Token(token), nats.NoReconnect(), nats.Timeout(5*time.Second))
			if err != nil {
				return err
			}
			defer nc.Close()
			// The role lets a reader subscribe: the server applied it, so the callout admitted.
			if _, err := nc.SubscribeSync("orders.created"); err != nil {
				return err
			}
			return nc.Flush()
		}
		bigErr := connect(big)
		switch {
		case wantBigErr == nil && bigErr != nil:
			return fmt.Errorf("the %d-byte token was refused: %w", len(big), bigErr)
		case wantBigErr != nil && (bigErr == nil || !wantBigErr.MatchString(bigErr.Error())):
			return fmt.Errorf("the %d-byte token: got error %v, want one matching %s", len(big), bigErr, wantBigErr)
		}
		if err := connect(small); err != nil {
			return fmt.Errorf("the %d-byte token was refused: %w", len(small), err)
		}
		want := uint64(2)
		if wantBigErr != nil {
			want = 1 // the server refused the big CONNECT itself; the callout never heard of it
		}
		audit := svc.Auditor()
		_ = waitFor(5*time.Second, func() error {
			if audit.Written() < want {
				return fmt.Errorf("%d decisions", audit.Written())
			}
			return nil
		})
		time.Sleep(200 * time.Millisecond) // a decision for the big token would have landed by now
		if got := audit.Written(); got != want {
			return fmt.Errorf("the callout made %d decisions, want %d", got, want)
		}
		return nil
	}
}

func waitFor(d time.Duration, ready func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := ready()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAccServerConfig_maxControlLineAdmitsLargeTokens pins the limit users hit first: with
// the default max_control_line (4 KiB) nats-server refuses a CONNECT carrying a token with
// 120 groups before the callout sees it, and the same token connects once the rendered
// config raises max_control_line.
func TestAccServerConfig_maxControlLineAdmitsLargeTokens(t *testing.T) {
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	big := manyGroupsToken(t, idp)
	small := idp.IssueToken(pingonetest.TokenOptions{Audience: []string{limitsAudience}, Groups: []string{"orders-readers"}})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: limitsChainConfig(idp, ""),
				Check:  tokenConnects(t, big, small, regexp.MustCompile(`(?i)maximum control line exceeded`)),
			},
			{
				Config: limitsChainConfig(idp, `limits = {
    max_control_line = 16384
    auth_timeout     = "5s"
  }`),
				Check: tokenConnects(t, big, small, nil),
			},
		},
	})
}

func TestAccServerConfig_limitsInvalid(t *testing.T) {
	f := newServerConfigFixture()
	ws := `\s+`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      f.config("  limits = { max_control_line = 2048 }", "SYS", "APP"),
				ExpectError: regexp.MustCompile(`limits\.max_control_line:` + ws + `2048` + ws + `is` + ws + `below` + ws + `nats-server's` + ws + `default`),
			},
			{
				Config: f.config("  limits = {\n    max_payload = 8388608\n    max_pending = 4194304\n  }", "SYS", "APP"),
				ExpectError: regexp.MustCompile(`raise` + ws + `limits\.max_pending` + ws + `to` + ws + `at` + ws + `least` +
					ws + `8388608`),
			},
			{
				Config:      f.config(`  limits = { auth_timeout = "2" }`, "SYS", "APP"),
				ExpectError: regexp.MustCompile(`limits\.auth_timeout:` + ws + `"2"` + ws + `is` + ws + `not` + ws + `a` + ws + `positive`),
			},
		},
	})
}

package provider

import (
	"fmt"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// limitsChainConfig is the chain with limits in the server config.
func limitsChainConfig(idp *pingonetest.Server, limits string) string {
	return chainConfig(idp, "", limits)
}

// manyGroupsToken is the token of a person in the mapped group and 119 others, with names
// as long as real ones ("engineering-team-042"): more than 4 KiB on its own.
func manyGroupsToken(t *testing.T, idp *pingonetest.Server) string {
	t.Helper()
	groups := []string{"orders-readers"}
	for i := range 119 {
		groups = append(groups, fmt.Sprintf("engineering-team-%03d", i))
	}
	token := idp.IssueToken(pingonetest.TokenOptions{Audience: []string{chainAudience}, Groups: groups})
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
		rt, stop, err := startChain(s, t.TempDir(), callout.Options{AuditWriter: io.Discard})
		if err != nil {
			return err
		}
		defer stop()
		svc, connect := rt.svc, rt.connect
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

// TestAccServerConfig_maxControlLineAdmitsLargeTokens pins the limit users hit first: with
// the default max_control_line (4 KiB) nats-server refuses a CONNECT carrying a token with
// 120 groups before the callout sees it, and the same token connects once the rendered
// config raises max_control_line.
func TestAccServerConfig_maxControlLineAdmitsLargeTokens(t *testing.T) {
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	big := manyGroupsToken(t, idp)
	small := idp.IssueToken(pingonetest.TokenOptions{Audience: []string{chainAudience}, Groups: []string{"orders-readers"}})
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

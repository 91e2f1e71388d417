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
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

const (
	offboardAlice = "aaaaaaaa-0000-4000-8000-00000000a11c"
	offboardBob   = "aaaaaaaa-0000-4000-8000-000000000b0b"
	offboardCarol = "aaaaaaaa-0000-4000-8000-0000000ca401"
)

// offboardingConfig is the chain with offboarding on the trust and JetStream on the server,
// plus the offboarding resource body (none: "").
func offboardingConfig(idp *pingonetest.Server, url, body string) string {
	cfg := chainConfig(idp, `offboarding = { replicas = 1 }`, `jetstream = {}`)
	if body == "" {
		return cfg
	}
	return cfg + fmt.Sprintf(`
resource "natsping_offboarding" "leavers" {
  servers           = [%q]
  system_user_creds = natsping_operator.op.system_user_creds
  callout_config    = natsping_trust.ping.callout_config
  %s
}
`, url, body)
}

// offboardLive is the chain's server and callout, started once the trust exists and kept for
// the whole test, with clients connected through it.
type offboardLive struct {
	t      *testing.T
	idp    *pingonetest.Server
	port   int
	rt     *chainRuntime
	issued time.Time // every token is issued then, before any cutoff the test takes
	// calloutConfig is the trust's, for writing the bucket behind Terraform's back.
	calloutConfig string
	tokens        map[string]string
}

func (l *offboardLive) start(s *terraform.State) error {
	if l.rt != nil {
		return nil
	}
	rt, stop, err := startChain(s, l.t.TempDir(), callout.Options{AuditWriter: io.Discard}, natstest.WithListen("127.0.0.1", l.port))
	if err != nil {
		return err
	}
	l.t.Cleanup(stop)
	l.rt = rt
	l.calloutConfig = s.RootModule().Resources["natsping_trust.ping"].Primary.Attributes["callout_config"]
	return nil
}

// deleteKey removes a key from the bucket as the callout service user would.
func (l *offboardLive) deleteKey(key string) {
	doc, err := calloutconfig.Parse([]byte(l.calloutConfig))
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := offboard.Apply(context.Background(), offboard.Options{Servers: []string{l.rt.srv.ClientURL()}, Doc: doc, Remove: []string{key}}); err != nil {
		l.t.Fatal(err)
	}
}

func (l *offboardLive) token(sub string) string {
	if l.tokens[sub] == "" {
		l.tokens[sub] = l.idp.IssueToken(pingonetest.TokenOptions{Subject: sub, Audience: []string{chainAudience},
			Groups: []string{"orders-readers"}, IssuedAt: l.issued})
	}
	return l.tokens[sub]
}

// client connects as sub and keeps the connection (no reconnect), closed at the end.
func (l *offboardLive) client(sub string) *nats.Conn {
	nc, err := nats.Connect(l.rt.srv.ClientURL(), nats.Token(l.token(sub)), nats.NoReconnect(), nats.Timeout(5*time.Second))
	if err != nil {
		l.t.Fatalf("%s cannot connect: %v", sub, err)
	}
	l.t.Cleanup(nc.Close)
	return nc
}

func connected(want bool, ncs ...**nats.Conn) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, nc := range ncs {
			deadline := time.Now().Add(2 * time.Second)
			for (*nc).IsConnected() != want && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if (*nc).IsConnected() != want {
				return fmt.Errorf("connection %q: connected = %v, want %v", (*nc).Opts.Name, !want, want)
			}
		}
		return nil
	}
}

func (l *offboardLive) admits(sub string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		err := l.rt.connect(l.token(sub))
		if want && err != nil {
			return fmt.Errorf("%s refused: %w", sub, err)
		}
		if !want && err == nil {
			return fmt.Errorf("%s admitted, want refused", sub)
		}
		return nil
	}
}

// TestAccOffboarding: the trust's offboarding attribute (JetStream limits on the callout
// account, the bucket in callout_config, empty second plan), then natsping_offboarding
// created (a live connection closed, reconnect refused, a colleague untouched), updated (a
// second person added, the cutoff kept for the first... and renewed, as the entries changed),
// plan-time errors, and destroy re-admitting them.
func TestAccOffboarding(t *testing.T) {
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	live := &offboardLive{t: t, idp: idp, port: freePort(t), issued: time.Now().Add(-2 * time.Second), tokens: map[string]string{}}
	url := fmt.Sprintf("nats://127.0.0.1:%d", live.port)
	var alice, bob, carol *nats.Conn
	emptyAfter := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	res := "natsping_offboarding.leavers"
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           offboardingConfig(idp, url, ""),
				ConfigPlanChecks: emptyAfter,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("natsping_trust.ping", tfjsonpath.New("offboarding"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"bucket": knownvalue.StringExact(calloutconfig.DefaultOffboardingBucket), "replicas": knownvalue.Int64Exact(1)})),
				},
				Check: resource.ComposeTestCheckFunc(trustHasOffboarding, live.start),
			},
			{
				PreConfig: func() {
					alice, bob, carol = live.client(offboardAlice), live.client(offboardBob), live.client(offboardCarol)
				},
				Config: offboardingConfig(idp, url, fmt.Sprintf(`subjects = [%q]
  reason   = "left the company"`, offboardAlice)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate),
						plancheck.ExpectUnknownValue(res, tfjsonpath.New("cutoff")),
						plancheck.ExpectSensitiveValue(res, tfjsonpath.New("system_user_creds")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("last_apply").AtMapKey("closed"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("last_apply").AtMapKey("servers"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeTestCheckFunc(connected(false, &alice), connected(true, &bob, &carol),
					live.admits(offboardAlice, false), live.admits(offboardCarol, true)),
			},
			{
				// Bob too: the entries change, so the computed cutoff is taken again.
				Config: offboardingConfig(idp, url, fmt.Sprintf(`subjects = [%q, %q]
  reason   = "left the company"`, offboardAlice, offboardBob)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(res, tfjsonpath.New("cutoff")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(connected(false, &bob), connected(true, &carol),
					live.admits(offboardAlice, false), live.admits(offboardBob, false), live.admits(offboardCarol, true)),
			},
			{
				// Only the reason changes: the cutoff stays, nothing is closed.
				Config: offboardingConfig(idp, url, fmt.Sprintf(`subjects = [%q, %q]
  reason   = "contract ended"`, offboardAlice, offboardBob)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectKnownValue(res, tfjsonpath.New("cutoff"), knownvalue.NotNull())},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("last_apply").AtMapKey("closed"), knownvalue.Int64Exact(0)),
				},
				Check: resource.ComposeTestCheckFunc(connected(true, &carol), live.admits(offboardBob, false)),
			},
			{
				// Alice's entry is deleted from the bucket behind Terraform's back: refresh notices,
				// and the plan writes it again.
				PreConfig: func() { live.deleteKey(offboard.Entry{Kind: offboard.KindSubject, Value: offboardAlice}.Key()) },
				Config: offboardingConfig(idp, url, fmt.Sprintf(`subjects = [%q, %q]
  reason   = "contract ended"`, offboardAlice, offboardBob)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(live.admits(offboardAlice, false), live.admits(offboardCarol, true)),
			},
			{
				Config:      strings.Replace(offboardingConfig(idp, url, ""), "replicas = 1", "replicas = 7", 1),
				ExpectError: regexp.MustCompile(`(?s)Replicas out of range.*outside\s+1\s+to\s+5`),
			},
			{
				Config:      strings.Replace(offboardingConfig(idp, url, ""), "replicas = 1", `bucket = "no spaces"`, 1),
				ExpectError: regexp.MustCompile(`(?s)Invalid bucket name.*not\s+a\s+valid\s+JetStream`),
			},
			{
				Config:      offboardingConfig(idp, url, `subjects = ["x"]`+"\n  cutoff = \"2099-01-01T00:00:00Z\""),
				ExpectError: regexp.MustCompile(`(?s)Cutoff too far in the future.*more\s+than\s+the\s+24h`),
			},
			{
				// A cutoff older than every token: allowed, with a warning (plan only).
				Config:   offboardingConfig(idp, url, fmt.Sprintf(`subjects = [%q]`+"\n  cutoff = \"2020-01-01T00:00:00Z\"", offboardAlice)),
				PlanOnly: true, ExpectNonEmptyPlan: true,
			},
			{
				Config:      offboardingConfig(idp, url, `mappings = ["orders-admins"]`),
				ExpectError: regexp.MustCompile(`(?s)mapping "orders-admins" is not a\s+mapping\s+of\s+the\s+trust's.*orders-readers`),
			},
			{
				Config:      offboardingConfig(idp, url, `roles = ["ORDERS/writer"]`),
				ExpectError: regexp.MustCompile(`(?s)role "writer" of account\s+\S+\s+is\s+granted\s+by\s+no`),
			},
			{
				Config:      offboardingConfig(idp, url, `roles = ["reader"]`),
				ExpectError: regexp.MustCompile(`(?s)Invalid role.*not\s+<account>/<role>`),
			},
			{
				Config:      offboardingConfig(idp, url, `subjects = [" padded "]`),
				ExpectError: regexp.MustCompile(`(?s)Invalid subject.*starts\s+or\s+ends\s+with\s+a\s+space`),
			},
			{
				Config:      offboardingConfig(idp, url, `reason = "nobody"`),
				ExpectError: regexp.MustCompile(`Nothing to offboard`),
			},
			{
				// Removing the resource deletes its entries: both are admitted again.
				Config: offboardingConfig(idp, url, ""),
				Check:  resource.ComposeTestCheckFunc(live.admits(offboardAlice, true), live.admits(offboardBob, true)),
			},
		},
	})
}

// trustHasOffboarding checks what the attribute turns on: JetStream limits on the callout
// account and the bucket in callout_config.
func trustHasOffboarding(s *terraform.State) error {
	attrs := s.RootModule().Resources["natsping_trust.ping"].Primary.Attributes
	doc, err := calloutconfig.Parse([]byte(attrs["callout_config"]))
	if err != nil {
		return err
	}
	if doc.Offboarding == nil || doc.Offboarding.Bucket != calloutconfig.DefaultOffboardingBucket || doc.Offboarding.Replicas != 1 {
		return fmt.Errorf("callout_config offboarding = %+v", doc.Offboarding)
	}
	ac, err := jwt.DecodeAccountClaims(attrs["account_jwt"])
	if err != nil {
		return err
	}
	if !ac.Limits.IsJSEnabled() {
		return fmt.Errorf("the callout account JWT has no JetStream: %+v", ac.Limits.JetStreamLimits)
	}
	if !strings.Contains(attrs["callout_config"], `"offboarding"`) {
		return fmt.Errorf("callout_config names no bucket")
	}
	return nil
}

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/pingone"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

const mappingRes = "natsping_role_mapping.m"

func mappingConfig(roleSigner, groups string) string {
	return fmt.Sprintf(`
resource "natsping_role_mapping" "m" {
  name   = "eng"
  signer = %q
  groups = %s
}
`, roleSigner, groups)
}

// mappingRule decodes the rule output and hands it to check.
func mappingRule(check func(calloutconfig.Mapping) error) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		doc := []byte(v)
		var m calloutconfig.Mapping
		if err := jsonStrict(doc, &m); err != nil {
			return fmt.Errorf("rule is not one calloutconfig.Mapping: %w", err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc); err != nil || compact.String() != v {
			return fmt.Errorf("rule is not compact JSON: %s", v)
		}
		return check(m)
	})
}

func TestAccRoleMapping_groupDrift(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	o := newTrustOffline(t)
	config := testAccPingOneProviderConfig(srv, "") + mappingConfig(o.roleSigner, fmt.Sprintf(`["Managers", %q]`, groupReadOnlyID))
	groups := tfjsonpath.New("resolved_groups")

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Names resolve to ids (and ids to names) while planning.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectSensitiveValue(mappingRes, tfjsonpath.New("rule")),
					plancheck.ExpectKnownValue(mappingRes, groups, knownvalue.ListExact([]knownvalue.Check{
						resolvedGroupCheck(groupReadOnlyID, "Engineering Read-Only", groupReadOnlyID),
						resolvedGroupCheck("Managers", "Managers", groupManagersID),
					})),
					plancheck.ExpectKnownValue(mappingRes, tfjsonpath.New("account"), knownvalue.StringExact(o.accountPub)),
					plancheck.ExpectKnownValue(mappingRes, tfjsonpath.New("role"), knownvalue.StringExact("reader")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("rule"), mappingRule(func(m calloutconfig.Mapping) error {
						want := []calloutconfig.Group{{Name: "Engineering Read-Only", ID: groupReadOnlyID}, {Name: "Managers", ID: groupManagersID}}
						if fmt.Sprint(m.Groups) != fmt.Sprint(want) || m.Account != o.accountPub || m.Role != "reader" ||
							m.MaxSession.Std().String() != "1h0m0s" || m.Priority != 0 {
							return fmt.Errorf("rule %+v", m)
						}
						return nil
					})),
				},
			},
			{
				// Renamed in PingOne: the mapping follows the group and the plan shows it.
				PreConfig: func() {
					if err := srv.RenameGroup(groupManagersID, "Platform Leads"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(mappingRes, groups, knownvalue.ListExact([]knownvalue.Check{
						resolvedGroupCheck(groupReadOnlyID, "Engineering Read-Only", groupReadOnlyID),
						resolvedGroupCheck("Managers", "Platform Leads", groupManagersID),
					})),
				}},
			},
			{
				// Deleted in PingOne: only the dead id is kept, so nobody matches through it.
				PreConfig: func() {
					if err := srv.DeleteGroup(groupReadOnlyID); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(mappingRes, groups, knownvalue.ListExact([]knownvalue.Check{
						resolvedGroupCheck(groupReadOnlyID, "", groupReadOnlyID),
						resolvedGroupCheck("Managers", "Platform Leads", groupManagersID),
					})),
				}},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// A group that never existed is an error while planning.
				Config:      testAccPingOneProviderConfig(srv, "") + mappingConfig(o.roleSigner, `["engineering"]`),
				ExpectError: regexp.MustCompile(`(?s)PingOne group not found.*"engineering".*did you mean`),
			},
		},
	})
}

func TestAccRoleMapping_offline(t *testing.T) {
	o := newTrustOffline(t)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mappingConfig(o.roleSigner, fmt.Sprintf(`["Managers", %q]`, groupReadOnlyID)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("resolved_groups"), knownvalue.ListExact([]knownvalue.Check{
						resolvedGroupCheck(groupReadOnlyID, "", groupReadOnlyID),
						resolvedGroupCheck("Managers", "Managers", ""),
					})),
				},
			},
			{
				// A change of role is visible in the plan as a new role and rule.
				Config: mappingConfig(natsjwt.EncodeSigner(&natsjwt.Signer{Owner: o.accountPub, Role: "writer", Seed: mustSeed(t, natsjwt.KindAccount)}), `["Managers"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(mappingRes, tfjsonpath.New("role"), knownvalue.StringExact("writer")),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccRoleMapping_planErrors(t *testing.T) {
	o := newTrustOffline(t)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      mappingConfig(mustSeed(t, natsjwt.KindAccount), `["Managers"]`),
				ExpectError: regexp.MustCompile(`(?s)Not a role signer.*raw\s+account\s+seed`),
			},
			{
				Config:      mappingConfig(o.roleSigner, `[]`),
				ExpectError: regexp.MustCompile(`(?s)at least 1`),
			},
			{
				Config:      strings.Replace(mappingConfig(o.roleSigner, `["x"]`), `groups`, `max_session = "30s"`+"\n  groups", 1),
				ExpectError: regexp.MustCompile(`(?s)Duration too short`),
			},
			{
				Config:      strings.Replace(mappingConfig(o.roleSigner, `["x"]`), `groups`, `tags = ["team:a.b"]`+"\n  groups", 1),
				ExpectError: regexp.MustCompile(`(?s)Invalid tag.*widen`),
			},
			// Every key the callout sets is reserved; ping-sub was once missed, and a mapping
			// tag ping-sub:shared then gave all its users the shared {{tag(ping-sub)}} subjects.
			{
				Config:      strings.Replace(mappingConfig(o.roleSigner, `["x"]`), `groups`, `tags = ["ping-sub:shared"]`+"\n  groups", 1),
				ExpectError: regexp.MustCompile(`(?s)Reserved tag key.*uses the key "ping-sub"`),
			},
			{
				Config:      strings.Replace(mappingConfig(o.roleSigner, `["x"]`), `groups`, `tags = ["role:admin"]`+"\n  groups", 1),
				ExpectError: regexp.MustCompile(`(?s)Reserved tag key.*uses the key "role"`),
			},
			{
				Config:      strings.Replace(mappingConfig(o.roleSigner, `["x"]`), `groups`, `max_session = "25h"`+"\n  groups", 1),
				ExpectError: regexp.MustCompile(`(?s)Duration too long.*maximum of 24h`),
			},
		},
	})
}

// TestRoleMappingRuleCarriesRoleKey: the rule names the role's public key, so the callout can
// refuse a seed that is not it.
func TestRoleMappingRuleCarriesRoleKey(t *testing.T) {
	owner, _, err := natsjwt.NewKey(natsjwt.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := natsjwt.ParseSigner(natsjwt.EncodeSigner(&natsjwt.Signer{Owner: owner, Role: "reader", Seed: mustSeed(t, natsjwt.KindAccount)}), natsjwt.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	m := roleMappingModel{
		Name: types.StringValue("m"), Priority: types.Int64Value(0), MaxSession: types.StringValue("1h"),
		AccountName: types.StringNull(), AllowedConnectionTypes: types.SetNull(types.StringType), Tags: types.SetNull(types.StringType),
		ResolvedGroups: resolvedGroupsValue([]resolvedGroup{{Value: "Readers", Name: "Readers"}}),
	}
	rule, err := m.rule(context.Background(), signer)
	if err != nil {
		t.Fatal(err)
	}
	var got calloutconfig.Mapping
	if err := jsonStrict([]byte(rule), &got); err != nil {
		t.Fatal(err)
	}
	if got.RoleSigningKey != signer.PublicKey || got.Validate() != nil {
		t.Fatalf("rule %+v: role key %s, want %s", got, got.RoleSigningKey, signer.PublicKey)
	}
}

func jsonStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// fakeGroups is a PingOne directory in memory, for the drift decision table.
type fakeGroups struct{ byID map[string]string } // id -> name

func (f fakeGroups) GetGroup(_ context.Context, id string) (*pingone.Group, error) {
	if name, ok := f.byID[id]; ok {
		return &pingone.Group{ID: id, Name: name}, nil
	}
	return nil, &pingone.NotFoundError{Lookup: "id " + id}
}

func (f fakeGroups) FindGroupByName(_ context.Context, name string) (*pingone.Group, error) {
	for id, n := range f.byID {
		if n == name {
			return &pingone.Group{ID: id, Name: n}, nil
		}
	}
	return nil, &pingone.NotFoundError{Lookup: "name " + name}
}

func TestResolveWithPingOne(t *testing.T) {
	t.Parallel()
	const idA, idB = "11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"
	tests := []struct {
		name      string
		dir       map[string]string
		values    []string
		prior     []resolvedGroup
		want      []resolvedGroup
		warning   string // substring of the only warning; "" for none
		errorPart string
	}{
		{name: "name resolves", dir: map[string]string{idA: "ops"}, values: []string{"ops"},
			want: []resolvedGroup{{"ops", "ops", idA}}},
		{name: "id resolves", dir: map[string]string{idA: "ops"}, values: []string{idA},
			want: []resolvedGroup{{idA, "ops", idA}}},
		{name: "unchanged", dir: map[string]string{idA: "ops"}, values: []string{"ops"},
			prior: []resolvedGroup{{"ops", "ops", idA}}, want: []resolvedGroup{{"ops", "ops", idA}}},
		{name: "renamed, configured by name", dir: map[string]string{idA: "platform"}, values: []string{"ops"},
			prior: []resolvedGroup{{"ops", "ops", idA}}, want: []resolvedGroup{{"ops", "platform", idA}},
			warning: `was name "ops", id ` + idA + `, now name "platform"`},
		{name: "renamed, already applied", dir: map[string]string{idA: "platform"}, values: []string{"ops"},
			prior: []resolvedGroup{{"ops", "platform", idA}}, want: []resolvedGroup{{"ops", "platform", idA}},
			warning: `is now named "platform"`},
		{name: "renamed, configured by id", dir: map[string]string{idA: "platform"}, values: []string{idA},
			prior: []resolvedGroup{{idA, "ops", idA}}, want: []resolvedGroup{{idA, "platform", idA}},
			warning: "was renamed"},
		{name: "deleted", dir: map[string]string{}, values: []string{"ops"},
			prior: []resolvedGroup{{"ops", "ops", idA}}, want: []resolvedGroup{{"ops", "", idA}},
			warning: "match only the old id " + idA},
		{name: "deleted, already applied", dir: map[string]string{}, values: []string{"ops"},
			prior: []resolvedGroup{{"ops", "", idA}}, want: []resolvedGroup{{"ops", "", idA}},
			warning: "was deleted in PingOne"},
		{name: "name taken by another group", dir: map[string]string{idB: "ops"}, values: []string{"ops"},
			prior: []resolvedGroup{{"ops", "ops", idA}}, want: []resolvedGroup{{"ops", "ops", idB}},
			warning: "different PingOne group"},
		{name: "new value not found", dir: map[string]string{idA: "ops"}, values: []string{"Ops"},
			errorPart: `groups entry "Ops"`},
		{name: "new id not found", dir: map[string]string{}, values: []string{idB},
			prior: []resolvedGroup{{"ops", "ops", idA}}, errorPart: idB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, warnings, errs := resolveWithPingOne(context.Background(), fakeGroups{tt.dir}, tt.values, tt.prior)
			if tt.errorPart != "" {
				if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.errorPart) {
					t.Fatalf("errors %v, want one mentioning %q", errs, tt.errorPart)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("resolved %+v, want %+v", got, tt.want)
			}
			switch {
			case tt.warning == "" && len(warnings) > 0:
				t.Errorf("unexpected warnings: %+v", warnings)
			case tt.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0].detail, tt.warning)):
				t.Errorf("warnings %+v, want one containing %q", warnings, tt.warning)
			}
		})
	}
}

// servicesMappingConfig is a mapping for services (no groups): client ids, scopes and a claim
// condition.
func servicesMappingConfig(roleSigner, clientIDs string) string {
	return fmt.Sprintf(`
resource "natsping_role_mapping" "m" {
  name       = "orders-services"
  signer     = %q
  client_ids = %s
  scopes     = ["nats:publish"]
  claims     = { "env" = ["prod", "staging"], "acr" = ["Multi_Factor"] }
}
`, roleSigner, clientIDs)
}

func TestAccRoleMapping_conditions(t *testing.T) {
	o := newTrustOffline(t)
	const svc = "8f1c2d3e-0000-4000-8000-00000000c11e"
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: servicesMappingConfig(o.roleSigner, fmt.Sprintf(`[%q]`, svc)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(mappingRes, tfjsonpath.New("resolved_clients"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"value": knownvalue.StringExact(svc),
							"id": knownvalue.StringExact(svc), "name": knownvalue.Null()}),
					})),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("rule"), mappingRule(func(m calloutconfig.Mapping) error {
						want := []calloutconfig.ClaimCondition{{Path: "acr", Values: []string{"Multi_Factor"}}, {Path: "env", Values: []string{"prod", "staging"}}}
						if len(m.Groups) != 0 || fmt.Sprint(m.ClientIDs) != fmt.Sprint([]string{svc}) ||
							fmt.Sprint(m.Scopes) != "[nats:publish]" || fmt.Sprint(m.Claims) != fmt.Sprint(want) {
							return fmt.Errorf("rule %+v", m)
						}
						return m.Validate()
					})),
				},
			},
			{
				// Groups and conditions together: every condition renders, sorted.
				Config: strings.Replace(servicesMappingConfig(o.roleSigner, fmt.Sprintf(`[%q]`, svc)), "scopes", `groups     = ["Readers"]`+"\n  scopes", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingRes, plancheck.ResourceActionUpdate),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("rule"), mappingRule(func(m calloutconfig.Mapping) error {
						if fmt.Sprint(m.Groups) != fmt.Sprint([]calloutconfig.Group{{Name: "Readers"}}) || len(m.ClientIDs) != 1 {
							return fmt.Errorf("rule %+v", m)
						}
						return nil
					})),
				},
			},
		},
	})
}

func TestAccRoleMapping_conditionErrors(t *testing.T) {
	o := newTrustOffline(t)
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
resource "natsping_role_mapping" "m" {
  name   = "nothing"
  signer = %q
}
`, o.roleSigner),
				ExpectError: regexp.MustCompile(`(?s)No condition.*at least one condition`),
			},
			{
				// Offline, a value is the client id itself, so one with a space can never match.
				Config:      servicesMappingConfig(o.roleSigner, `["svc a"]`),
				ExpectError: regexp.MustCompile(`(?s)client id "svc a" contains a space`),
			},
			{
				Config:      servicesMappingConfig(o.roleSigner, `[" svc"]`),
				ExpectError: regexp.MustCompile(`(?s)Invalid client id.*starts or ends with spaces`),
			},
			{
				Config:      strings.Replace(servicesMappingConfig(o.roleSigner, `["svc"]`), `"env"`, `"exp"`, 1),
				ExpectError: regexp.MustCompile(`(?s)Invalid claim condition.*token policy`),
			},
		},
	})
}

// TestAccRoleMapping_clientDrift: with PingOne configured, client ids are applications looked
// up while planning; a name resolves to the id tokens carry, an unknown one is an error, and a
// deleted application shows as a planned update that keeps only the dead id.
func TestAccRoleMapping_clientDrift(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	o := newTrustOffline(t)
	app := srv.AddApplication(pingonetest.Application{ID: "8f1c2d3e-0000-4000-8000-00000000c11e", Name: "Orders Service", Type: "WORKER"})
	config := testAccPingOneProviderConfig(srv, "") + servicesMappingConfig(o.roleSigner, fmt.Sprintf(`[%q]`, app.ID))
	clients := tfjsonpath.New("resolved_clients")
	entry := func(value, id, name string) knownvalue.Check {
		nameCheck := knownvalue.Check(knownvalue.Null())
		if name != "" {
			nameCheck = knownvalue.StringExact(name)
		}
		return knownvalue.ObjectExact(map[string]knownvalue.Check{"value": knownvalue.StringExact(value), "id": knownvalue.StringExact(id), "name": nameCheck})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(mappingRes, clients, knownvalue.ListExact([]knownvalue.Check{entry(app.ID, app.ID, "Orders Service")})),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				PreConfig: func() {
					if err := srv.DeleteApplication(app.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(mappingRes, clients, knownvalue.ListExact([]knownvalue.Check{entry(app.ID, app.ID, "")})),
				}, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// An application name resolves to its id, which is what the rule matches.
				Config: testAccPingOneProviderConfig(srv, "") + servicesMappingConfig(o.roleSigner, `["Demo Web App"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(mappingRes, clients, knownvalue.ListExact([]knownvalue.Check{
						entry("Demo Web App", pingonetest.DefaultAppClientID, "Demo Web App")})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingRes, tfjsonpath.New("rule"), mappingRule(func(m calloutconfig.Mapping) error {
						if fmt.Sprint(m.ClientIDs) != fmt.Sprint([]string{pingonetest.DefaultAppClientID}) {
							return fmt.Errorf("client ids %v", m.ClientIDs)
						}
						return nil
					})),
				},
			},
			{
				Config:      testAccPingOneProviderConfig(srv, "") + servicesMappingConfig(o.roleSigner, `["0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f"]`),
				ExpectError: regexp.MustCompile(`(?s)PingOne application not found.*0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f`),
			},
		},
	})
}

// downDirectory is a PingOne that cannot answer: every lookup fails with err.
type downDirectory struct{ err error }

func (d downDirectory) GetGroup(context.Context, string) (*pingone.Group, error) { return nil, d.err }
func (d downDirectory) FindGroupByName(context.Context, string) (*pingone.Group, error) {
	return nil, d.err
}
func (d downDirectory) GetApplication(context.Context, string) (*pingone.Application, error) {
	return nil, d.err
}
func (d downDirectory) ResolveClientID(context.Context, string) (*pingone.Application, error) {
	return nil, d.err
}

// TestResolveDuringPingOneOutage: when PingOne cannot answer, entries resolved before keep
// their reviewed resolution with a warning (an outage must not block every plan), new entries
// still fail, and a refusal (401) is never mistaken for an outage.
func TestResolveDuringPingOneOutage(t *testing.T) {
	t.Parallel()
	const id = "11111111-0000-4000-8000-000000000001"
	unreachable := &url.Error{Op: "Get", URL: "https://api.pingone.eu/v1/environments/x/groups", Err: errors.New("connection refused")}
	busy := &pingone.APIError{Method: "GET", Path: "/groups", StatusCode: 503}
	refused := &pingone.APIError{Method: "GET", Path: "/groups", StatusCode: 401}
	prior := []resolvedGroup{{"ops", "ops", id}}
	for name, err := range map[string]error{"network": unreachable, "503": busy} {
		got, warnings, errs := resolveWithPingOne(context.Background(), downDirectory{err}, []string{"ops"}, prior)
		if len(errs) != 0 || fmt.Sprint(got) != fmt.Sprint(prior) || len(warnings) != 1 || !strings.Contains(warnings[0].summary, "PingOne unreachable") {
			t.Fatalf("%s: got %v, warnings %+v, errors %v; want the reviewed group kept with a warning", name, got, warnings, errs)
		}
		if _, _, errs := resolveWithPingOne(context.Background(), downDirectory{err}, []string{"new"}, prior); len(errs) != 1 {
			t.Fatalf("%s: a new group was accepted without PingOne: %v", name, errs)
		}
		clients, warnings, errs := resolveClientsWithPingOne(context.Background(), downDirectory{err}, []string{"svc"},
			[]resolvedClient{{Value: "svc", ID: id, Name: "Orders"}})
		if len(errs) != 0 || len(clients) != 1 || clients[0].ID != id || len(warnings) != 1 {
			t.Fatalf("%s: clients %v, warnings %+v, errors %v; want the reviewed client kept with a warning", name, clients, warnings, errs)
		}
	}
	if _, _, errs := resolveWithPingOne(context.Background(), downDirectory{refused}, []string{"ops"}, prior); len(errs) != 1 {
		t.Fatalf("a 401 was treated as an outage: %v", errs)
	}
}

// TestAccRoleMapping_pingOneOutage: an existing mapping plans with its reviewed groups and
// client ids while PingOne is down (a warning names the outage), so a PingOne outage does not
// block planning the rest of the configuration; a new group still needs PingOne.
func TestAccRoleMapping_pingOneOutage(t *testing.T) {
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	testAccTrustPingOne(t, srv)
	o := newTrustOffline(t)
	app := srv.AddApplication(pingonetest.Application{ID: "8f1c2d3e-0000-4000-8000-00000000c11e", Name: "Orders Service", Type: "WORKER"})
	withClients := strings.Replace(mappingConfig(o.roleSigner, `["Managers"]`), "groups", fmt.Sprintf("client_ids = [%q]\n  groups", app.ID), 1)
	config := testAccPingOneProviderConfig(srv, "") + withClients
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: srv.Close,
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				Config:      testAccPingOneProviderConfig(srv, "") + mappingConfig(o.roleSigner, `["Managers", "Engineering"]`),
				ExpectError: regexp.MustCompile(`(?s)PingOne group not found.*"Engineering"`),
			},
		},
	})
}

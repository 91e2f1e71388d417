package callout

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

func claimsOf(t testing.TB, raw string) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConditionsEachKind(t *testing.T) {
	person := &oidc.Identity{Subject: "alice", ClientID: "web-app", Groups: []string{"Readers"},
		Scopes: []string{"openid", "nats:read"},
		Claims: claimsOf(t, `{"acr":"urn:mfa","amr":["pwd","otp"],"level":3,"verified":true,"org":{"unit":"eu"},
			"https://example.com/dept":"ops","nothing":null,"list":[1,"x"],"obj":{"a":1}}`)}
	service := &oidc.Identity{ClientID: "orders-svc", Scopes: []string{"nats:publish"}, Claims: claimsOf(t, `{"env":"prod"}`)}
	tests := []struct {
		name string
		m    calloutconfig.Mapping
		id   *oidc.Identity
		want bool
	}{
		{"group by name", calloutconfig.Mapping{Groups: []calloutconfig.Group{{Name: "Readers"}}}, person, true},
		{"group by id", calloutconfig.Mapping{Groups: []calloutconfig.Group{{Name: "x", ID: "Readers"}}}, person, true},
		{"group case differs", calloutconfig.Mapping{Groups: []calloutconfig.Group{{Name: "readers"}}}, person, false},
		{"client id", calloutconfig.Mapping{ClientIDs: []string{"web-app"}}, person, true},
		{"other client id", calloutconfig.Mapping{ClientIDs: []string{"cli"}}, person, false},
		{"all scopes", calloutconfig.Mapping{Scopes: []string{"openid", "nats:read"}}, person, true},
		{"one scope missing", calloutconfig.Mapping{Scopes: []string{"openid", "nats:write"}}, person, false},
		{"string claim", claimMapping("acr", "urn:mfa"), person, true},
		{"string claim, other value", claimMapping("acr", "urn:pwd"), person, false},
		{"array claim contains", claimMapping("amr", "otp"), person, true},
		{"array claim lacks", claimMapping("amr", "hwk"), person, false},
		{"number compared as JSON", claimMapping("level", "3"), person, true},
		{"number is not its string", claimMapping("level", `"3"`), person, false},
		{"boolean", claimMapping("verified", "true"), person, true},
		{"nested path", claimMapping("org.unit", "eu"), person, true},
		{"namespaced claim with dots", claimMapping("https://example.com/dept", "ops"), person, true},
		{"absent claim", claimMapping("missing", "x"), person, false},
		{"null claim", claimMapping("nothing", "null"), person, false},
		{"path through a string", claimMapping("acr.x", "y"), person, false},
		{"mixed array: only strings match", claimMapping("list", "1"), person, false},
		{"mixed array: its string", claimMapping("list", "x"), person, true},
		{"object compared as JSON", claimMapping("obj", `{"a":1}`), person, true},
		{"all conditions hold", calloutconfig.Mapping{Groups: []calloutconfig.Group{{Name: "Readers"}},
			ClientIDs: []string{"web-app"}, Scopes: []string{"nats:read"},
			Claims: []calloutconfig.ClaimCondition{{Path: "acr", Values: []string{"urn:mfa"}}}}, person, true},
		{"one of several fails", calloutconfig.Mapping{Groups: []calloutconfig.Group{{Name: "Readers"}},
			Claims: []calloutconfig.ClaimCondition{{Path: "acr", Values: []string{"urn:pwd"}}}}, person, false},
		{"service by client id", calloutconfig.Mapping{ClientIDs: []string{"orders-svc"}, Scopes: []string{"nats:publish"}}, service, true},
		{"service by scope alone", calloutconfig.Mapping{Scopes: []string{"nats:publish"}}, service, false},
		{"service by claim alone", claimMapping("env", "prod"), service, false},
		{"service by groups", calloutconfig.Mapping{Groups: []calloutconfig.Group{{Name: "Readers"}}}, service, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := compileConditions(tc.m)
			if got := c.holds(tc.id); got != tc.want {
				t.Fatalf("holds = %v, want %v", got, tc.want)
			}
		})
	}
}

func claimMapping(path string, values ...string) calloutconfig.Mapping {
	return calloutconfig.Mapping{Claims: []calloutconfig.ClaimCondition{{Path: path, Values: values}}}
}

// TestDecisionServicesAndPeople: a service with a client-credentials token gets exactly the
// role of the mapping that names its client, tagged ping-client and never ping-sub; a person
// in the same account gets the people's role; a step-up condition on acr admits only tokens
// that carry it; a token meeting no mapping is refused with the reason that says why.
func TestDecisionServicesAndPeople(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	services := c.orders.mapping("orders-services", "writer", 0)
	services.Groups = nil
	services.ClientIDs = []string{"orders-svc"}
	services.Scopes = []string{"nats:publish"}
	people := c.orders.mapping("orders-people", "reader", 0, "readers")
	stepUp := c.orders.mapping("orders-admins", "writer", 10, "readers")
	stepUp.Claims = []calloutconfig.ClaimCondition{{Path: "acr", Values: []string{"urn:mfa"}}}

	svc := &oidc.Identity{ClientID: "orders-svc", Name: "orders-svc", Scopes: []string{"nats:publish"}, Expiry: identity("x").Expiry}
	svcNoScope := &oidc.Identity{ClientID: "orders-svc", Name: "orders-svc", Expiry: identity("x").Expiry}
	otherSvc := &oidc.Identity{ClientID: "billing-svc", Name: "billing-svc", Scopes: []string{"nats:publish"}, Expiry: identity("x").Expiry}
	alice := identity("alice", "readers")
	alice.Claims = map[string]any{"acr": "urn:pwd"}
	bob := identity("bob", "readers")
	bob.Claims = map[string]any{"acr": "urn:mfa"}
	carol := identity("carol", "marketing")

	tests := []struct {
		name       string
		id         *oidc.Identity
		wantRole   string
		wantTag    string
		wantReason Reason
	}{
		{name: "service", id: svc, wantRole: "writer", wantTag: "ping-client:orders-svc"},
		{name: "service without the required scope", id: svcNoScope, wantReason: ReasonServiceToken},
		{name: "service no mapping names", id: otherSvc, wantReason: ReasonServiceToken},
		{name: "person without step-up", id: alice, wantRole: "reader", wantTag: "ping-sub:alice"},
		{name: "person with step-up", id: bob, wantRole: "writer", wantTag: "ping-sub:bob"},
		{name: "person in no mapped group", id: carol, wantReason: ReasonNoMapping},
	}
	e := c.engine(t, fakeVerifier{"tok-alice": nil}, services, people, stepUp)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.verifier = fakeVerifier{"tok-alice": tc.id}
			data, hdr, _ := c.request(t, nil)
			reply, d := e.handle(context.Background(), data, hdr)
			resp := c.response(t, reply)
			if tc.wantReason != "" {
				if d.Allowed || d.Reason != tc.wantReason {
					t.Fatalf("allowed=%v reason=%s, want refusal %s", d.Allowed, d.Reason, tc.wantReason)
				}
				return
			}
			if !d.Allowed {
				t.Fatalf("refused: %s %s", d.Reason, d.Detail)
			}
			uc, err := jwt.DecodeUserClaims(resp.Jwt)
			if err != nil {
				t.Fatal(err)
			}
			if d.Mapping.role != tc.wantRole || !uc.Tags.Contains(tc.wantTag) {
				t.Fatalf("role %s tags %v, want %s with %s", d.Mapping.role, uc.Tags, tc.wantRole, tc.wantTag)
			}
			identityTags := 0
			for _, tag := range uc.Tags {
				if strings.HasPrefix(tag, calloutconfig.TagPingSub+":") || strings.HasPrefix(tag, calloutconfig.TagPingClient+":") {
					identityTags++
				}
			}
			if identityTags != 1 {
				t.Fatalf("tags %v: want exactly one identity tag", uc.Tags)
			}
			if rec := d.record(); rec.OAuthClientID != tc.id.ClientID || rec.Subject != tc.id.Subject {
				t.Fatalf("audit line %+v does not name the admitted identity", rec)
			}
		})
	}
}

// FuzzConditions: whatever the claims, a condition never panics, and a mapping with a client
// condition never admits a token of another client.
func FuzzConditions(f *testing.F) {
	f.Add(`{"acr":"urn:mfa","amr":["otp"]}`, "acr", "urn:mfa", "svc", "svc")
	f.Add(`{"a":{"b":[1,2,"c"]}}`, "a.b", "c", "", "x")
	f.Add(`{"a.b":3}`, "a.b", "3", "svc", "other")
	f.Fuzz(func(t *testing.T, claims, path, value, mappingClient, tokenClient string) {
		var c map[string]any
		if json.Unmarshal([]byte(claims), &c) != nil {
			return
		}
		m := calloutconfig.Mapping{Claims: []calloutconfig.ClaimCondition{{Path: path, Values: []string{value}}}}
		if mappingClient != "" {
			m.ClientIDs = []string{mappingClient}
		}
		cond := compileConditions(m)
		id := &oidc.Identity{Subject: "s", ClientID: tokenClient, Claims: c}
		if cond.holds(id) && mappingClient != "" && tokenClient != mappingClient {
			t.Fatalf("client %q admitted by a mapping for %q", tokenClient, mappingClient)
		}
	})
}

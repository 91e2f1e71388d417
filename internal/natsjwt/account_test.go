package natsjwt

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

func testSigner(t testing.TB, kind KeyKind, owner string) *Signer {
	t.Helper()
	pub, seed, err := NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	if owner == "" {
		owner = pub
	}
	s, err := NewSigner(owner, "", seed, kind)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testPub(t testing.TB, kind KeyKind) string {
	t.Helper()
	pub, _, err := NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestSignAccount_claims(t *testing.T) {
	t.Parallel()
	operator := testPub(t, KindOperator)
	signingKey := testSigner(t, KindOperator, operator)
	account := testPub(t, KindAccount)
	exporter := testPub(t, KindAccount)
	extraKey := testPub(t, KindAccount)
	roleKey := testPub(t, KindAccount)
	authUser := testPub(t, KindUser)
	xkey := testPub(t, KindCurve)
	expires := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

	spec := AccountSpec{
		Name:        "ORDERS",
		Description: "order processing",
		InfoURL:     "https://wiki.example.com/orders",
		Tags:        []string{"team:blue", "env:prod"},
		Expires:     expires,
		Limits: AccountLimits{
			Conn: Limit(100), LeafNodeConn: Limit(0), Payload: Limit(1 << 20),
			WildcardExports: new(bool), DisallowBearer: true,
		},
		JetStream: &JetStreamSpec{JetStreamLimits: JetStreamLimits{DiskStorage: Limit(1 << 30), MemoryStorage: Limit(-1), Streams: Limit(10)}},
		Exports: []ExportSpec{
			{Type: KindService, Subject: "orders.get", ResponseType: jwt.ResponseTypeStream, ResponseThreshold: 2 * time.Second, TokenRequired: true},
			{Type: KindStream, Subject: "orders.events", Advertise: true, Description: "order events"},
		},
		Imports: []ImportSpec{
			{Type: KindStream, Subject: "billing.events", Account: exporter, LocalSubject: "billing.in"},
		},
		SigningKeys:        []string{extraKey},
		DefaultPermissions: Permissions{SubAllow: []string{"_INBOX.>"}},
		Roles: []RoleSpec{{
			Name: "writer", Description: "writes orders", PublicKey: roleKey,
			Permissions: Permissions{PubAllow: []string{"orders.{{tag(team)}}.>"}},
			Limits:      UserLimits{Payload: 1024},
		}},
		Authorization: &ExternalAuth{AuthUsers: []string{authUser}, AllowedAccounts: []string{"*"}, XKey: xkey},
	}
	token, err := SignAccount(spec, account, signingKey)
	if err != nil {
		t.Fatalf("SignAccount: %v", err)
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatalf("decoding the signed JWT: %v", err)
	}
	if c.Issuer != signingKey.PublicKey || c.Subject != account {
		t.Errorf("issuer/subject = %s/%s, want the signing key %s / account %s", c.Issuer, c.Subject, signingKey.PublicKey, account)
	}
	if c.Name != "ORDERS" || c.Description != "order processing" || c.InfoURL != spec.InfoURL || c.Expires != expires.Unix() {
		t.Errorf("info fields not carried: %+v", c.ClaimsData)
	}
	if strings.Join(c.Tags, ",") != "env:prod,team:blue" {
		t.Errorf("tags = %v, want sorted", c.Tags)
	}
	l := c.Limits
	if l.Conn != 100 || l.LeafNodeConn != 0 || l.Payload != 1<<20 || l.Subs != jwt.NoLimit || l.Data != jwt.NoLimit ||
		l.Imports != jwt.NoLimit || l.Exports != jwt.NoLimit || l.WildcardExports || !l.DisallowBearer {
		t.Errorf("account limits = %+v %+v", l.AccountLimits, l.NatsLimits)
	}
	if !l.IsJSEnabled() || l.DiskStorage != 1<<30 || l.MemoryStorage != -1 || l.Streams != 10 || l.Consumer != jwt.NoLimit {
		t.Errorf("jetstream limits = %+v", l.JetStreamLimits)
	}
	if len(c.Exports) != 2 || c.Exports[0].Subject != "orders.events" || c.Exports[1].ResponseType != jwt.ResponseTypeStream ||
		!c.Exports[1].TokenReq || c.Exports[1].ResponseThreshold != 2*time.Second || !c.Exports[0].Advertise {
		t.Errorf("exports = %s", mustJSON(t, c.Exports))
	}
	if len(c.Imports) != 1 || c.Imports[0].Account != exporter || c.Imports[0].LocalSubject != "billing.in" || !c.Imports[0].IsStream() {
		t.Errorf("imports = %s", mustJSON(t, c.Imports))
	}
	if scope, ok := c.SigningKeys.GetScope(extraKey); !ok || scope != nil {
		t.Errorf("extra signing key %s missing or scoped", extraKey)
	}
	scope, ok := c.SigningKeys.GetScope(roleKey)
	us, _ := scope.(*jwt.UserScope)
	if !ok || us == nil {
		t.Fatalf("role key %s is not a scoped signer: %s", roleKey, mustJSON(t, c.SigningKeys))
	}
	if us.Role != "writer" || us.Description != "writes orders" || us.Template.Payload != 1024 || us.Template.Subs != jwt.NoLimit ||
		strings.Join(us.Template.Pub.Allow, ",") != "orders.{{tag(team)}}.>" {
		t.Errorf("role scope = %s", mustJSON(t, us))
	}
	if strings.Join(c.DefaultPermissions.Sub.Allow, ",") != "_INBOX.>" {
		t.Errorf("default permissions = %s", mustJSON(t, c.DefaultPermissions))
	}
	if !c.HasExternalAuthorization() || c.Authorization.AllowedAccounts[0] != "*" || c.Authorization.XKey != xkey {
		t.Errorf("authorization = %+v", c.Authorization)
	}
	vr := jwt.CreateValidationResults()
	c.Validate(vr)
	if vr.IsBlocking(true) {
		t.Errorf("the decoded claims do not validate: %v", vr.Errors())
	}
}

// Equal specs must sign to equal claims whatever order the lists come in, or plans churn.
func TestAccountClaims_deterministic(t *testing.T) {
	t.Parallel()
	account := testPub(t, KindAccount)
	a1, a2 := testPub(t, KindAccount), testPub(t, KindAccount)
	r1, r2 := testPub(t, KindAccount), testPub(t, KindAccount)
	build := func(reverse bool) AccountSpec {
		s := AccountSpec{
			Name: "A",
			Tags: []string{"b", "a", "c"},
			Exports: []ExportSpec{
				{Type: KindService, Subject: "x.y"}, {Type: KindStream, Subject: "x.y"}, {Type: KindStream, Subject: "a.>"},
			},
			Imports: []ImportSpec{
				{Type: KindStream, Subject: "s.>", Account: a1}, {Type: KindStream, Subject: "s.>", Account: a2},
			},
			Roles: []RoleSpec{
				{Name: "r1", PublicKey: r1, Permissions: Permissions{PubAllow: []string{"b", "a"}}},
				{Name: "r2", PublicKey: r2},
			},
			DefaultPermissions: Permissions{SubAllow: []string{"z", "y"}},
		}
		if reverse {
			rev := func(n int, swap func(i, j int)) {
				for i := 0; i < n/2; i++ {
					swap(i, n-1-i)
				}
			}
			rev(len(s.Tags), func(i, j int) { s.Tags[i], s.Tags[j] = s.Tags[j], s.Tags[i] })
			rev(len(s.Exports), func(i, j int) { s.Exports[i], s.Exports[j] = s.Exports[j], s.Exports[i] })
			rev(len(s.Imports), func(i, j int) { s.Imports[i], s.Imports[j] = s.Imports[j], s.Imports[i] })
			rev(len(s.Roles), func(i, j int) { s.Roles[i], s.Roles[j] = s.Roles[j], s.Roles[i] })
			s.Roles[1].Permissions.PubAllow = []string{"a", "b"}
			s.DefaultPermissions.SubAllow = []string{"y", "z"}
		}
		return s
	}
	if err := build(false).Validate(ValidateOptions{AccountPublicKey: account}); err != nil {
		t.Fatal(err)
	}
	c1, c2 := build(false).claims(account), build(true).claims(account)
	if j1, j2 := mustJSON(t, c1.Account), mustJSON(t, c2.Account); j1 != j2 {
		t.Errorf("claims differ with list order:\n%s\n%s", j1, j2)
	}
}

func TestAccountSpec_validate(t *testing.T) {
	t.Parallel()
	account := testPub(t, KindAccount)
	other := testPub(t, KindAccount)
	roleKey := testPub(t, KindAccount)
	user := testPub(t, KindUser)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	valid := func() AccountSpec { return AccountSpec{Name: "A"} }
	cases := []struct {
		name   string
		mutate func(*AccountSpec)
		field  string
		want   string
	}{
		{"empty name", func(s *AccountSpec) { s.Name = " " }, "name", "name is empty"},
		{"relative info url", func(s *AccountSpec) { s.InfoURL = "wiki/orders" }, "info_url", "not an absolute URL"},
		{"upper-case tag", func(s *AccountSpec) { s.Tags = []string{"Team:Blue"} }, "tags", `write "team:blue"`},
		{"expired", func(s *AccountSpec) { s.Expires = now.Add(-time.Hour) }, "expires_at", "not in the future"},
		{"negative limit", func(s *AccountSpec) { s.Limits.Conn = Limit(-5) }, "limits.max_connections", "is -5"},
		{"negative jetstream limit", func(s *AccountSpec) {
			s.JetStream = &JetStreamSpec{JetStreamLimits: JetStreamLimits{Streams: Limit(-2)}}
		}, "jetstream.max_streams", "is -2"},
		{"jetstream without storage", func(s *AccountSpec) {
			s.JetStream = &JetStreamSpec{JetStreamLimits: JetStreamLimits{MemoryStorage: Limit(0), DiskStorage: Limit(0)}}
		}, "jetstream", "JetStream disabled"},
		{"tiered and untiered", func(s *AccountSpec) {
			s.JetStream = &JetStreamSpec{JetStreamLimits: JetStreamLimits{DiskStorage: Limit(1)}, Tiers: map[string]JetStreamLimits{"R1": {}}}
		}, "jetstream", "mutually exclusive"},
		{"unknown tier", func(s *AccountSpec) {
			s.JetStream = &JetStreamSpec{Tiers: map[string]JetStreamLimits{"R7": {}}}
		}, `jetstream.tiers["R7"]`, "R1, R2, R3, R4 or R5"},
		{"export kind", func(s *AccountSpec) { s.Exports = []ExportSpec{{Type: "queue", Subject: "a"}} }, "exports[0].type", `"queue" is not an export kind`},
		{"export subject with space", func(s *AccountSpec) { s.Exports = []ExportSpec{{Type: KindStream, Subject: "a b"}} }, "exports[0].subject", "whitespace"},
		{"export with > not last", func(s *AccountSpec) { s.Exports = []ExportSpec{{Type: KindStream, Subject: "a.>.b"}} }, "exports[0].subject", "'>' may only be the last token"},
		{"export with empty token", func(s *AccountSpec) { s.Exports = []ExportSpec{{Type: KindService, Subject: "a..b"}} }, "exports[0].subject", "empty token"},
		{"response type on stream", func(s *AccountSpec) {
			s.Exports = []ExportSpec{{Type: KindStream, Subject: "a", ResponseType: "Stream"}}
		}, "exports[0].response_type", "only services"},
		{"bad response type", func(s *AccountSpec) {
			s.Exports = []ExportSpec{{Type: KindService, Subject: "a", ResponseType: "Many"}}
		}, "exports[0].response_type", "Singleton, Stream, Chunked"},
		{"account token position", func(s *AccountSpec) {
			s.Exports = []ExportSpec{{Type: KindStream, Subject: "a.*.b", AccountTokenPosition: 3}}
		}, "exports[0].account_token_position", "does not point at a '*'"},
		{"wildcard export not allowed", func(s *AccountSpec) {
			s.Limits.WildcardExports = new(bool)
			s.Exports = []ExportSpec{{Type: KindStream, Subject: "a.>"}}
		}, "exports[0].subject", "allow_wildcard_exports is false"},
		{"overlapping exports", func(s *AccountSpec) {
			s.Exports = []ExportSpec{{Type: KindStream, Subject: "a.>"}, {Type: KindStream, Subject: "a.b"}}
		}, "", "already exports"},
		{"import from nowhere", func(s *AccountSpec) { s.Imports = []ImportSpec{{Type: KindStream, Subject: "a"}} }, "imports[0].account", "is empty"},
		{"import from itself", func(s *AccountSpec) {
			s.Imports = []ImportSpec{{Type: KindStream, Subject: "a", Account: account}}
		}, "imports[0].account", "this account itself"},
		{"import account is a user", func(s *AccountSpec) {
			s.Imports = []ImportSpec{{Type: KindStream, Subject: "a", Account: user}}
		}, "imports[0].account", "user public key"},
		{"bad local subject", func(s *AccountSpec) {
			s.Imports = []ImportSpec{{Type: KindStream, Subject: "a.>", Account: other, LocalSubject: "b"}}
		}, "imports[0].local_subject", "need to end or not end in >"},
		{"share on stream", func(s *AccountSpec) {
			s.Imports = []ImportSpec{{Type: KindStream, Subject: "a", Account: other, Share: true}}
		}, "imports[0].share", "service imports only"},
		{"garbage token", func(s *AccountSpec) {
			s.Imports = []ImportSpec{{Type: KindStream, Subject: "a", Account: other, Token: "not-a-jwt"}}
		}, "imports[0].token", "not a valid activation JWT"},
		{"signing key is a seed", func(s *AccountSpec) {
			_, seed, _ := NewKey(KindAccount)
			s.SigningKeys = []string{seed}
		}, "signing_keys[0]", "this is a seed"},
		{"signing key is the account", func(s *AccountSpec) { s.SigningKeys = []string{account} }, "signing_keys[0]", "own identity key"},
		{"signing key is a role", func(s *AccountSpec) {
			s.SigningKeys = []string{roleKey}
			s.Roles = []RoleSpec{{Name: "r", PublicKey: roleKey}}
		}, "signing_keys[0]", `key of role "r"`},
		{"default permissions with template", func(s *AccountSpec) {
			s.DefaultPermissions.PubAllow = []string{"a.{{tag(team)}}"}
		}, "default_permissions", "only role templates"},
		{"duplicate role", func(s *AccountSpec) {
			s.Roles = []RoleSpec{{Name: "r", PublicKey: roleKey}, {Name: "r", PublicKey: other}}
		}, "roles[1].name", "already defined at roles[0]"},
		{"bad role name", func(s *AccountSpec) { s.Roles = []RoleSpec{{Name: "a b", PublicKey: roleKey}} }, "roles[0].name", "is invalid"},
		{"bad role template", func(s *AccountSpec) {
			s.Roles = []RoleSpec{{Name: "r", PublicKey: roleKey, Permissions: Permissions{SubAllow: []string{"a.{{group()}}"}}}}
		}, "roles[0].permissions", `unknown template function "group"`},
		{"role limits", func(s *AccountSpec) {
			s.Roles = []RoleSpec{{Name: "r", PublicKey: roleKey, Limits: UserLimits{AllowedConnectionTypes: []string{"CARRIER_PIGEON"}}}}
		}, "roles[0]", "not a connection type"},
		{"role uses account key", func(s *AccountSpec) { s.Roles = []RoleSpec{{Name: "r", PublicKey: account}} }, "roles", "own identity key"},
		{"allowed accounts without users", func(s *AccountSpec) {
			s.Authorization = &ExternalAuth{AllowedAccounts: []string{other}}
		}, "authorization.allowed_accounts", "auth_users is empty"},
		{"any account with others", func(s *AccountSpec) {
			s.Authorization = &ExternalAuth{AuthUsers: []string{user}, AllowedAccounts: []string{"*", other}}
		}, "authorization.allowed_accounts", `"*" alone`},
		{"auth user is an account", func(s *AccountSpec) {
			s.Authorization = &ExternalAuth{AuthUsers: []string{other}}
		}, "authorization.auth_users", "account public key"},
		{"xkey is a user", func(s *AccountSpec) {
			s.Authorization = &ExternalAuth{AuthUsers: []string{user}, XKey: user}
		}, "authorization.xkey", "curve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tc.mutate(&s)
			err := s.Validate(ValidateOptions{AccountPublicKey: account, Now: now})
			if err == nil {
				t.Fatalf("no error, want %s: …%s…", tc.field, tc.want)
			}
			for _, fe := range FieldErrors(err) {
				if fe.Path.String() == tc.field && strings.Contains(fe.Err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("got %q, want an error on %q containing %q", err, tc.field, tc.want)
		})
	}
	if err := valid().Validate(ValidateOptions{AccountPublicKey: account, Now: now}); err != nil {
		t.Errorf("the minimal spec does not validate: %v", err)
	}
}

func TestSignAccount_jetStreamTiers(t *testing.T) {
	t.Parallel()
	op := testSigner(t, KindOperator, "")
	account := testPub(t, KindAccount)
	spec := AccountSpec{Name: "JS", JetStream: &JetStreamSpec{Tiers: map[string]JetStreamLimits{
		"R3": {DiskStorage: Limit(1 << 30), MemoryStorage: Limit(0), Streams: Limit(5), MaxAckPending: Limit(-1)},
		"R1": {},
	}}}
	token, err := SignAccount(spec, account, op)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	if (c.Limits.JetStreamLimits != jwt.JetStreamLimits{}) {
		t.Errorf("untiered limits set alongside tiers: %+v", c.Limits.JetStreamLimits)
	}
	r1, r3 := c.Limits.JetStreamTieredLimits["R1"], c.Limits.JetStreamTieredLimits["R3"]
	if !c.Limits.IsJSEnabled() || len(c.Limits.JetStreamTieredLimits) != 2 || !r1.IsUnlimited() ||
		r3.DiskStorage != 1<<30 || r3.MemoryStorage != 0 || r3.Streams != 5 || r3.MaxAckPending != 0 {
		t.Errorf("tiers = %s", mustJSON(t, c.Limits.JetStreamTieredLimits))
	}
	// Without a jetstream block the account has none.
	token, err = SignAccount(AccountSpec{Name: "NOJS"}, account, op)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := jwt.DecodeAccountClaims(token); c.Limits.IsJSEnabled() {
		t.Errorf("JetStream enabled without a jetstream block: %+v", c.Limits.JetStreamLimits)
	}
}

func TestSignAccount_signerKinds(t *testing.T) {
	t.Parallel()
	account := testPub(t, KindAccount)
	cases := []struct {
		name   string
		signer *Signer
		pub    string
		want   string
	}{
		{"account seed as operator signer", testSigner(t, KindAccount, ""), account, "signed by an operator key"},
		{"no signer", nil, account, "no operator signer"},
		{"user key as subject", testSigner(t, KindOperator, ""), testPub(t, KindUser), "account public key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := SignAccount(AccountSpec{Name: "A"}, tc.pub, tc.signer)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkSignAccount100Roles measures validating, building and signing an account JWT that
// carries 100 roles (scoped signing keys with templates), the worst case of a large tenant.
func BenchmarkSignAccount100Roles(b *testing.B) {
	op := testSigner(b, KindOperator, "")
	account := testPub(b, KindAccount)
	spec := AccountSpec{Name: "BIG", JetStream: &JetStreamSpec{}}
	for i := 0; i < 100; i++ {
		spec.Roles = append(spec.Roles, RoleSpec{
			Name:      fmt.Sprintf("role-%03d", i),
			PublicKey: testPub(b, KindAccount),
			Permissions: Permissions{
				PubAllow: []string{fmt.Sprintf("svc.%d.{{tag(team)}}.>", i)},
				SubAllow: []string{"_INBOX.>", fmt.Sprintf("events.%d.>", i)},
			},
			Limits: UserLimits{Payload: 1 << 20},
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := SignAccount(spec, account, op); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidateTier(t *testing.T) {
	for _, name := range []string{"R1", "R2", "R3", "R4", "R5"} {
		if err := ValidateTier(name); err != nil {
			t.Errorf("ValidateTier(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "R0", "R6", "R10", "r1", " R1", "R1 "} {
		if err := ValidateTier(name); err == nil || !strings.Contains(err.Error(), "R1, R2, R3, R4 or R5") {
			t.Errorf("ValidateTier(%q) = %v, want the list of tiers", name, err)
		}
	}
}

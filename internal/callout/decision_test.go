package callout

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

func TestDecisionChoosesMapping(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	writers := c.orders.mapping("orders-writers", "writer", 10, "writers")
	writers.Groups = append(writers.Groups, calloutconfig.Group{ID: "0f6c1c7e-group-id"})
	wsOnly := c.orders.mapping("web-readers", "reader", 20, "web")
	wsOnly.AllowedConnectionTypes = []string{"WEBSOCKET"}
	mappings := []calloutconfig.Mapping{
		c.orders.mapping("orders-readers", "reader", 0, "readers"),
		writers,
		c.billing.mapping("billing-readers", "reader", 10, "readers", "writers"),
		c.orders.mapping("b-tie", "reader", 5, "tie"),
		c.orders.mapping("a-tie", "reader", 5, "tie"),
		wsOnly,
	}

	tests := []struct {
		name        string
		groups      []string
		user        string
		clientType  string
		wantMapping string
		wantReason  Reason
	}{
		{name: "highest priority wins", groups: []string{"readers"}, wantMapping: "billing-readers"},
		{name: "user names the account", groups: []string{"readers"}, user: "ORDERS", wantMapping: "orders-readers"},
		{name: "account name is case-insensitive", groups: []string{"readers"}, user: "orders", wantMapping: "orders-readers"},
		{name: "account selector is trimmed", groups: []string{"readers"}, user: " orders ", wantMapping: "orders-readers"},
		{name: "group names are exact, including case", groups: []string{"Readers"}, wantReason: ReasonNoMapping},
		{name: "group names are not trimmed", groups: []string{" readers"}, wantReason: ReasonNoMapping},
		{name: "user gives the account key", groups: []string{"readers"}, user: c.orders.pub, wantMapping: "orders-readers"},
		{name: "equal priority: by mapping name", groups: []string{"writers"}, wantMapping: "billing-readers"},
		{name: "equal priority: order in the document does not matter", groups: []string{"tie"}, wantMapping: "a-tie"},
		{name: "group matched by id", groups: []string{"0f6c1c7e-group-id"}, wantMapping: "orders-writers"},
		{name: "requested account among several groups", groups: []string{"tie", "writers"}, user: "ORDERS", wantMapping: "orders-writers"},
		{name: "no mapped group", groups: []string{"marketing"}, wantReason: ReasonNoMapping},
		{name: "no groups at all", wantReason: ReasonNoMapping},
		{name: "unknown account", groups: []string{"readers"}, user: "MARKETING", wantReason: ReasonUnknownAccount},
		{name: "account not granted to these groups", groups: []string{"tie"}, user: "BILLING", wantReason: ReasonAccountNotMapped},
		{name: "connection type not allowed", groups: []string{"web"}, clientType: "nats", wantReason: ReasonConnectionType},
		{name: "connection type allowed", groups: []string{"web"}, clientType: "websocket", wantMapping: "web-readers"},
		{name: "a blocked type falls back to the next mapping", groups: []string{"web", "readers"}, wantMapping: "billing-readers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := c.engine(t, fakeVerifier{"tok-alice": identity("alice", tc.groups...)}, mappings...)
			data, hdr, _ := c.request(t, func(rc *jwt.AuthorizationRequestClaims) {
				if tc.user != "" {
					rc.ConnectOptions.Token, rc.ConnectOptions.Username, rc.ConnectOptions.Password = "", tc.user, "tok-alice"
				}
				if tc.clientType != "" {
					rc.ClientInformation.Type = tc.clientType
				}
			})
			reply, d := e.handle(context.Background(), data, hdr)
			resp := c.response(t, reply)
			if tc.wantReason != "" {
				if d.Allowed || d.Reason != tc.wantReason || resp.Jwt != "" {
					t.Fatalf("allowed=%v reason=%s, want refusal %s", d.Allowed, d.Reason, tc.wantReason)
				}
				return
			}
			if !d.Allowed || resp.Jwt == "" {
				t.Fatalf("refused (%s: %s), want mapping %s", d.Reason, d.Detail, tc.wantMapping)
			}
			if d.Mapping.name != tc.wantMapping {
				t.Fatalf("mapping %s, want %s", d.Mapping.name, tc.wantMapping)
			}
		})
	}
}

func TestDecisionUserJWT(t *testing.T) {
	t.Parallel()
	for _, xkey := range []bool{false, true} {
		t.Run(map[bool]string{false: "plaintext", true: "xkey"}[xkey], func(t *testing.T) {
			t.Parallel()
			c := newCoreEnv(t, xkey)
			m := c.orders.mapping("Orders Writers", "writer", 0, "writers")
			m.Tags = []string{"team:blue", "cost-center:42"}
			m.AllowedConnectionTypes = []string{"STANDARD"}
			id := identity("Alice@Example.COM", "writers")
			e := c.engine(t, fakeVerifier{"tok-alice": id}, m)
			data, hdr, upub := c.request(t, nil)
			reply, d := e.handle(context.Background(), data, hdr)
			resp := c.response(t, reply)
			if !d.Allowed || resp.Error != "" || resp.Subject != upub {
				t.Fatalf("allowed=%v reason=%s error=%q subject=%s", d.Allowed, d.Reason, resp.Error, resp.Subject)
			}
			uc, err := jwt.DecodeUserClaims(resp.Jwt)
			if err != nil {
				t.Fatal(err)
			}
			rolePub := c.roleKeys[c.orders.roles["writer"]]
			switch {
			case uc.Subject != upub:
				t.Errorf("user sub %s, want the request's user_nkey", uc.Subject)
			case uc.Issuer != rolePub:
				t.Errorf("user JWT signed by %s, want the role's scoped key %s", uc.Issuer, rolePub)
			case uc.IssuerAccount != c.orders.pub:
				t.Errorf("issuer_account %s, want ORDERS", uc.IssuerAccount)
			case uc.Name != "Alice Example":
				t.Errorf("name %q", uc.Name)
			case !uc.HasEmptyPermissions():
				// The server refuses users of a scoped key that carry any permission, limit
				// or connection type; it applies the role's template instead.
				t.Errorf("user JWT carries permissions or limits: %+v", uc.UserPermissionLimits)
			case !d.SessionCap.Equal(id.Expiry):
				t.Errorf("session cap %v, want the token's exp %v", d.SessionCap, id.Expiry)
			case uc.Expires != wantSpreadExpiry(id.Expiry, c.now, calloutconfig.DefaultExpirySpreadPercent, upub).Unix():
				t.Errorf("exp %d, want the token's exp %d spread by the default for %s", uc.Expires, id.Expiry.Unix(), upub)
			}
			want := []string{"ping-sub:_ifwgsy3fibcxqylnobwgklsdj5gq", "role:writer", "mapping:orders_writers", "team:blue", "cost-center:42"}
			for _, tag := range want {
				if !uc.Tags.Contains(tag) {
					t.Errorf("tags %v lack %q", uc.Tags, tag)
				}
			}
			scope := jwt.NewUserScope()
			scope.Key = rolePub
			if err := scope.ValidateScopedSigner(uc); err != nil {
				t.Errorf("the server would refuse this scoped user: %v", err)
			}
		})
	}
}

func TestDecisionSessionExpiry(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	tests := []struct {
		name       string
		maxSession time.Duration
		tokenExp   time.Time
		wantExp    time.Time
		wantReason Reason
	}{
		{name: "token expires first", maxSession: 8 * time.Hour, tokenExp: c.now.Add(20 * time.Minute), wantExp: c.now.Add(20 * time.Minute)},
		{name: "session ends first", maxSession: 5 * time.Minute, tokenExp: c.now.Add(time.Hour), wantExp: c.now.Add(5 * time.Minute)},
		{name: "token without exp is bounded by the session", maxSession: 5 * time.Minute, wantExp: c.now.Add(5 * time.Minute)},
		{name: "already over", maxSession: time.Hour, tokenExp: c.now.Add(-time.Second), wantReason: ReasonSessionEnded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := c.orders.mapping("m", "reader", 0, "g")
			m.MaxSession = calloutconfig.Duration(tc.maxSession)
			id := identity("alice", "g")
			id.Expiry = tc.tokenExp
			e := c.engine(t, fakeVerifier{"tok-alice": id}, m)
			data, hdr, upub := c.request(t, nil)
			reply, d := e.handle(context.Background(), data, hdr)
			resp := c.response(t, reply)
			if tc.wantReason != "" {
				if d.Allowed || d.Reason != tc.wantReason || resp.Jwt != "" {
					t.Fatalf("allowed=%v reason=%s", d.Allowed, d.Reason)
				}
				return
			}
			uc, err := jwt.DecodeUserClaims(resp.Jwt)
			if err != nil {
				t.Fatal(err)
			}
			// wantExp is the cap; the default spread then moves it earlier for this nkey.
			want := wantSpreadExpiry(tc.wantExp, c.now, calloutconfig.DefaultExpirySpreadPercent, upub)
			if !d.SessionCap.Equal(tc.wantExp) || uc.Expires != want.Unix() || !d.Expires.Equal(want) {
				t.Fatalf("exp %v (cap %v), want %v (cap %v)", time.Unix(uc.Expires, 0).UTC(), d.SessionCap, want, tc.wantExp)
			}
		})
	}
}

func TestDecisionTokenSources(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, true)
	tests := []struct {
		name string
		opts jwt.ConnectOptions
		want Reason
	}{
		{name: "auth_token", opts: jwt.ConnectOptions{Token: "tok-alice"}, want: ReasonOK},
		{name: "pass", opts: jwt.ConnectOptions{Username: "ORDERS", Password: "tok-alice"}, want: ReasonOK},
		{name: "auth_token wins over pass", opts: jwt.ConnectOptions{Token: "tok-alice", Password: "wrong"}, want: ReasonOK},
		// connect_opts.jwt carries the sentinel: a token there is never used.
		{name: "jwt field is not a token source", opts: jwt.ConnectOptions{JWT: "tok-alice"}, want: ReasonNoToken},
		{name: "nothing", want: ReasonNoToken},
		{name: "unknown token", opts: jwt.ConnectOptions{Token: "tok-mallory"}, want: Reason(oidc.ReasonSignature)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := c.engine(t, fakeVerifier{"tok-alice": identity("alice", "g")}, c.orders.mapping("m", "reader", 0, "g"))
			data, hdr, _ := c.request(t, func(rc *jwt.AuthorizationRequestClaims) { rc.ConnectOptions = tc.opts })
			reply, d := e.handle(context.Background(), data, hdr)
			resp := c.response(t, reply)
			if d.Reason != tc.want || d.Allowed != (tc.want == ReasonOK) {
				t.Fatalf("reason %s allowed=%v, want %s", d.Reason, d.Allowed, tc.want)
			}
			if !d.Allowed && resp.Error != refusalMessage {
				// Details go to the audit log only; the client learns nothing about why.
				t.Fatalf("refusal sent to the server: %q, want %q", resp.Error, refusalMessage)
			}
		})
	}
}

func TestDecisionRejectsBadRequests(t *testing.T) {
	t.Parallel()
	other := newCoreEnv(t, true)
	tests := []struct {
		name   string
		xkey   bool
		build  func(t *testing.T, c *coreEnv) ([]byte, string)
		reason Reason
	}{
		{name: "empty", build: func(*testing.T, *coreEnv) ([]byte, string) { return nil, "" }, reason: ReasonBadRequest},
		{name: "garbage", build: func(*testing.T, *coreEnv) ([]byte, string) { return []byte("eyJhello"), "" }, reason: ReasonBadRequest},
		{name: "wrong audience", build: mutated(func(rc *jwt.AuthorizationRequestClaims) { rc.Audience = "someone" }), reason: ReasonBadRequest},
		{name: "issuer is not the named server", build: mutated(func(rc *jwt.AuthorizationRequestClaims) { rc.Server.ID = other.serverPub }), reason: ReasonBadRequest},
		{name: "for another callout account", build: mutated(func(rc *jwt.AuthorizationRequestClaims) { rc.Subject = other.calloutPub }), reason: ReasonBadRequest},
		{name: "user_nkey not a user key", build: mutated(func(rc *jwt.AuthorizationRequestClaims) { rc.UserNkey = other.calloutPub }), reason: ReasonBadRequest},
		{name: "tampered signature", build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			data, hdr, _ := c.request(t, nil)
			data[len(data)-3] ^= 0x01
			return data, hdr
		}, reason: ReasonBadRequest},
		{name: "tampered claims", build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			data, hdr, _ := c.request(t, nil)
			other, _, _ := c.request(t, func(rc *jwt.AuthorizationRequestClaims) { rc.ConnectOptions.Token = "tok-other" })
			parts, otherParts := strings.Split(string(data), "."), strings.Split(string(other), ".")
			return []byte(parts[0] + "." + otherParts[1] + "." + parts[2]), hdr
		}, reason: ReasonBadRequest},
		{name: "plaintext with xkey configured", xkey: true, build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			plain := *c
			plain.xkeySeed = ""
			data, _, _ := plain.request(t, nil)
			return data, c.serverXPub
		}, reason: ReasonPlaintextRequest},
		{name: "sealed without xkey configured", build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			data, hdr, _ := other.request(t, nil)
			return data, hdr
		}, reason: ReasonSealedRequest},
		{name: "sealed, header missing", xkey: true, build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			data, _, _ := c.request(t, nil)
			return data, ""
		}, reason: ReasonUndecryptable},
		{name: "sealed to another xkey", xkey: true, build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			data, hdr, _ := other.request(t, nil)
			return data, hdr
		}, reason: ReasonUndecryptable},
		{name: "header differs from the signed server xkey", xkey: true, build: func(t *testing.T, c *coreEnv) ([]byte, string) {
			data, _, _ := c.request(t, func(rc *jwt.AuthorizationRequestClaims) { rc.Server.XKey = other.serverXPub })
			return data, c.serverXPub
		}, reason: ReasonBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCoreEnv(t, tc.xkey)
			e := c.engine(t, fakeVerifier{"tok-alice": identity("alice", "g"), "tok-other": identity("alice", "g")},
				c.orders.mapping("m", "reader", 0, "g"))
			data, hdr := tc.build(t, c)
			reply, d := e.handle(context.Background(), data, hdr)
			if d.Allowed || d.Reason != tc.reason || len(reply) != 0 {
				t.Fatalf("allowed=%v reason=%s (%s) reply=%d bytes, want an empty reply and %s", d.Allowed, d.Reason, d.Detail, len(reply), tc.reason)
			}
		})
	}
}

func mutated(fn func(*jwt.AuthorizationRequestClaims)) func(*testing.T, *coreEnv) ([]byte, string) {
	return func(t *testing.T, c *coreEnv) ([]byte, string) {
		data, hdr, _ := c.request(t, fn)
		return data, hdr
	}
}

func TestXKeyBoxInteroperatesWithNkeys(t *testing.T) {
	t.Parallel()
	peer, peerPub, _ := newKP(t, nkeys.CreateCurveKeys)
	_, pub, seed := newKP(t, nkeys.CreateCurveKeys)
	b, err := newXKeyBox(seed)
	if err != nil {
		t.Fatal(err)
	}
	if b.pub != pub {
		t.Fatalf("box public key %s, want %s", b.pub, pub)
	}
	for _, msg := range [][]byte{[]byte("x"), []byte(strings.Repeat("eyJ payload ", 500))} {
		sealed, err := b.seal(msg, peerPub)
		if err != nil {
			t.Fatal(err)
		}
		if opened, err := peer.Open(sealed, pub); err != nil || string(opened) != string(msg) {
			t.Fatalf("nkeys cannot open what the box sealed: %v", err)
		}
		fromPeer, err := peer.Seal(msg, pub)
		if err != nil {
			t.Fatal(err)
		}
		if opened, err := b.open(fromPeer, peerPub); err != nil || string(opened) != string(msg) {
			t.Fatalf("the box cannot open what nkeys sealed: %v", err)
		}
		fromPeer[len(fromPeer)-1] ^= 1
		if _, err := b.open(fromPeer, peerPub); err == nil {
			t.Fatal("a modified box was opened")
		}
	}
	if _, err := b.open([]byte("xkv1short"), peerPub); err == nil {
		t.Fatal("a truncated box was opened")
	}
	if _, err := b.seal([]byte("x"), "not-a-key"); err == nil {
		t.Fatal("sealed to an invalid recipient")
	}
}

func TestSigningKeyMatchesNkeys(t *testing.T) {
	t.Parallel()
	kp, pub, seed := newKP(t, nkeys.CreateAccount)
	sk, err := newSigningKey(seed, natsjwt.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := sk.PublicKey()
	if got != pub {
		t.Fatalf("public key %s, want %s", got, pub)
	}
	msg := []byte("header.payload")
	a, _ := sk.Sign(msg)
	b, _ := kp.Sign(msg)
	if !slices.Equal(a, b) {
		t.Fatal("signature differs from nkeys'")
	}
	if err := kp.Verify(msg, a); err != nil {
		t.Fatal(err)
	}
	if _, err := newSigningKey(seed[:len(seed)-2], natsjwt.KindAccount); err == nil {
		t.Fatal("a truncated seed was accepted")
	}
}

func TestNewEngineRejectsMismatchedKeys(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	other := newCoreEnv(t, false)
	doc := c.doc(c.orders.mapping("m", "reader", 0, "g"))
	doc.NATS.CalloutAccount = other.calloutPub
	if _, err := newEngine(doc, fakeVerifier{}, nil); err == nil || !strings.Contains(err.Error(), "callout_account") {
		t.Fatalf("got %v, want an error naming callout_account", err)
	}
	if _, err := newEngine(c.doc(), nil, nil); err == nil {
		t.Fatal("an engine without a verifier was built")
	}
}

// slowVerifier blocks until the decision's deadline, like a JWKS endpoint that hangs.
type slowVerifier struct{}

func (slowVerifier) Verify(ctx context.Context, _ string) (*oidc.Identity, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestDecisionVerifierTimeout(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	e := c.engine(t, slowVerifier{}, c.orders.mapping("m", "reader", 0, "g"))
	e.limit = 10 * time.Millisecond
	data, hdr, _ := c.request(t, nil)
	reply, d := e.handle(context.Background(), data, hdr)
	if resp := c.response(t, reply); d.Allowed || d.Reason != ReasonVerifyTimeout || resp.Error != refusalMessage {
		t.Fatalf("allowed=%v reason=%s error=%q", d.Allowed, d.Reason, resp.Error)
	}
}

// TestDecisionUserNameIsOneSubjectToken guards role templates that use {{name()}}: the
// server pastes the user JWT's name into the subject verbatim, and preferred_username may be
// any string (OIDC Core §5.1), so a name such as ">" or "bob.>" must not become a wildcard
// or extra subject tokens, and two different names must never give the same subject.
func TestDecisionUserNameIsOneSubjectToken(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	names := []string{">", "*", "bob.>", "a.b", "a%2Eb", "a_b", "alice@example.com", "Alice Example", "x>y", "100%"}
	got := map[string]string{}
	for _, name := range names {
		id := identity("alice", "g")
		id.Name = name
		e := c.engine(t, fakeVerifier{"tok-alice": id}, c.orders.mapping("m", "reader", 0, "g"))
		data, hdr, _ := c.request(t, nil)
		reply, d := e.handle(context.Background(), data, hdr)
		resp := c.response(t, reply)
		if !d.Allowed {
			t.Fatalf("name %q: refused (%s)", name, d.Reason)
		}
		uc, err := jwt.DecodeUserClaims(resp.Jwt)
		if err != nil {
			t.Fatal(err)
		}
		// What the server makes of the template "users.{{name()}}.inbox".
		tokens := strings.Split("users."+uc.Name+".inbox", ".")
		if len(tokens) != 3 || tokens[1] == "*" || tokens[1] == ">" {
			t.Errorf("name %q became %q, which a {{name()}} template expands into tokens %q", name, uc.Name, tokens)
		}
		if prev, dup := got[uc.Name]; dup {
			t.Errorf("names %q and %q both became %q", prev, name, uc.Name)
		}
		got[uc.Name] = name
		if d.Identity.Name != name {
			t.Errorf("the audit identity name is %q, want the token's %q", d.Identity.Name, name)
		}
	}
	if got["Alice Example"] != "Alice Example" || got["a_b"] != "a_b" {
		t.Errorf("names without separators or wildcards must stay as they are: %v", got)
	}
}

// TestDecisionRefusesTokensWithoutHolder pins the token identity rule: a token must say who
// holds it. One without sub and client_id names nobody; one without sub is a client-credentials
// (service) token, which group mappings cannot admit. A shared ping-sub placeholder for such
// tokens would have given every service the same {{tag(ping-sub)}} subjects. The audit line
// still names what the token did carry.
func TestDecisionRefusesTokensWithoutHolder(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	service := identity("", "g")
	service.ClientID = "svc-orders"
	nobody := identity("", "g")
	nobody.ClientID = ""
	for _, tc := range []struct {
		name string
		id   *oidc.Identity
		want Reason
	}{
		{"service token", service, ReasonServiceToken},
		{"no sub, no client_id", nobody, ReasonNoIdentity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := c.engine(t, fakeVerifier{"tok-alice": tc.id}, c.orders.mapping("m", "reader", 0, "g"))
			data, hdr, _ := c.request(t, nil)
			reply, d := e.handle(context.Background(), data, hdr)
			resp := c.response(t, reply)
			if d.Allowed || resp.Jwt != "" || d.Reason != tc.want {
				t.Fatalf("allowed=%v reason=%s, want a refusal with %s", d.Allowed, d.Reason, tc.want)
			}
			rec := d.record()
			if rec.OAuthClientID != tc.id.ClientID || rec.Mapping != "" || rec.TokenSHA256 == "" {
				t.Fatalf("audit line %+v does not name the holder as the token did", rec)
			}
		})
	}
}

// TestDecisionAuditNamesAdmittedIdentity: every allow line carries the Ping subject, the
// client id and the mapping that admitted them.
func TestDecisionAuditNamesAdmittedIdentity(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	e := c.engine(t, fakeVerifier{"tok-alice": identity("sub-alice", "g")}, c.orders.mapping("m", "reader", 0, "g"))
	data, hdr, _ := c.request(t, nil)
	_, d := e.handle(context.Background(), data, hdr)
	rec := d.record()
	if !d.Allowed || rec.Subject != "sub-alice" || rec.OAuthClientID != "app-1" || rec.Mapping != "m" || rec.Role != "reader" {
		t.Fatalf("allow line %+v", rec)
	}
}

// TestMappingCompilerRefusesReservedTags: the compiler turns tags into users' tags, so it
// refuses a mapping that would give users a second ping-sub (or role, mapping) value even
// when a caller skipped document validation.
func TestMappingCompilerRefusesReservedTags(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	for _, key := range calloutconfig.ReservedTagKeys() {
		m := c.orders.mapping("m", "reader", 0, "g")
		m.Tags = []string{key + ":shared"}
		if _, err := compileMappings([]calloutconfig.Mapping{m}); err == nil || !strings.Contains(err.Error(), "uses the key \""+key+"\"") {
			t.Fatalf("tag %s:shared: %v", key, err)
		}
	}
}

// TestEngineRefusesForeignRoleSeed: a valid account seed that is not the role's scoped key
// yields users nats-server refuses, so the engine refuses to start instead of auditing allows.
func TestEngineRefusesForeignRoleSeed(t *testing.T) {
	t.Parallel()
	c := newCoreEnv(t, false)
	m := c.orders.mapping("m", "reader", 0, "g")
	other, _ := nkeys.CreateAccount()
	seed, _ := other.Seed()
	m.RoleSigningKeySeed = string(seed)
	doc := c.doc(m)
	if _, err := newEngine(doc, fakeVerifier{}, nil); err == nil || !strings.Contains(err.Error(), "not to role \"reader\"'s signing key") {
		t.Fatalf("engine with a foreign role seed: %v", err)
	}
	if _, err := New(doc, Options{NewVerifier: func(calloutconfig.Issuer) (Verifier, error) { return fakeVerifier{}, nil }}); err == nil {
		t.Fatal("service started with a foreign role seed")
	}
}

// {{tag(ping-sub)}} templates rely on one tag value per Ping subject: subjects that differ only
// in case or punctuation must stay apart, and PingOne's UUIDs stay readable.
func TestSubjectTagIsOneToOne(t *testing.T) {
	t.Parallel()
	subjects := []string{
		"5a8b1c3e-0000-4000-8000-000000000001", "john.smith", "john_smith", "John.Smith", "john smith",
		"john-smith", "_", "x", "X", "ü", "a.b", "a_b",
	}
	seen := map[string]string{}
	for _, s := range subjects {
		tag := calloutconfig.IdentityTagValue(s)
		if other, dup := seen[tag]; dup {
			t.Errorf("subjects %q and %q share the tag value %q", other, s, tag)
		}
		seen[tag] = s
		if i := strings.IndexFunc(tag, func(r rune) bool {
			return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789-_", r)
		}); i >= 0 {
			t.Errorf("tag value %q of %q has %q, which is not tag- and subject-safe", tag, s, tag[i])
		}
	}
	if got := calloutconfig.IdentityTagValue("5a8b1c3e-0000-4000-8000-000000000001"); got != "5a8b1c3e-0000-4000-8000-000000000001" {
		t.Errorf("a PingOne UUID subject became %q; it should stay as it is", got)
	}
}

package callout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// fakeVerifier answers from a table: token -> identity, or a refusal for anything else.
type fakeVerifier map[string]*oidc.Identity

func (f fakeVerifier) Verify(_ context.Context, raw string) (*oidc.Identity, error) {
	if id, ok := f[raw]; ok {
		c := *id
		c.TokenHash = oidc.TokenHash(raw)
		return &c, nil
	}
	return nil, &oidc.VerifyError{Reason: oidc.ReasonSignature, Detail: "not a token this fake knows"}
}

// coreEnv holds the keys a decision involves, without any server: a server key that signs
// requests (and its xkey), the callout account, and target accounts with role keys.
type coreEnv struct {
	now                     time.Time
	serverKP                nkeys.KeyPair
	serverPub               string
	serverXKP               nkeys.KeyPair
	serverXPub              string
	calloutKP               nkeys.KeyPair
	calloutPub, calloutSeed string
	xkeyPub, xkeySeed       string // the service's xkey; empty when not sealed
	orders, billing         *testAccount
	roleKeys                map[string]string // role seed -> role public key
}

func newCoreEnv(t testing.TB, xkey bool) *coreEnv {
	t.Helper()
	c := &coreEnv{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), roleKeys: map[string]string{}}
	c.serverKP, c.serverPub, _ = newKP(t, nkeys.CreateServer)
	c.serverXKP, c.serverXPub, _ = newKP(t, nkeys.CreateCurveKeys)
	c.calloutKP, c.calloutPub, c.calloutSeed = newKP(t, nkeys.CreateAccount)
	if xkey {
		_, c.xkeyPub, c.xkeySeed = newKP(t, nkeys.CreateCurveKeys)
	}
	account := func(name string, roles ...string) *testAccount {
		kp, pub, _ := newKP(t, nkeys.CreateAccount)
		a := &testAccount{name: name, pub: pub, kp: kp, roles: map[string]string{}}
		for _, r := range roles {
			_, rpub, rseed := newKP(t, nkeys.CreateAccount)
			a.roles[r] = rseed
			c.roleKeys[rseed] = rpub
		}
		return a
	}
	c.orders = account("ORDERS", "reader", "writer")
	c.billing = account("BILLING", "reader")
	return c
}

func (c *coreEnv) doc(mappings ...calloutconfig.Mapping) *calloutconfig.Document {
	return &calloutconfig.Document{
		Version: calloutconfig.Version,
		NATS: calloutconfig.NATS{
			CalloutAccount: c.calloutPub, CalloutAccountSeed: c.calloutSeed, XKeySeed: c.xkeySeed,
			QueueGroup: "q", Creds: "unused by the engine",
		},
		Mappings: mappings,
	}
}

func (c *coreEnv) engine(t testing.TB, v Verifier, mappings ...calloutconfig.Mapping) *engine {
	t.Helper()
	e, err := newEngine(c.doc(mappings...), v, func() time.Time { return c.now })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// request builds the request a server would send: signed by the server key, sealed to the
// service's xkey when one is configured. It returns the payload, the xkey header and the
// user nkey the server expects in the reply.
func (c *coreEnv) request(t testing.TB, mutate func(*jwt.AuthorizationRequestClaims)) ([]byte, string, string) {
	t.Helper()
	_, upub, _ := newKP(t, nkeys.CreateUser)
	rc := jwt.NewAuthorizationRequestClaims(c.calloutPub)
	rc.Audience = AuthRequestAudience
	rc.UserNkey = upub
	rc.Server = jwt.ServerID{Name: "n1", Host: "127.0.0.1", ID: c.serverPub, Version: "2.15.3"}
	rc.ClientInformation = jwt.ClientInformation{Host: "10.1.2.3", ID: 7, Kind: "Client", Type: "nats", Name: "cli"}
	rc.ConnectOptions = jwt.ConnectOptions{Token: "tok-alice", Lang: "go", Version: "1.55.0"}
	hdr := ""
	if c.xkeySeed != "" {
		rc.Server.XKey, hdr = c.serverXPub, c.serverXPub
	}
	if mutate != nil {
		mutate(rc)
	}
	signed, err := rc.Encode(c.serverKP)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(signed)
	if c.xkeySeed != "" {
		if data, err = c.serverXKP.Seal(data, c.xkeyPub); err != nil {
			t.Fatal(err)
		}
	}
	return data, hdr, upub
}

// response opens and decodes a reply the way nats-server does.
func (c *coreEnv) response(t testing.TB, reply []byte) *jwt.AuthorizationResponseClaims {
	t.Helper()
	if len(reply) == 0 {
		t.Fatal("empty reply")
	}
	if c.xkeySeed != "" {
		if strings.HasPrefix(string(reply), "eyJ") {
			t.Fatal("reply is not sealed although requests are")
		}
		opened, err := c.serverXKP.Open(reply, c.xkeyPub)
		if err != nil {
			t.Fatalf("the server could not open the reply: %v", err)
		}
		reply = opened
	}
	rc, err := jwt.DecodeAuthorizationResponseClaims(string(reply))
	if err != nil {
		t.Fatalf("reply is not a signed authorization response: %v", err)
	}
	vr := jwt.CreateValidationResults()
	rc.Validate(vr)
	if len(vr.Issues) > 0 {
		t.Fatalf("reply fails the server's validation: %v", vr.Issues[0])
	}
	if rc.Issuer != c.calloutPub {
		t.Fatalf("reply signed by %s, want the callout account %s", rc.Issuer, c.calloutPub)
	}
	if rc.Audience != c.serverPub {
		t.Fatalf("reply audience %q, want the server id", rc.Audience)
	}
	return rc
}

func identity(sub string, groups ...string) *oidc.Identity {
	return &oidc.Identity{
		Subject: sub, Name: "Alice Example", Groups: groups, Scopes: []string{"openid"},
		ClientID: "app-1", KeyID: "kid-1",
		IssuedAt: time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC), Expiry: time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC),
	}
}

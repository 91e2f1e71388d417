package calloutconfig

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

func newKey(t *testing.T, create func() (nkeys.KeyPair, error)) (pub, seed string) {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := kp.PublicKey()
	s, _ := kp.Seed()
	return p, string(s)
}

// validDocument is a document the provider would render: every test below breaks one rule.
func validDocument(t *testing.T) *Document {
	t.Helper()
	cpub, cseed := newKey(t, nkeys.CreateAccount)
	apub, _ := newKey(t, nkeys.CreateAccount)
	rpub, rseed := newKey(t, nkeys.CreateAccount)
	_, xseed := newKey(t, nkeys.CreateCurveKeys)
	return &Document{
		Version: Version,
		Issuer: Issuer{
			URL:                    "https://auth.pingone.eu/11111111-2222-3333-4444-555555555555/as",
			Audiences:              []string{"https://nats.example.com"},
			Algorithms:             []string{"RS256"},
			MaxTokenLifetime:       Duration(time.Hour),
			ClockSkew:              Duration(30 * time.Second),
			RequiredScopes:         []string{"nats:connect"},
			ForbiddenScopes:        []string{"p1:admin"},
			GroupsClaim:            "groups",
			NameClaims:             []string{"preferred_username", "sub"},
			JWKSURL:                "https://auth.pingone.eu/11111111-2222-3333-4444-555555555555/as/jwks",
			JWKSMinRefreshInterval: Duration(30 * time.Second),
		},
		NATS: NATS{
			URLs:               []string{"nats://127.0.0.1:4222"},
			CalloutAccount:     cpub,
			CalloutAccountSeed: cseed,
			Creds:              "-----BEGIN NATS USER JWT-----\n...",
			XKeySeed:           xseed,
			QueueGroup:         "natsping-callout",
		},
		Mappings: []Mapping{{
			Name: "orders-readers", Groups: []Group{{Name: "Readers"}, {ID: "0a1b2c3d-0000-4000-8000-000000000001"}},
			Account: apub, AccountName: "ORDERS", Role: "reader", RoleSigningKey: rpub, RoleSigningKeySeed: rseed,
			MaxSession: Duration(time.Hour), AllowedConnectionTypes: []string{"STANDARD"}, Tags: []string{"team:blue"},
		}},
	}
}

func TestValidDocumentPasses(t *testing.T) {
	if err := validDocument(t).Validate(); err != nil {
		t.Fatal(err)
	}
	// A service mapping needs no groups, and an issuer may introspect opaque tokens.
	d := validDocument(t)
	d.Mappings[0].Groups = nil
	d.Mappings[0].ClientIDs = []string{"orders-service"}
	d.Mappings[0].Scopes = []string{"nats:publish"}
	d.Mappings[0].Claims = []ClaimCondition{{Path: "acr", Values: []string{"urn:mfa"}}}
	d.Issuer.Introspection = &Introspection{Endpoint: "https://pf.example.com/as/introspect.oauth2",
		ClientID: "callout", ClientSecret: "s3cret", AuthMethod: "client_secret_post"}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestValidateRefusesWhatTheProviderRefuses holds one case per rule. Each case breaks a rule
// the provider enforces at plan time, so a hand-edited callout.json cannot get it past the
// service either.
func TestValidateRefusesWhatTheProviderRefuses(t *testing.T) {
	otherPub, otherSeed := newKey(t, nkeys.CreateAccount)
	_, userSeed := newKey(t, nkeys.CreateUser)
	tests := []struct {
		name   string
		breaks func(d *Document)
		want   string
	}{
		{"other version", func(d *Document) { d.Version = 2 }, "version 2 is not supported"},
		{"plain http issuer", func(d *Document) { d.Issuer.URL = "http://auth.example.com/as" }, "uses plain http"},
		{"http issuer off loopback even when allowed", func(d *Document) {
			d.Issuer.URL, d.Issuer.AllowInsecureHTTP = "http://10.0.0.1/as", true
		}, "non-loopback host"},
		{"relative issuer", func(d *Document) { d.Issuer.URL = "/as" }, "not an absolute URL"},
		{"no audience", func(d *Document) { d.Issuer.Audiences = nil }, "at least one audience"},
		{"empty audience", func(d *Document) { d.Issuer.Audiences = []string{""} }, "an audience is empty"},
		{"no algorithm", func(d *Document) { d.Issuer.Algorithms = nil }, "at least one algorithm"},
		{"none", func(d *Document) { d.Issuer.Algorithms = []string{"none"} }, "unsigned"},
		{"HS256", func(d *Document) { d.Issuer.Algorithms = []string{"HS256"} }, "shared secret"},
		{"unsupported algorithm", func(d *Document) { d.Issuer.Algorithms = []string{"RS1"} }, "not a supported JWS algorithm"},
		{"token lifetime over the ceiling", func(d *Document) { d.Issuer.MaxTokenLifetime = Duration(25 * time.Hour) }, "max_token_lifetime 25h is longer than the maximum of 24h"},
		{"token lifetime under the floor", func(d *Document) { d.Issuer.MaxTokenLifetime = Duration(time.Second) }, "shorter than the minimum of 1m"},
		{"clock skew over the ceiling", func(d *Document) { d.Issuer.ClockSkew = Duration(6 * time.Minute) }, "clock_skew 6m is longer than the maximum of 5m"},
		{"negative clock skew", func(d *Document) { d.Issuer.ClockSkew = Duration(-time.Second) }, "clock_skew -1s is shorter"},
		{"refresh interval under the floor", func(d *Document) { d.Issuer.JWKSMinRefreshInterval = Duration(10 * time.Millisecond) }, "jwks_min_refresh_interval 10ms is shorter than the minimum of 1s"},
		{"refresh interval over the ceiling", func(d *Document) { d.Issuer.JWKSMinRefreshInterval = Duration(48 * time.Hour) }, "longer than the maximum of 24h"},
		{"scope with a space", func(d *Document) { d.Issuer.RequiredScopes = []string{"a b"} }, "not a scope token"},
		{"forbidden scope with a quote", func(d *Document) { d.Issuer.ForbiddenScopes = []string{`a"`} }, "not a scope token"},
		{"scope required and forbidden", func(d *Document) { d.Issuer.ForbiddenScopes = []string{"nats:connect"} }, "both required and forbidden"},
		{"no groups claim", func(d *Document) { d.Issuer.GroupsClaim = "" }, "groups_claim is required"},
		{"groups claim with an empty segment", func(d *Document) { d.Issuer.GroupsClaim = "realm..groups" }, "not a claim name or dot path"},
		{"no name claim", func(d *Document) { d.Issuer.NameClaims = nil }, "at least one claim"},
		{"name claim twice", func(d *Document) { d.Issuer.NameClaims = []string{"sub", "sub"} }, `"sub" is listed twice`},
		{"name claim with a space", func(d *Document) { d.Issuer.NameClaims = []string{"given name"} }, "not a claim name"},
		{"no key source", func(d *Document) { d.Issuer.JWKSURL = "" }, "either jwks_url or pinned_jwks"},
		{"plain http jwks", func(d *Document) { d.Issuer.JWKSURL = "http://auth.example.com/jwks" }, "jwks_url"},
		{"pinned private key", func(d *Document) {
			d.Issuer.PinnedJWKS = json.RawMessage(`{"keys":[{"kty":"RSA","n":"x","e":"AQAB","d":"secret"}]}`)
		}, "private or symmetric key material"},
		{"pinned symmetric key", func(d *Document) { d.Issuer.PinnedJWKS = json.RawMessage(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) }, `("k")`},
		{"pinned empty set", func(d *Document) { d.Issuer.PinnedJWKS = json.RawMessage(`{"keys":[]}`) }, "holds no keys"},
		{"ca bundle without certificates", func(d *Document) { d.Issuer.CABundlePEM = "not a pem" }, "ca_bundle_pem"},
		{"ca bundle with a private key", func(d *Document) {
			d.Issuer.CABundlePEM = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}, `"PRIVATE KEY", not a CERTIFICATE`},

		{"url with credentials", func(d *Document) { d.NATS.URLs = []string{"nats://svc:pw@127.0.0.1:4222"} }, "nats.urls[0] carries credentials"},
		{"url with another scheme", func(d *Document) { d.NATS.URLs = []string{"http://127.0.0.1:4222"} }, "nats.urls[0]"},
		{"callout account not a key", func(d *Document) { d.NATS.CalloutAccount = "ACCOUNT" }, "callout_account must be an account public key"},
		{"callout seed of a user", func(d *Document) { d.NATS.CalloutAccountSeed = userSeed }, "not an account seed"},
		{"no creds", func(d *Document) { d.NATS.Creds = " " }, "nats.creds is required"},
		{"broken xkey", func(d *Document) { d.NATS.XKeySeed = "SXnope" }, "xkey_seed"},
		{"no queue group", func(d *Document) { d.NATS.QueueGroup = "" }, "queue_group is required"},
		{"queue group with a wildcard", func(d *Document) { d.NATS.QueueGroup = "callout.*" }, "nats.queue_group"},
		{"audit subject with a space", func(d *Document) { d.NATS.AuditSubject = "audit log" }, "nats.audit_subject"},

		{"negative expiry spread", func(d *Document) { d.ExpirySpreadPercent = new(-1.0) }, "expiry_spread_percent -1 is outside 0 to 50"},
		{"expiry spread over the ceiling", func(d *Document) { d.ExpirySpreadPercent = new(50.5) }, "would cut more than half of every session"},

		{"no mappings", func(d *Document) { d.Mappings = nil }, "at least one mapping"},
		{"duplicate mapping", func(d *Document) { d.Mappings = append(d.Mappings, d.Mappings[0]) }, "duplicate mapping name"},
		{"mapping without name", func(d *Document) { d.Mappings[0].Name = "" }, "name is required"},
		{"mapping without conditions", func(d *Document) { d.Mappings[0].Groups = nil }, "at least one condition is required"},
		{"empty client id", func(d *Document) { d.Mappings[0].ClientIDs = []string{""} }, "a client id is empty"},
		{"client id with a space", func(d *Document) { d.Mappings[0].ClientIDs = []string{"svc a"} }, "contains a space"},
		{"client id twice", func(d *Document) { d.Mappings[0].ClientIDs = []string{"svc", "svc"} }, `"svc" is listed twice`},
		{"mapping scope with a space", func(d *Document) { d.Mappings[0].Scopes = []string{"a b"} }, "scopes:"},
		{"claim without values", func(d *Document) { d.Mappings[0].Claims = []ClaimCondition{{Path: "acr"}} }, "at least one value"},
		{"claim owned by the policy", func(d *Document) { d.Mappings[0].Claims = []ClaimCondition{{Path: "exp", Values: []string{"1"}}} }, "token policy"},
		{"claim is the groups claim", func(d *Document) { d.Mappings[0].Claims = []ClaimCondition{{Path: "groups", Values: []string{"x"}}} }, "the trust's groups claim"},
		{"claim twice", func(d *Document) {
			d.Mappings[0].Claims = []ClaimCondition{{Path: "acr", Values: []string{"a"}}, {Path: "acr", Values: []string{"b"}}}
		}, `"acr" has two conditions`},
		{"introspection over http", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "http://pf.example.com/as/introspect.oauth2", ClientID: "c", ClientSecret: "s"}
		}, "issuer.introspection.endpoint"},
		{"introspection endpoint with credentials", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "https://callout:pw@pf.example.com/as/introspect.oauth2", ClientID: "c", ClientSecret: "s"}
		}, "issuer.introspection.endpoint: the URL carries credentials in its user part"},
		{"introspection endpoint with a fragment", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "https://pf.example.com/as/introspect.oauth2#x", ClientID: "c", ClientSecret: "s"}
		}, "has a fragment"},
		{"introspection client id with a space", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "https://pf.example.com/as/introspect.oauth2", ClientID: "nats callout", ClientSecret: "s"}
		}, "issuer.introspection.client_id"},
		{"introspection without secret", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "https://pf.example.com/as/introspect.oauth2", ClientID: "c"}
		}, "client_id and client_secret are required"},
		{"introspection reuse too long", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "https://pf.example.com/as/introspect.oauth2", ClientID: "c", ClientSecret: "s", ReuseFor: Duration(10 * time.Minute)}
		}, "issuer.introspection.reuse_for 10m is longer than the maximum of 5m"},
		{"introspection auth method", func(d *Document) {
			d.Issuer.Introspection = &Introspection{Endpoint: "https://pf.example.com/as/introspect.oauth2", ClientID: "c", ClientSecret: "s", AuthMethod: "private_key_jwt"}
		}, "not a supported client authentication"},
		{"empty group", func(d *Document) { d.Mappings[0].Groups = []Group{{}} }, "a group needs a name or an id"},
		{"group with spaces", func(d *Document) { d.Mappings[0].Groups = []Group{{Name: " Readers"}} }, "starts or ends with spaces"},
		{"account not a key", func(d *Document) { d.Mappings[0].Account = "ORDERS" }, "account must be an account public key"},
		{"bad role name", func(d *Document) { d.Mappings[0].Role = "read ers" }, "role name"},
		{"session over the ceiling", func(d *Document) { d.Mappings[0].MaxSession = Duration(48 * time.Hour) }, "max_session 48h is longer than the maximum of 24h"},
		{"session under the floor", func(d *Document) { d.Mappings[0].MaxSession = Duration(time.Second) }, "max_session 1s is shorter"},
		{"unknown connection type", func(d *Document) { d.Mappings[0].AllowedConnectionTypes = []string{"PIGEON"} }, `"PIGEON" is not a connection type`},
		{"tag with a dot", func(d *Document) { d.Mappings[0].Tags = []string{"team:a.b"} }, "widen what the role grants"},
		{"upper-case tag", func(d *Document) { d.Mappings[0].Tags = []string{"Team:blue"} }, "lower-case key:value"},
		{"reserved ping-sub tag", func(d *Document) { d.Mappings[0].Tags = []string{"ping-sub:shared"} }, `uses the key "ping-sub"`},
		{"reserved role tag", func(d *Document) { d.Mappings[0].Tags = []string{"role:admin"} }, `uses the key "role"`},
		{"reserved mapping tag", func(d *Document) { d.Mappings[0].Tags = []string{"mapping:other"} }, `uses the key "mapping"`},
		{"role seed of a user", func(d *Document) { d.Mappings[0].RoleSigningKeySeed = userSeed }, "not an account signing key seed"},
		{"role key missing", func(d *Document) { d.Mappings[0].RoleSigningKey = "" }, "role_signing_key must be the public key"},
		{"role seed of another key", func(d *Document) { d.Mappings[0].RoleSigningKeySeed = otherSeed }, "not to role \"reader\"'s signing key"},
		{"role key is the account identity", func(d *Document) {
			d.Mappings[0].Account, d.Mappings[0].RoleSigningKey, d.Mappings[0].RoleSigningKeySeed = otherPub, otherPub, otherSeed
		}, "identity key of account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := validDocument(t)
			tc.breaks(d)
			err := d.Validate()
			if err == nil {
				t.Fatalf("accepted; want an error mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if _, perr := Parse(mustMarshal(t, d)); perr == nil {
				t.Fatal("Parse accepted a document Validate refuses")
			}
		})
	}
}

func mustMarshal(t *testing.T, d *Document) []byte {
	t.Helper()
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestValidateNeverEchoesSecrets: messages about seeds and URLs must be safe to log.
func TestValidateNeverEchoesSecrets(t *testing.T) {
	_, userSeed := newKey(t, nkeys.CreateUser)
	d := validDocument(t)
	d.NATS.URLs = []string{"nats://t0ken-secret@127.0.0.1:4222"}
	d.Issuer.Introspection = &Introspection{Endpoint: "https://callout:pw-secret@pf.example.com/as/introspect.oauth2",
		ClientID: "callout", ClientSecret: "s3cret"}
	d.NATS.CalloutAccountSeed = userSeed
	d.Mappings[0].RoleSigningKeySeed = userSeed
	err := d.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, secret := range []string{"t0ken-secret", "pw-secret", "s3cret", userSeed} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error echoes a secret: %v", err)
		}
	}
}

func TestParseIsStrict(t *testing.T) {
	data := mustMarshal(t, validDocument(t))
	if _, err := Parse(data); err != nil {
		t.Fatal(err)
	}
	extra := strings.Replace(string(data), `"version": 1,`, `"version": 1, "extra": true,`, 1)
	if _, err := Parse([]byte(extra)); err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) {
		t.Fatalf("unknown field accepted or not named: %v", err)
	}
}

package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

type verifyCase struct {
	name    string
	policy  func(p *Policy)
	claims  func(c map[string]any)
	key     *testKey
	headers map[jose.HeaderKey]any
	token   func(t testing.TB, valid string, claims map[string]any) string
	want    Reason // empty: the token must be accepted
	check   func(t *testing.T, id *Identity, raw string)
}

func unsignedToken(header string, claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc(b) + "."
}

func verifyCases() []verifyCase {
	now := testEpoch
	rsa1 := rsaTestKey(0, "rsa1")
	other := rsaTestKey(1, "rsa1")
	ec := testKey{kid: "ec1", alg: jose.ES256, priv: ecKey()}
	ptr := func(k testKey) *testKey { return &k }

	return []verifyCase{
		{name: "PingOne access token", check: func(t *testing.T, id *Identity, raw string) {
			if id.Subject != "5a8b1c3e-0000-4000-8000-000000000001" || id.Name != "ada@example.com" ||
				id.ClientID != "cccccccc-2222-4222-8222-cccccccccccc" || id.KeyID != "rsa1" {
				t.Fatalf("identity = %+v", id)
			}
			if !slices.Equal(id.Groups, []string{"nats-readers", "nats-orders"}) ||
				!slices.Equal(id.Scopes, []string{"openid", "nats:connect"}) ||
				!slices.Equal(id.Audience, []string{"https://nats.example.com"}) {
				t.Fatalf("lists = %q %q %q", id.Groups, id.Scopes, id.Audience)
			}
			if !id.Expiry.Equal(now.Add(time.Hour)) || !id.IssuedAt.Equal(now) || !id.NotBefore.IsZero() {
				t.Fatalf("times = %s %s %s", id.IssuedAt, id.NotBefore, id.Expiry)
			}
			if id.TokenHash != TokenHash(raw) || len(id.TokenHash) != 64 {
				t.Fatalf("token hash = %q", id.TokenHash)
			}
		}},
		{name: "ES256 token with EC key", key: ptr(ec)},
		{name: "audience array with one trusted entry",
			claims: func(c map[string]any) { c["aud"] = []string{"someone-else", "nats-secondary"} }},
		{name: "audience as string", claims: func(c map[string]any) { c["aud"] = "nats-secondary" }},
		{name: "name falls back to sub", claims: func(c map[string]any) { delete(c, "preferred_username") },
			check: func(t *testing.T, id *Identity, _ string) {
				if id.Name != id.Subject {
					t.Fatalf("name = %q, want sub", id.Name)
				}
			}},
		{name: "client credentials token names the client",
			claims: func(c map[string]any) { delete(c, "preferred_username"); delete(c, "sub") },
			check: func(t *testing.T, id *Identity, _ string) {
				if id.Name != "cccccccc-2222-4222-8222-cccccccccccc" || id.Subject != "" {
					t.Fatalf("name = %q sub = %q", id.Name, id.Subject)
				}
			}},
		{name: "empty name claim is skipped", claims: func(c map[string]any) { c["preferred_username"] = ""; c["email"] = "e@x" },
			check: func(t *testing.T, id *Identity, _ string) {
				if id.Name != "e@x" {
					t.Fatalf("name = %q", id.Name)
				}
			}},
		{name: "scope as array", claims: func(c map[string]any) { c["scope"] = []string{"openid", "nats:connect"} }},
		{name: "scp instead of scope", claims: func(c map[string]any) { delete(c, "scope"); c["scp"] = "nats:connect" }},
		{name: "nested groups path",
			policy: func(p *Policy) { p.GroupsClaim = "realm_access.roles" },
			claims: func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"ops", "dev"}} },
			check: func(t *testing.T, id *Identity, _ string) {
				if !slices.Equal(id.Groups, []string{"ops", "dev"}) {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
		{name: "namespaced groups claim containing dots",
			policy: func(p *Policy) { p.GroupsClaim = "https://example.com/groups" },
			claims: func(c map[string]any) { c["https://example.com/groups"] = []string{"a"} },
			check: func(t *testing.T, id *Identity, _ string) {
				if !slices.Equal(id.Groups, []string{"a"}) {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
		{name: "groups as a single string", claims: func(c map[string]any) { c["groups"] = "solo" },
			check: func(t *testing.T, id *Identity, _ string) {
				if !slices.Equal(id.Groups, []string{"solo"}) {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
		{name: "absent groups claim means no groups", claims: func(c map[string]any) { delete(c, "groups") },
			check: func(t *testing.T, id *Identity, _ string) {
				if len(id.Groups) != 0 {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
		{name: "typ at+jwt accepted", headers: map[jose.HeaderKey]any{jose.HeaderType: "at+jwt"}},
		{name: "expired but within skew", claims: func(c map[string]any) {
			c["iat"] = now.Add(-time.Hour).Unix()
			c["exp"] = now.Add(-10 * time.Second).Unix()
		}},
		{name: "nbf within skew", claims: func(c map[string]any) { c["nbf"] = now.Add(29 * time.Second).Unix() }},

		{name: "alg none", want: ReasonAlgorithm, token: func(_ testing.TB, _ string, c map[string]any) string {
			return unsignedToken(`{"alg":"none","kid":"rsa1"}`, c)
		}},
		{name: "HS256 signed with the RSA public key", want: ReasonAlgorithm, token: func(t testing.TB, _ string, c map[string]any) string {
			der, err := x509.MarshalPKIXPublicKey(&rsaPool()[0].PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			return signClaims(t, testKey{kid: "rsa1", alg: jose.HS256, priv: secret}, c, nil)
		}},
		{name: "algorithm outside the allow-list", key: ptr(testKey{kid: "rsa1", alg: jose.RS384, priv: rsa1.priv}), want: ReasonAlgorithm},
		{name: "unknown kid", key: ptr(testKey{kid: "not-published", alg: jose.RS256, priv: rsa1.priv}), want: ReasonUnknownKey},
		{name: "no kid, exactly one published key fits the algorithm", key: ptr(testKey{alg: jose.RS256, priv: rsa1.priv})},
		{name: "no kid, signed by an unpublished key", key: ptr(testKey{alg: jose.RS256, priv: other.priv}), want: ReasonSignature},
		{name: "RS256 under the kid of an EC key", key: ptr(testKey{kid: "ec1", alg: jose.RS256, priv: rsa1.priv}), want: ReasonUnknownKey},
		{name: "signed by a different key under a known kid", key: &other, want: ReasonSignature},
		{name: "tampered payload", want: ReasonSignature, token: func(_ testing.TB, valid string, c map[string]any) string {
			c["groups"] = []string{"nats-admins"}
			b, _ := json.Marshal(c)
			parts := strings.Split(valid, ".")
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		}},
		{name: "JWE", want: ReasonMalformed, token: func(t testing.TB, _ string, c map[string]any) string {
			enc, err := jose.NewEncrypter(jose.A128GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &rsaPool()[0].PublicKey}, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(c)
			obj, err := enc.Encrypt(b)
			if err != nil {
				t.Fatal(err)
			}
			s, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{name: "JWS JSON serialization", want: ReasonMalformed, token: func(t testing.TB, _ string, c map[string]any) string {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaPool()[0]},
				(&jose.SignerOptions{}).WithHeader("kid", "rsa1"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(c)
			obj, err := signer.Sign(b)
			if err != nil {
				t.Fatal(err)
			}
			return obj.FullSerialize()
		}},
		{name: "not a token", want: ReasonMalformed, token: func(testing.TB, string, map[string]any) string { return "hello" }},
		{name: "empty token", want: ReasonMalformed, token: func(testing.TB, string, map[string]any) string { return "" }},
		{name: "oversized token", want: ReasonMalformed, token: func(testing.TB, string, map[string]any) string {
			return strings.Repeat("a", MaxTokenBytes+1)
		}},
		{name: "valid token with a trailing newline", want: ReasonMalformed, token: func(_ testing.TB, valid string, _ map[string]any) string {
			return valid + "\n"
		}},
		{name: "non-canonical base64 spelling of a valid signature", want: ReasonMalformed, token: func(_ testing.TB, valid string, _ map[string]any) string {
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			last := strings.IndexByte(alphabet, valid[len(valid)-1])
			return valid[:len(valid)-1] + string(alphabet[last|1])
		}},
		{name: "payload is not JSON", want: ReasonMalformed, token: func(t testing.TB, _ string, _ map[string]any) string {
			return signRaw(t, rsaTestKey(0, "rsa1"), []byte("not json"), nil)
		}},
		{name: "payload is a JSON array", want: ReasonMalformed, token: func(t testing.TB, _ string, _ map[string]any) string {
			return signRaw(t, rsaTestKey(0, "rsa1"), []byte(`["iss"]`), nil)
		}},
		{name: "wrong issuer", claims: func(c map[string]any) { c["iss"] = "https://auth.pingone.eu/other/as" }, want: ReasonIssuer},
		{name: "issuer with trailing slash", claims: func(c map[string]any) { c["iss"] = testIssuer + "/" }, want: ReasonIssuer},
		{name: "issuer missing", claims: func(c map[string]any) { delete(c, "iss") }, want: ReasonIssuer},
		{name: "issuer not a string", claims: func(c map[string]any) { c["iss"] = 7 }, want: ReasonIssuer},
		{name: "wrong audience", claims: func(c map[string]any) { c["aud"] = []string{"pingone-api"} }, want: ReasonAudience},
		{name: "audience missing", claims: func(c map[string]any) { delete(c, "aud") }, want: ReasonAudience},
		{name: "audience not a string", claims: func(c map[string]any) { c["aud"] = 1 }, want: ReasonAudience},
		{name: "expired", want: ReasonExpired, claims: func(c map[string]any) {
			c["iat"] = now.Add(-time.Hour).Unix()
			c["exp"] = now.Add(-31 * time.Second).Unix()
		}},
		{name: "not yet valid", claims: func(c map[string]any) { c["nbf"] = now.Add(31 * time.Second).Unix() }, want: ReasonNotYetValid},
		{name: "issued in the future", claims: func(c map[string]any) { c["iat"] = now.Add(31 * time.Second).Unix() }, want: ReasonIssuedInFuture},
		{name: "exp missing", claims: func(c map[string]any) { delete(c, "exp") }, want: ReasonMissingTimes},
		{name: "iat missing", claims: func(c map[string]any) { delete(c, "iat") }, want: ReasonMissingTimes},
		{name: "exp is a string", claims: func(c map[string]any) { c["exp"] = "tomorrow" }, want: ReasonMalformed},
		{name: "exp before iat", want: ReasonMalformed, claims: func(c map[string]any) {
			c["iat"] = now.Add(20 * time.Second).Unix()
			c["exp"] = now.Add(10 * time.Second).Unix()
		}},
		{name: "lifetime above policy", claims: func(c map[string]any) { c["exp"] = now.Add(2*time.Hour + time.Second).Unix() }, want: ReasonLifetimeTooLong},
		{name: "required scope missing", claims: func(c map[string]any) { c["scope"] = "openid profile" }, want: ReasonMissingScope},
		{name: "forbidden scope present in scp", claims: func(c map[string]any) { c["scp"] = []string{"nats:admin"} }, want: ReasonForbiddenScope},
		{name: "scope of the wrong type", claims: func(c map[string]any) { c["scope"] = map[string]any{"a": 1} }, want: ReasonMalformed},
		{name: "groups claim is a number", claims: func(c map[string]any) { c["groups"] = 42 }, want: ReasonBadGroupsClaim},
		{name: "groups array holds a number", claims: func(c map[string]any) { c["groups"] = []any{"ok", 1} }, want: ReasonBadGroupsClaim},
		{name: "groups claim is null", claims: func(c map[string]any) { c["groups"] = nil }, want: ReasonBadGroupsClaim},
		{name: "groups path runs through a string",
			policy: func(p *Policy) { p.GroupsClaim = "realm_access.roles" },
			claims: func(c map[string]any) { c["realm_access"] = "admin" }, want: ReasonBadGroupsClaim},
		{name: "typ of a logout token", headers: map[jose.HeaderKey]any{jose.HeaderType: "logout+jwt"}, want: ReasonTokenTypeRejected},
		{name: "sub is not a string", claims: func(c map[string]any) { c["sub"] = []string{"x"} }, want: ReasonMalformed},
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	jwks := jwksOf(t, rsaTestKey(0, "rsa1").public(),
		testKey{kid: "ec1", alg: jose.ES256, priv: ecKey()}.public())
	keys := mustStatic(t, jwks)
	for _, tc := range verifyCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			claims := pingClaims(testEpoch)
			if tc.claims != nil {
				tc.claims(claims)
			}
			key := rsaTestKey(0, "rsa1")
			if tc.key != nil {
				key = *tc.key
			}
			raw := signClaims(t, key, claims, tc.headers)
			if tc.token != nil {
				raw = tc.token(t, raw, claims)
			}
			// The same verdict must come from a fresh verifier and from one with a cache.
			for _, size := range []int{0, 16} {
				v := mustVerifier(t, p, keys, VerifierOptions{Now: func() time.Time { return testEpoch }, CacheSize: size})
				for range 2 {
					id, err := v.Verify(context.Background(), raw)
					if tc.want != "" {
						wantReason(t, err, tc.want)
						if id != nil {
							t.Fatal("refused token returned an identity")
						}
						continue
					}
					if err != nil {
						t.Fatalf("cache %d: unexpected refusal: %v", size, err)
					}
					if tc.check != nil {
						tc.check(t, id, raw)
					}
				}
			}
		})
	}
}

func TestNewVerifierRefusesUnsafePolicies(t *testing.T) {
	t.Parallel()
	keys := mustStatic(t, jwksOf(t, rsaTestKey(0, "rsa1").public()))
	cases := []struct {
		name    string
		mutate  func(p *Policy)
		keys    KeySet
		opts    VerifierOptions
		wantErr string
	}{
		{name: "alg none", mutate: func(p *Policy) { p.Algorithms = []string{"RS256", "none"} }, wantErr: `"none" can never be accepted`},
		{name: "HS256", mutate: func(p *Policy) { p.Algorithms = []string{"HS256"} }, wantErr: `"HS256" can never be accepted`},
		{name: "lower-case hs512", mutate: func(p *Policy) { p.Algorithms = []string{"hs512"} }, wantErr: `"hs512" can never be accepted`},
		{name: "unsupported algorithm", mutate: func(p *Policy) { p.Algorithms = []string{"RS257"} }, wantErr: "is not a supported JWS algorithm; use one of RS256"},
		{name: "no algorithms", mutate: func(p *Policy) { p.Algorithms = nil }, wantErr: "algorithms are empty"},
		{name: "no audiences", mutate: func(p *Policy) { p.Audiences = nil }, wantErr: "audiences are empty"},
		{name: "empty audience", mutate: func(p *Policy) { p.Audiences = []string{""} }, wantErr: "empty string"},
		{name: "zero lifetime", mutate: func(p *Policy) { p.MaxTokenLifetime = 0 }, wantErr: "max token lifetime must be positive"},
		{name: "negative lifetime", mutate: func(p *Policy) { p.MaxTokenLifetime = -time.Minute }, wantErr: "max token lifetime must be positive"},
		{name: "negative skew", mutate: func(p *Policy) { p.ClockSkew = -time.Second }, wantErr: "clock skew must not be negative"},
		{name: "no issuer", mutate: func(p *Policy) { p.Issuer = "" }, wantErr: "issuer is empty"},
		{name: "no key set", keys: nil, wantErr: "no key set"},
		{name: "negative cache", opts: VerifierOptions{CacheSize: -1}, wantErr: "cache size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testPolicy()
			if tc.mutate != nil {
				tc.mutate(&p)
			}
			var ks KeySet = keys
			if tc.name == "no key set" {
				ks = nil
			}
			v, err := NewVerifier(p, ks, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewVerifier error = %v, want it to mention %q", err, tc.wantErr)
			}
			if v != nil {
				t.Fatal("refused policy returned a verifier")
			}
		})
	}
}

// A token without kid may only be verified when the choice of key is unambiguous.
func TestVerifyWithoutKIDNeedsOneFittingKey(t *testing.T) {
	t.Parallel()
	rsa1, rsa2 := rsaTestKey(0, "rsa1"), rsaTestKey(1, "rsa2")
	v, err := NewVerifier(testPolicy(), mustStatic(t, jwksOf(t, rsa1.public(), rsa2.public())), VerifierOptions{Now: func() time.Time { return testEpoch }})
	if err != nil {
		t.Fatal(err)
	}
	token := signClaims(t, testKey{alg: jose.RS256, priv: rsa1.priv}, pingClaims(testEpoch), nil)
	_, err = v.Verify(context.Background(), token)
	if ReasonOf(err) != ReasonUnknownKey {
		t.Fatalf("Verify = %v, want %s: two RSA keys are published, so a kid-less token must be refused", err, ReasonUnknownKey)
	}
}

// TestEverySupportedAlgorithmIsVerifiable: calloutconfig owns the algorithm list the provider
// offers; every entry must be one this package can match a key to.
func TestEverySupportedAlgorithmIsVerifiable(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec := func(c elliptic.Curve) any {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	keys := []any{&rsaKey.PublicKey, ec(elliptic.P256()), ec(elliptic.P384()), ec(elliptic.P521()), edPub}
	for _, alg := range calloutconfig.SupportedAlgorithms() {
		fits := false
		for _, k := range keys {
			fits = fits || keyFitsAlgorithm(&jose.JSONWebKey{Key: k}, alg)
		}
		if !fits {
			t.Errorf("%s is offered but no key type fits it here", alg)
		}
	}
}

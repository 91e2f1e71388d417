package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// FuzzIntrospectionResponse feeds arbitrary bodies to the RFC 7662 response parser and the
// policy behind it. Nothing may panic; only a JSON object whose active is the boolean true may
// yield claims, and never with active among them; an inactive answer says nothing else; and an
// answer the policy accepts has the trusted issuer, an exp in the future and a lifetime within
// the cap, whatever the body claimed.
func FuzzIntrospectionResponse(f *testing.F) {
	good, err := json.Marshal(introAnswer(testEpoch))
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		string(good),
		`{"active":true}`,
		`{"active":false,"sub":"x","exp":1}`,
		`{"active":"true"}`,
		`{"active":1}`,
		`{"active":null}`,
		`{"active":true,"active":false}`,
		`{"active":false,"active":true,"iss":"https://auth.pingone.com/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/as"}`,
		`{"active":true,"exp":1e400}`,
		`{"active":true,"exp":-1e11,"iat":"x"}`,
		`{"active":true,"aud":["https://nats.example.com"],"exp":1772370000,"scope":"nats:connect","iss":null}`,
		`{"active":true,"aud":"nats-secondary","exp":1772370000,"scope":["nats:connect"],"groups":{"a":[1]}}`,
		`[true]`, `null`, `true`, `"active"`, ``, `{`, `{"active":true}{}`, "\xff\xfe",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	in, err := NewIntrospector(IntrospectorOptions{Endpoint: "https://pf.example.com/as/introspect.oauth2", Issuer: testIssuer,
		ClientID: introClientID, ClientSecret: introSecret, Client: http.DefaultClient, CacheEntries: 4})
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(testPolicy(), mustStatic(f, jwksOf(f, rsaTestKey(0, "k1").public())),
		VerifierOptions{Now: func() time.Time { return testEpoch }, Introspector: in})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		active, claims, err := parseIntrospectionResponse(body)
		switch {
		case err != nil:
			if active || claims != nil {
				t.Fatalf("a refused body yielded active=%v claims=%v", active, claims)
			}
			if !errors.Is(err, errIntrospectionResponse) {
				t.Fatalf("error %v is not an introspection-response error", err)
			}
			return
		case !active:
			if claims != nil {
				t.Fatalf("an inactive answer yielded claims %v", claims)
			}
			return
		}
		if claims == nil {
			t.Fatal("an active answer yielded no claim set")
		}
		if _, ok := claims["active"]; ok {
			t.Fatal("active survived among the claims")
		}
		out := in.answered(true, claims, TokenHash(string(body)), testEpoch, len(body))
		if out.err != nil || out.ans == nil {
			t.Fatalf("answered: %+v", out)
		}
		id, err := v.checkClaimSet(out.ans.claims, testEpoch, true)
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Fatalf("refusal is not a *VerifyError with a reason: %T %v", err, err)
			}
			return
		}
		p := v.Policy()
		life := id.Expiry.Sub(id.IssuedAt)
		if id.IssuedAt.IsZero() {
			life = id.Expiry.Sub(testEpoch) // no iat: the cap bounds what is left
		}
		if id.Claims["iss"] != p.Issuer || !testEpoch.Before(id.Expiry.Add(p.ClockSkew)) || life > p.MaxTokenLifetime {
			t.Fatalf("accepted an answer outside the policy: %+v", id)
		}
	})
}

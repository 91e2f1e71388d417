package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary strings to a verifier. Nothing may panic, every refusal must be a
// *VerifyError, and the only string that may ever verify is the one token the test signed.
func FuzzVerify(f *testing.F) {
	k1 := rsaTestKey(0, "k1")
	keys, err := NewStaticKeySet(jwksOf(f, k1.public(), testKey{kid: "ec1", priv: ecKey()}.public()))
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(testPolicy(), keys, VerifierOptions{Now: func() time.Time { return testEpoch }, CacheSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	valid := signClaims(f, k1, pingClaims(testEpoch), nil)
	parts := strings.Split(valid, ".")
	enc := base64.RawURLEncoding.EncodeToString

	seeds := []string{
		valid,
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + enc([]byte(`{"iss":"x"}`)) + "." + parts[2],
		enc([]byte(`{"alg":"none","kid":"k1"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"RS256","kid":"k1","crit":["exp"]}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"RS256","kid":"k1","b64":false}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"ES256","kid":"ec1"}`)) + "." + parts[1] + "." + parts[2],
		"eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
		`{"payload":"e30","signatures":[]}`,
		"", ".", "..", "...", "a.b.c", valid + "\n", " " + valid,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := v.Verify(context.Background(), raw)
		if err == nil {
			if raw != valid {
				t.Fatalf("a string that is not the signed token verified: %q → %+v", raw, id)
			}
			return
		}
		var ve *VerifyError
		if !errors.As(err, &ve) || ve.Reason == "" {
			t.Fatalf("refusal is not a *VerifyError with a reason: %T %v", err, err)
		}
		if id != nil {
			t.Fatal("refusal returned an identity")
		}
	})
}

package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// decodeFixture holds JWTs of every common kind, issued with known keys and times.
type decodeFixture struct {
	operatorPub, accountPub           string
	signingKeyPub, userPub            string
	operator, account, user, tampered string
	authRequest, generic              string
	creds                             string
	expires                           time.Time
}

func newDecodeFixture() *decodeFixture {
	opKP := mustOK(nkeys.CreateOperator())
	accKP := mustOK(nkeys.CreateAccount())
	skKP := mustOK(nkeys.CreateAccount())
	uKP := mustOK(nkeys.CreateUser())
	f := &decodeFixture{
		accountPub:    mustOK(accKP.PublicKey()),
		signingKeyPub: mustOK(skKP.PublicKey()),
		userPub:       mustOK(uKP.PublicKey()),
		expires:       time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	f.operatorPub = mustOK(opKP.PublicKey())
	oc := jwt.NewOperatorClaims(f.operatorPub)
	oc.Name = "ACME"
	f.operator = mustOK(oc.Encode(opKP))

	ac := jwt.NewAccountClaims(f.accountPub)
	ac.Name = "ORDERS"
	ac.SigningKeys.Add(f.signingKeyPub)
	f.account = mustOK(ac.Encode(opKP))

	uc := jwt.NewUserClaims(f.userPub)
	uc.Name = "alice"
	uc.IssuerAccount = f.accountPub
	uc.Expires = f.expires.Unix()
	uc.Pub.Allow.Add("orders.>")
	f.user = mustOK(uc.Encode(skKP))
	f.creds = string(mustOK(jwt.FormatUserConfig(f.user, mustOK(uKP.Seed()))))

	// Changing one claim byte keeps the token decodable but breaks its signature.
	parts := strings.Split(f.user, ".")
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		panic(err)
	}
	claims["name"] = "mallory"
	parts[1] = b64JSON(claims)
	f.tampered = strings.Join(parts, ".")

	srvKP := mustOK(nkeys.CreateServer())
	req := jwt.NewAuthorizationRequestClaims(f.userPub)
	req.Server.ID = mustOK(srvKP.PublicKey())
	f.authRequest = mustOK(req.Encode(srvKP))

	gc := jwt.NewGenericClaims(f.userPub)
	gc.Data["type"] = "custom"
	f.generic = mustOK(gc.Encode(uKP))
	return f
}

func b64JSON(v any) string {
	raw := mustOK(json.Marshal(v))
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestDecodeNATSJWT(t *testing.T) {
	t.Parallel()
	f := newDecodeFixture()
	exp := f.expires.Format(time.RFC3339)
	tests := []struct {
		name          string
		token         string
		typ, subject  string
		issuerAccount string
		valid         bool
		expires       *string
	}{
		{"operator", f.operator, "operator", f.operatorPub, "", true, nil},
		{"account", f.account, "account", f.accountPub, "", true, nil},
		{"user signed by a signing key", f.user, "user", f.userPub, f.accountPub, true, &exp},
		{"user with surrounding whitespace", "\n " + f.user + "\n", "user", f.userPub, f.accountPub, true, &exp},
		{"tampered user", f.tampered, "user", f.userPub, f.accountPub, false, &exp},
		{"authorization request", f.authRequest, "authorization_request", f.userPub, "", true, nil},
		{"generic claim of a custom type", f.generic, "custom", f.userPub, "", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeNATSJWT(tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.typ || got.Subject != tt.subject || got.IssuerAccount != tt.issuerAccount || got.SignatureValid != tt.valid {
				t.Errorf("got type %q subject %q issuer_account %q valid %t", got.Type, got.Subject, got.IssuerAccount, got.SignatureValid)
			}
			if (got.ExpiresAt == nil) != (tt.expires == nil) || (got.ExpiresAt != nil && *got.ExpiresAt != *tt.expires) {
				t.Errorf("expires_at: got %v, want %v", deref(got.ExpiresAt), deref(tt.expires))
			}
			if got.IssuedAt == nil {
				t.Error("issued_at missing")
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

func TestDecodeNATSJWTClaimsJSON(t *testing.T) {
	t.Parallel()
	f := newDecodeFixture()
	got, err := decodeNATSJWT(f.user)
	if err != nil {
		t.Fatal(err)
	}
	out, err := marshalJSON(got.Claims, true)
	if err != nil {
		t.Fatal(err)
	}
	// Numbers print as integers (limits of -1, exp not in exponent form) and subjects stay
	// readable instead of HTML-escaped.
	for _, want := range []string{`"subs": -1`, fmt.Sprintf(`"exp": %d`, f.expires.Unix()), `"orders.>"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("claims JSON lacks %s:\n%s", want, out)
		}
	}
	if strings.Index(string(out), `"exp"`) > strings.Index(string(out), `"iat"`) {
		t.Error("claims JSON keys are not sorted")
	}
}

func TestDecodeNATSJWTRejectsNonJWTs(t *testing.T) {
	t.Parallel()
	f := newDecodeFixture()
	oidc := b64JSON(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + b64JSON(map[string]string{"sub": "x"}) + ".c2ln"
	tests := []struct {
		name, token, want string
	}{
		{"empty", "  ", "is empty"},
		{"seed", "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTAM", "three dot-separated parts"},
		{"creds file", f.creds, "looks like a creds file"},
		{"OIDC token", oidc, "RS256"},
		{"garbage payload", "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.@@@.c2ln", "payload is not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeNATSJWT(tt.token)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SUAIBDPB") {
				t.Fatal("error repeats the seed")
			}
		})
	}
}

func TestAccJWTDataSource(t *testing.T) {
	f := newDecodeFixture()
	cfg := func(token string) string {
		return fmt.Sprintf("data \"natsping_jwt\" \"t\" {\n  token = %q\n}\n", token)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(f.user),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("type"), knownvalue.StringExact("user")),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("subject"), knownvalue.StringExact(f.userPub)),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("issuer"), knownvalue.StringExact(f.signingKeyPub)),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("issuer_account"), knownvalue.StringExact(f.accountPub)),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("name"), knownvalue.StringExact("alice")),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("expires_at"), knownvalue.StringExact("2031-01-02T03:04:05Z")),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("signature_valid"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("claims_json"), knownvalue.StringRegexp(
						regexp.MustCompile(fmt.Sprintf(`(?s)^\{\n  "exp": %d,.*"orders\.>"`, f.expires.Unix())))),
				},
			},
			{
				Config: cfg(f.tampered),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("name"), knownvalue.StringExact("mallory")),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("signature_valid"), knownvalue.Bool(false)),
				},
			},
			{
				Config: cfg(f.account),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("type"), knownvalue.StringExact("account")),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("issuer_account"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.natsping_jwt.t", tfjsonpath.New("expires_at"), knownvalue.Null()),
				},
			},
			{
				Config:      cfg(f.creds),
				ExpectError: regexp.MustCompile(`looks\s+like\s+a\s+creds\s+file`),
			},
		},
	})
}

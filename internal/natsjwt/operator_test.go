package natsjwt

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

func mustKey(t testing.TB, kind KeyKind) (string, *Signer) {
	t.Helper()
	pub, seed, err := NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner("", "", seed, kind)
	if err != nil {
		t.Fatal(err)
	}
	return pub, s
}

func TestBuildOperatorJWT(t *testing.T) {
	t.Parallel()
	opPub, op := mustKey(t, KindOperator)
	skPub, _ := mustKey(t, KindOperator)
	oldPub, _ := mustKey(t, KindOperator)
	sysPub, _ := mustKey(t, KindAccount)
	exp := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)

	tests := []struct {
		name  string
		spec  OperatorSpec
		check func(t *testing.T, c *jwt.OperatorClaims)
	}{
		{
			name: "all fields",
			spec: OperatorSpec{
				Name: "acme", StrictSigningKeys: true, AccountServerURL: "https://accounts.example.com/jwt/v1",
				OperatorServiceURLs: []string{"tls://b.example.com:4222", "nats://a.example.com:4222/"},
				Tags:                []string{"env:prod", "env:prod", "team:core"}, Expires: exp,
				SigningKeys: []string{skPub}, SystemAccount: sysPub,
			},
			check: func(t *testing.T, c *jwt.OperatorClaims) {
				if c.Name != "acme" || !c.StrictSigningKeyUsage || c.AccountServerURL != "https://accounts.example.com/jwt/v1" {
					t.Errorf("basic fields wrong: %+v", c)
				}
				if got := strings.Join(c.OperatorServiceURLs, ","); got != "nats://a.example.com:4222,tls://b.example.com:4222" {
					t.Errorf("service URLs should be sorted and without trailing slash, got %s", got)
				}
				if got := strings.Join(c.Tags, ","); got != "env:prod,team:core" {
					t.Errorf("tags should be sorted and de-duplicated, got %s", got)
				}
				if c.Expires != exp.Unix() {
					t.Errorf("exp = %d, want %d", c.Expires, exp.Unix())
				}
				if c.SystemAccount != sysPub || len(c.SigningKeys) != 1 || c.SigningKeys[0] != skPub {
					t.Errorf("system account or signing keys wrong: %v %v", c.SystemAccount, c.SigningKeys)
				}
			},
		},
		{
			name: "grace period lists both signing keys",
			spec: OperatorSpec{Name: "acme", StrictSigningKeys: true, SigningKeys: []string{skPub, oldPub}},
			check: func(t *testing.T, c *jwt.OperatorClaims) {
				if !c.SigningKeys.Contains(skPub) || !c.SigningKeys.Contains(oldPub) {
					t.Errorf("signing keys = %v, want both", c.SigningKeys)
				}
			},
		},
		{
			name: "never expires",
			spec: OperatorSpec{Name: "acme"},
			check: func(t *testing.T, c *jwt.OperatorClaims) {
				if c.Expires != 0 || c.StrictSigningKeyUsage {
					t.Errorf("exp = %d strict = %v, want 0 false", c.Expires, c.StrictSigningKeyUsage)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, err := BuildOperatorJWT(tt.spec, op)
			if err != nil {
				t.Fatal(err)
			}
			c, err := jwt.DecodeOperatorClaims(token)
			if err != nil {
				t.Fatalf("signature or claims invalid: %v", err)
			}
			if c.Issuer != opPub || c.Subject != opPub {
				t.Errorf("operator JWT must be self-signed: iss %s sub %s, want %s", c.Issuer, c.Subject, opPub)
			}
			tt.check(t, c)
		})
	}
}

func TestOperatorSpecValidate(t *testing.T) {
	t.Parallel()
	skPub, _ := mustKey(t, KindOperator)
	accPub, _ := mustKey(t, KindAccount)
	tests := []struct {
		name string
		spec OperatorSpec
		want string
	}{
		{"empty name", OperatorSpec{Name: " "}, "operator name is empty"},
		{"http service url", OperatorSpec{Name: "a", OperatorServiceURLs: []string{"http://x:4222"}}, "use one of nats://, tls://, ws:// or wss://"},
		{"service url without host", OperatorSpec{Name: "a", OperatorServiceURLs: []string{"nats://"}}, "has no host"},
		{"service url with credentials", OperatorSpec{Name: "a", OperatorServiceURLs: []string{"nats://u:secret@x:4222"}}, "carries credentials"},
		{"service url with path", OperatorSpec{Name: "a", OperatorServiceURLs: []string{"wss://x:443/ws"}}, "has a path"},
		{"account server nats scheme", OperatorSpec{Name: "a", AccountServerURL: "nats://x:4222"}, "http:// or https://"},
		{"signing key of wrong kind", OperatorSpec{Name: "a", SigningKeys: []string{accPub}}, "account public key but an operator public key"},
		{"system account of wrong kind", OperatorSpec{Name: "a", SystemAccount: skPub}, "operator public key but an account public key"},
		{"strict without signing key", OperatorSpec{Name: "a", StrictSigningKeys: true}, "at least one operator signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.spec.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	ok := OperatorSpec{Name: "a", StrictSigningKeys: true, SigningKeys: []string{skPub}, SystemAccount: accPub,
		OperatorServiceURLs: []string{"nats://a:4222", "tls://a:4222", "ws://a:80", "WSS://a:443/"}, AccountServerURL: "http://a/jwt/v1"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
}

func TestBuildSystemAccountJWT(t *testing.T) {
	t.Parallel()
	skPub, sk := mustKey(t, KindOperator)
	sysPub, sys := mustKey(t, KindAccount)
	sysSKPub, _ := mustKey(t, KindAccount)
	token, err := BuildSystemAccountJWT(SystemAccountSpec{Name: "SYS", PublicKey: sysPub, SigningKey: sysSKPub}, sk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SigningKeys.Contains(sysSKPub) {
		t.Errorf("signing keys = %v; the system account needs its signing key to sign users under strict operators", c.SigningKeys)
	}
	if c.Issuer != skPub || c.Subject != sysPub || c.Name != "SYS" {
		t.Errorf("iss %s sub %s name %s; want the signing key, the SYS key and SYS", c.Issuer, c.Subject, c.Name)
	}
	subjects := map[string]jwt.ExportType{}
	for _, e := range c.Exports {
		subjects[string(e.Subject)] = e.Type
	}
	if subjects["$SYS.REQ.ACCOUNT.*.*"] != jwt.Service || subjects["$SYS.ACCOUNT.*.>"] != jwt.Stream {
		t.Errorf("exports = %v; want nsc's account monitoring service and stream", subjects)
	}
	if _, err := BuildSystemAccountJWT(SystemAccountSpec{Name: "SYS", PublicKey: sysPub, SigningKey: sysSKPub}, sys); err == nil {
		t.Error("an account key must not sign the system account")
	}
	if _, err := BuildSystemAccountJWT(SystemAccountSpec{Name: "SYS", PublicKey: sysPub}, sk); err == nil {
		t.Error("a system account without signing key must be refused")
	}
}

// CheckAccountIssuer must say exactly what nats-io/jwt's DidSign (which the server uses)
// says, and name the reason when it refuses.
func TestCheckAccountIssuer(t *testing.T) {
	t.Parallel()
	identity, _ := mustKey(t, KindOperator)
	signing, _ := mustKey(t, KindOperator)
	stranger, _ := mustKey(t, KindOperator)
	account, _ := mustKey(t, KindAccount)
	for _, strict := range []bool{false, true} {
		op := jwt.NewOperatorClaims(identity)
		op.StrictSigningKeyUsage = strict
		op.SigningKeys.Add(signing)
		for _, tt := range []struct {
			issuer string
			want   error
		}{
			{signing, nil},
			{identity, map[bool]error{false: nil, true: ErrIdentityUnderStrict}[strict]},
			{stranger, ErrNotOperatorKey},
		} {
			got := CheckAccountIssuer(op, tt.issuer)
			if !errors.Is(got, tt.want) {
				t.Errorf("strict %t, issuer %s: got %v, want %v", strict, tt.issuer, got, tt.want)
			}
			ac := jwt.NewAccountClaims(account)
			ac.Issuer = tt.issuer
			if accepted := op.DidSign(ac); accepted != (got == nil) {
				t.Errorf("strict %t, issuer %s: DidSign says %t, CheckAccountIssuer %v", strict, tt.issuer, accepted, got)
			}
		}
	}
}

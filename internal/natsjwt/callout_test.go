package natsjwt

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

type calloutFixture struct {
	opPub                                string
	operator                             *Signer
	accPub, skPub, userPub, xPub, target string
	accountSigner, signingKey            *Signer
	otherTarget                          string
}

func newCalloutFixture(t *testing.T) calloutFixture {
	t.Helper()
	var f calloutFixture
	f.opPub, f.operator = mustKey(t, KindOperator)
	f.accPub, f.accountSigner = mustKey(t, KindAccount)
	f.skPub, f.signingKey = mustKey(t, KindAccount)
	f.signingKey.Owner = f.accPub
	f.accountSigner.Owner = f.accPub
	f.userPub, _ = mustKey(t, KindUser)
	f.target, _ = mustKey(t, KindAccount)
	f.otherTarget, _ = mustKey(t, KindAccount)
	var err error
	if f.xPub, _, err = NewKey(KindCurve); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f calloutFixture) spec() CalloutAccountSpec {
	return CalloutAccountSpec{Name: "CALLOUT", PublicKey: f.accPub, SigningKey: f.skPub, ServiceUser: f.userPub,
		AllowedAccounts: []string{f.target, f.otherTarget}, XKey: f.xPub}
}

func TestSignCalloutAccount(t *testing.T) {
	t.Parallel()
	f := newCalloutFixture(t)
	token, err := SignCalloutAccount(f.spec(), f.operator)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatalf("signature or claims invalid: %v", err)
	}
	if c.Issuer != f.opPub || c.Subject != f.accPub || c.Name != "CALLOUT" {
		t.Errorf("iss %s sub %s name %s; want %s %s CALLOUT", c.Issuer, c.Subject, c.Name, f.opPub, f.accPub)
	}
	if !c.SigningKeys.Contains(f.skPub) || len(c.SigningKeys) != 1 {
		t.Errorf("signing keys %v, want exactly %s", c.SigningKeys.Keys(), f.skPub)
	}
	auth := c.Authorization
	if !auth.IsEnabled() {
		t.Fatal("auth callout is not enabled in the account JWT")
	}
	if len(auth.AuthUsers) != 1 || auth.AuthUsers[0] != f.userPub {
		t.Errorf("auth_users %v, want [%s]", auth.AuthUsers, f.userPub)
	}
	want := []string{f.target, f.otherTarget}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if strings.Join(auth.AllowedAccounts, ",") != strings.Join(want, ",") {
		t.Errorf("allowed_accounts %v, want sorted %v", auth.AllowedAccounts, want)
	}
	if auth.XKey != f.xPub {
		t.Errorf("xkey %q, want %s", auth.XKey, f.xPub)
	}
}

func TestSignCalloutAccountRefuses(t *testing.T) {
	t.Parallel()
	f := newCalloutFixture(t)
	tests := []struct {
		name   string
		mutate func(*CalloutAccountSpec)
		want   string
	}{
		{"no allowed accounts", func(s *CalloutAccountSpec) { s.AllowedAccounts = nil }, "Add a role mapping"},
		{"any account", func(s *CalloutAccountSpec) { s.AllowedAccounts = []string{"*"} }, "any account"},
		{"itself", func(s *CalloutAccountSpec) { s.AllowedAccounts = []string{f.accPub} }, "the callout account itself"},
		{"user key as account", func(s *CalloutAccountSpec) { s.AllowedAccounts = []string{f.userPub} }, "user public key"},
		{"identity as signing key", func(s *CalloutAccountSpec) { s.SigningKey = f.accPub }, "separate key"},
		{"account as service user", func(s *CalloutAccountSpec) { s.ServiceUser = f.target }, "callout service user"},
		{"account key as xkey", func(s *CalloutAccountSpec) { s.XKey = f.target }, "xkey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := f.spec()
			tt.mutate(&spec)
			_, err := SignCalloutAccount(spec, f.operator)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestCalloutUsers(t *testing.T) {
	t.Parallel()
	f := newCalloutFixture(t)
	service, err := BuildCalloutServiceUserJWT(f.accPub, f.signingKey, f.userPub)
	if err != nil {
		t.Fatal(err)
	}
	sentinelPub, _ := mustKey(t, KindUser)
	sentinel, err := BuildSentinelJWT(f.accPub, f.signingKey, sentinelPub)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token, sub, name string
		sentinel         bool
	}{{service, f.userPub, CalloutServiceUserName, false}, {sentinel, sentinelPub, SentinelUserName, true}} {
		c, err := jwt.DecodeUserClaims(tc.token)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Issuer != f.skPub || c.IssuerAccount != f.accPub || c.Subject != tc.sub || c.Name != tc.name {
			t.Errorf("%s: iss %s issuer_account %s sub %s; want %s %s %s", tc.name, c.Issuer, c.IssuerAccount, c.Subject, f.skPub, f.accPub, tc.sub)
		}
		if c.BearerToken != tc.sentinel {
			t.Errorf("%s: bearer = %v, want %v", tc.name, c.BearerToken, tc.sentinel)
		}
		denyAll := c.Pub.Deny.Contains(">") && c.Sub.Deny.Contains(">")
		if denyAll != tc.sentinel {
			t.Errorf("%s: deny-all = %v, want %v", tc.name, denyAll, tc.sentinel)
		}
	}

	if _, err := BuildSentinelJWT(f.accPub, f.accountSigner, sentinelPub); err == nil || !strings.Contains(err.Error(), "identity key") {
		t.Errorf("identity key signing the sentinel: err %v, want a refusal naming the identity key", err)
	}
	role, err := NewSigner(f.accPub, "readers", f.signingKey.Seed, KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildCalloutServiceUserJWT(f.accPub, role, f.userPub); err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("role signing the service user: err %v, want a refusal naming the role", err)
	}
}

package natsjwt

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

func TestBuildUserJWT(t *testing.T) {
	t.Parallel()
	accPub, acc := mustKey(t, KindAccount)
	skPub, sk := mustKey(t, KindAccount)
	rolePub, roleRaw := mustKey(t, KindAccount)
	role, err := NewSigner(accPub, "readers", roleRaw.Seed, KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	encodedSK, err := ParseSigner(EncodeSigner(&Signer{Owner: accPub, Seed: sk.Seed}), KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	userPub, _ := mustKey(t, KindUser)
	exp := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	perms := Permissions{PubAllow: []string{"orders.>", "audit.x"}, SubDeny: []string{"secret.>"}}

	tests := []struct {
		name              string
		spec              UserSpec
		signer            *Signer
		wantIssuer        string
		wantIssuerAccount string
		wantScoped        bool
	}{
		{"identity key", UserSpec{Name: "alice", Permissions: perms, Expires: exp}, acc, accPub, "", false},
		{"raw signing key with declared account", UserSpec{Name: "bob", Account: accPub, Permissions: perms}, sk, skPub, accPub, false},
		{"encoded signing key", UserSpec{Name: "bob", Permissions: perms}, encodedSK, skPub, accPub, false},
		{"role", UserSpec{Name: "carol", Tags: []string{"team:blue"}}, role, rolePub, accPub, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := tt.spec
			spec.PublicKey = userPub
			token, err := BuildUserJWT(spec, tt.signer)
			if err != nil {
				t.Fatal(err)
			}
			c, err := jwt.DecodeUserClaims(token)
			if err != nil {
				t.Fatalf("signature or claims invalid: %v", err)
			}
			if c.Issuer != tt.wantIssuer || c.Subject != userPub || c.IssuerAccount != tt.wantIssuerAccount {
				t.Errorf("iss %s sub %s issuer_account %q; want %s %s %q", c.Issuer, c.Subject, c.IssuerAccount, tt.wantIssuer, userPub, tt.wantIssuerAccount)
			}
			if c.HasEmptyPermissions() != tt.wantScoped {
				t.Errorf("empty permissions = %v, want %v (scoped users carry none)", c.HasEmptyPermissions(), tt.wantScoped)
			}
			if !tt.wantScoped {
				if got := strings.Join(c.Pub.Allow, ","); got != "audit.x,orders.>" {
					t.Errorf("pub allow = %s", got)
				}
				if c.Subs != jwt.NoLimit || c.Data != jwt.NoLimit || c.NatsLimits.Payload != jwt.NoLimit {
					t.Errorf("unset limits must be unlimited: %+v", c.NatsLimits)
				}
			}
			if c.Name != spec.Name {
				t.Errorf("name = %q", c.Name)
			}
			if !spec.Expires.IsZero() && c.Expires != exp.Unix() {
				t.Errorf("exp = %d", c.Expires)
			}
		})
	}
}

func TestBuildUserJWTErrors(t *testing.T) {
	t.Parallel()
	accPub, acc := mustKey(t, KindAccount)
	otherPub, _ := mustKey(t, KindAccount)
	_, roleRaw := mustKey(t, KindAccount)
	role, _ := NewSigner(accPub, "readers", roleRaw.Seed, KindAccount)
	_, op := mustKey(t, KindOperator)
	userPub, _ := mustKey(t, KindUser)
	encodedAcc, _ := ParseSigner(EncodeSigner(&Signer{Owner: accPub, Seed: acc.Seed}), KindAccount)

	tests := []struct {
		name   string
		spec   UserSpec
		signer *Signer
		want   string
	}{
		{"role with permissions", UserSpec{Name: "u", Permissions: Permissions{PubAllow: []string{"a"}}}, role, `role "readers", whose template applies to it; remove permissions`},
		{"role with limits", UserSpec{Name: "u", Limits: UserLimits{Subs: 5}}, role, "remove limits"},
		{"role of another account", UserSpec{Name: "u", Account: otherPub}, role, `role "readers" belongs to account ` + accPub + ", not to " + otherPub},
		{"encoded signer of another account", UserSpec{Name: "u", Account: otherPub}, encodedAcc, "the signer belongs to account " + accPub + ", not to " + otherPub},
		{"operator key", UserSpec{Name: "u"}, op, "users are signed by an account key"},
		{"account given as user key", UserSpec{Name: "u", Account: userPub}, acc, "user public key but an account public key"},
		{"bad subject", UserSpec{Name: "u", Permissions: Permissions{PubAllow: []string{"a..b"}}}, acc, "empty token"},
		{"empty name", UserSpec{Name: ""}, acc, "user name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := tt.spec
			spec.PublicKey = userPub
			_, err := BuildUserJWT(spec, tt.signer)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BuildUserJWT() error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.signer.Seed) {
				t.Fatal("the error message leaks the seed")
			}
		})
	}
}

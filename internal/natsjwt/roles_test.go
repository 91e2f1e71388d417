package natsjwt

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

func TestReconcileRoleKeys(t *testing.T) {
	t.Parallel()
	existing := map[string]RoleKey{}
	for _, name := range []string{"reader", "writer", "admin"} {
		pub, seed, err := NewKey(KindAccount)
		if err != nil {
			t.Fatal(err)
		}
		existing[name] = RoleKey{PublicKey: pub, Seed: seed}
	}
	cases := []struct {
		name    string
		names   []string
		kept    []string
		fresh   []string
		wantErr string
	}{
		{name: "unchanged in another order", names: []string{"writer", "admin", "reader"}, kept: []string{"reader", "writer", "admin"}},
		{name: "one added", names: []string{"reader", "writer", "admin", "auditor"}, kept: []string{"reader", "writer", "admin"}, fresh: []string{"auditor"}},
		{name: "one removed", names: []string{"reader", "admin"}, kept: []string{"reader", "admin"}},
		{name: "all new", names: []string{"a", "b"}, fresh: []string{"a", "b"}},
		{name: "duplicate", names: []string{"reader", "reader"}, wantErr: `role "reader" is listed twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReconcileRoleKeys(tc.names, existing)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.names) {
				t.Errorf("got %d keys for %d roles", len(got), len(tc.names))
			}
			for _, n := range tc.kept {
				if got[n] != existing[n] {
					t.Errorf("role %q got a new key; existing roles must keep theirs", n)
				}
			}
			for _, n := range tc.fresh {
				k := got[n]
				if err := ValidatePublicKey(k.PublicKey, KindAccount); err != nil {
					t.Errorf("role %q: %v", n, err)
				}
				kp, err := ParseSeed(k.Seed, KindAccount)
				if err != nil {
					t.Fatalf("role %q seed: %v", n, err)
				}
				if pub, _ := kp.PublicKey(); pub != k.PublicKey {
					t.Errorf("role %q: seed and public key do not match", n)
				}
				for _, old := range existing {
					if old.PublicKey == k.PublicKey {
						t.Errorf("new role %q reuses an existing key", n)
					}
				}
			}
		})
	}
}

// A user signed by a role key with empty permissions is what the callout issues; the account
// JWT must make the server accept it (DidSign) and the scope must accept it (ValidateScopedSigner).
func TestRoleScope_acceptsScopedUser(t *testing.T) {
	t.Parallel()
	op := testSigner(t, KindOperator, "")
	account := testPub(t, KindAccount)
	rolePub, roleSeed, err := NewKey(KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	spec := AccountSpec{Name: "A", Roles: []RoleSpec{{
		Name: "reader", PublicKey: rolePub,
		Permissions: Permissions{SubAllow: []string{"orders.{{tag(team)}}.>"}, PubDeny: []string{">"}},
	}}}
	token, err := SignAccount(spec, account, op)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	roleKP, err := ParseSeed(roleSeed, KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	user := testPub(t, KindUser)
	uc := jwt.NewUserClaims(user)
	uc.IssuerAccount = account
	uc.Tags.Add("team:blue")
	uc.SetScoped(true)
	ut, err := uc.Encode(roleKP)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := jwt.DecodeUserClaims(ut)
	if err != nil {
		t.Fatal(err)
	}
	if !ac.DidSign(decoded) {
		t.Fatal("the account JWT does not recognise its role key as a signer")
	}
	scope, _ := ac.SigningKeys.GetScope(rolePub)
	if scope == nil {
		t.Fatal("role key is not scoped")
	}
	if err := scope.ValidateScopedSigner(decoded); err != nil {
		t.Errorf("scope rejects a scoped user: %v", err)
	}
	if tmpl := scope.(*jwt.UserScope).Template; strings.Join(tmpl.Pub.Deny, ",") != ">" || strings.Join(tmpl.Sub.Allow, ",") != "orders.{{tag(team)}}.>" {
		t.Errorf("template = %+v", tmpl.Permissions)
	}
}

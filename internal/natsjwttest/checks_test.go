package natsjwttest

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

type fixture struct {
	opPub, skPub, oldPub, accPub, userPub, otherUserPub string
	opSeed, accSeed, userSeed                           string
	opJWT, accJWT, userJWT, creds, mismatchedCreds      string
	accSigner, roleSigner                               string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	var f fixture
	key := func(kind natsjwt.KeyKind) (string, *natsjwt.Signer) {
		pub, seed, err := natsjwt.NewKey(kind)
		if err != nil {
			t.Fatal(err)
		}
		s, err := natsjwt.NewSigner("", "", seed, kind)
		if err != nil {
			t.Fatal(err)
		}
		return pub, s
	}
	var op, sk, acc, role *natsjwt.Signer
	f.opPub, op = key(natsjwt.KindOperator)
	f.skPub, sk = key(natsjwt.KindOperator)
	f.oldPub, _ = key(natsjwt.KindOperator)
	f.accPub, acc = key(natsjwt.KindAccount)
	_, role = key(natsjwt.KindAccount)
	f.opSeed, f.accSeed = op.Seed, acc.Seed
	var err error
	f.opJWT, err = natsjwt.BuildOperatorJWT(natsjwt.OperatorSpec{Name: "op", SigningKeys: []string{f.skPub}}, op)
	if err != nil {
		t.Fatal(err)
	}
	skSysPub, _ := key(natsjwt.KindAccount)
	f.accJWT, err = natsjwt.BuildSystemAccountJWT(natsjwt.SystemAccountSpec{Name: "SYS", PublicKey: f.accPub, SigningKey: skSysPub}, sk)
	if err != nil {
		t.Fatal(err)
	}
	f.accSigner = natsjwt.EncodeSigner(&natsjwt.Signer{Owner: f.accPub, Seed: acc.Seed})
	f.roleSigner = natsjwt.EncodeSigner(&natsjwt.Signer{Owner: f.accPub, Role: "readers", Seed: role.Seed})
	roleS, _ := natsjwt.ParseSigner(f.roleSigner, natsjwt.KindAccount)
	f.userPub, f.userSeed, f.userJWT, f.creds, err = natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "alice"}, roleS)
	if err != nil {
		t.Fatal(err)
	}
	var otherSeed string
	f.otherUserPub, otherSeed, _ = natsjwt.NewKey(natsjwt.KindUser)
	// A creds file whose seed does not belong to its JWT, as a careless hand edit makes it.
	parts := strings.SplitAfter(f.creds, "------END NATS USER JWT------")
	f.mismatchedCreds = parts[0] + strings.Replace(parts[1], f.userSeed, otherSeed, 1)
	return f
}

func TestChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name    string
		check   knownvalue.Check
		value   any
		wantErr string
	}{
		{"operator public key", PublicKey(natsjwt.KindOperator), f.opPub, ""},
		{"account key where operator expected", PublicKey(natsjwt.KindOperator), f.accPub, "account public key but an operator public key"},
		{"seed where public key expected", PublicKey(natsjwt.KindAccount), f.accSeed, "this is a seed"},
		{"not a string", PublicKey(natsjwt.KindAccount), 3, "expected a string"},
		{"operator seed", Seed(natsjwt.KindOperator), f.opSeed, ""},
		{"user seed where account seed expected", Seed(natsjwt.KindAccount), f.userSeed, "user seed"},
		{"account signer", Signer(natsjwt.KindAccount, ""), f.accSigner, ""},
		{"role signer", Signer(natsjwt.KindAccount, "readers"), f.roleSigner, ""},
		{"role signer where unscoped expected", Signer(natsjwt.KindAccount, ""), f.roleSigner, `role is "readers", want ""`},
		{"raw seed has no owner", Signer(natsjwt.KindAccount, ""), f.accSeed, "has no owner"},
		{"operator JWT", JWT(jwt.OperatorClaim), f.opJWT, ""},
		{"named account JWT", JWTNamed(jwt.AccountClaim, "SYS"), f.accJWT, ""},
		{"wrong name", JWTNamed(jwt.AccountClaim, "APP"), f.accJWT, `name is "SYS", want "APP"`},
		{"wrong kind", JWT(jwt.UserClaim), f.opJWT, "is a operator JWT, want user"},
		{"tampered JWT", JWT(jwt.OperatorClaim), f.opJWT[:len(f.opJWT)-4] + "AAAA", "not a valid NATS JWT"},
		{"creds", Creds(), f.creds, ""},
		{"mismatched creds", Creds(), f.mismatchedCreds, "the seed belongs to " + f.otherUserPub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.check.CheckValue(tt.value)
			checkErr(t, err, tt.wantErr)
			if tt.check.String() == "" {
				t.Error("String() is empty")
			}
		})
	}
}

func TestComparers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name     string
		comparer compare.ValueComparer
		values   []any
		wantErr  string
	}{
		{"operator self-issued", IssuedBy(), []any{f.opJWT, f.opPub}, ""},
		{"account issued by signing key", IssuedBy(), []any{f.accJWT, f.skPub}, ""},
		{"account not issued by identity", IssuedBy(), []any{f.accJWT, f.opPub}, "issuer is"},
		{"subject", HasSubject(), []any{f.accJWT, f.accPub}, ""},
		{"wrong subject", HasSubject(), []any{f.accJWT, f.opPub}, "subject is"},
		{"issuer account", HasIssuerAccount(), []any{f.userJWT, f.accPub}, ""},
		{"issuer account of another", HasIssuerAccount(), []any{f.userJWT, f.opPub}, "issuer_account is"},
		{"creds for user", CredsFor(), []any{f.creds, f.userPub}, ""},
		{"creds for another user", CredsFor(), []any{f.creds, f.otherUserPub}, "creds subject is"},
		{"lists signing key", ListsSigningKey(), []any{f.opJWT, f.skPub}, ""},
		{"does not list old key", ListsSigningKey(), []any{f.opJWT, f.oldPub}, "do not include"},
		{"old key dropped", DoesNotListSigningKey(), []any{f.opJWT, f.oldPub}, ""},
		{"current key still there", DoesNotListSigningKey(), []any{f.opJWT, f.skPub}, "still include"},
		{"user JWT has no signing keys", ListsSigningKey(), []any{f.userJWT, f.skPub}, "has no signing keys"},
		{"null value", IssuedBy(), []any{nil, f.opPub}, "first value: expected a string"},
		{"wrong arity", IssuedBy(), []any{f.opJWT}, "exactly two values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkErr(t, tt.comparer.CompareValues(tt.values...), tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("expected an error containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

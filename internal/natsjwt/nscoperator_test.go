package natsjwt

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

// TestOperatorSpecFromClaims_roundTrip: a spec read from a signed operator renders the same
// operator again.
func TestOperatorSpecFromClaims_roundTrip(t *testing.T) {
	t.Parallel()
	identity := testSigner(t, KindOperator, "")
	spec := OperatorSpec{
		Name: "acme", StrictSigningKeys: true, AccountServerURL: "https://accounts.example.com/jwt/v1",
		OperatorServiceURLs: []string{"nats://a.example.com:4222", "tls://b.example.com:4222"},
		Tags:                []string{"env:prod", "team:blue"}, Expires: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC),
		SigningKeys: []string{testPub(t, KindOperator)}, SystemAccount: testPub(t, KindAccount),
	}
	token, err := BuildOperatorJWT(spec, identity)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	read := OperatorSpecFromClaims(c)
	if !reflect.DeepEqual(read.Spec, spec) || len(read.Ignored) != 0 {
		t.Fatalf("read back %+v (ignored %v), signed %+v", read.Spec, read.Ignored, spec)
	}
	c.AssertServerVersion = "2.10.0"
	if got := OperatorSpecFromClaims(c).Ignored; !reflect.DeepEqual(got, []string{"assert_server_version"}) {
		t.Errorf("ignored = %v", got)
	}
}

// nscTestStore writes an operator store as nsc lays it out and returns the operator JWT path.
type nscTestStore struct {
	t                   *testing.T
	root                string
	op, opSK, sys, user *Signer
	sysSK               *Signer
}

func newNSCTestStore(t *testing.T) *nscTestStore {
	s := &nscTestStore{t: t, root: filepath.Join(t.TempDir(), "stores", "acme")}
	s.op = testSigner(t, KindOperator, "")
	s.opSK = testSigner(t, KindOperator, s.op.PublicKey)
	s.sys = testSigner(t, KindAccount, "")
	s.sysSK = testSigner(t, KindAccount, s.sys.PublicKey)
	s.user = testSigner(t, KindUser, "")
	return s
}

func (s *nscTestStore) write(rel string, c jwt.Claims, by *Signer) string {
	s.t.Helper()
	token, err := c.Encode(by.KeyPair())
	if err != nil {
		s.t.Fatal(err)
	}
	file := filepath.Join(s.root, rel)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return file
}

func (s *nscTestStore) operatorJWT(sysAccount string) string {
	oc := jwt.NewOperatorClaims(s.op.PublicKey)
	oc.Name, oc.SystemAccount = "acme", sysAccount
	oc.SigningKeys.Add(s.opSK.PublicKey)
	return s.write("acme.jwt", oc, s.op)
}

func (s *nscTestStore) sysAccount(name string) {
	ac := jwt.NewAccountClaims(s.sys.PublicKey)
	ac.Name = name
	ac.SigningKeys.Add(s.sysSK.PublicKey)
	s.write(filepath.Join("accounts", name, name+".jwt"), ac, s.opSK)
}

func (s *nscTestStore) sysUser(account, name string) {
	uc := jwt.NewUserClaims(s.user.PublicKey)
	uc.Name, uc.IssuerAccount = name, s.sys.PublicKey
	s.write(filepath.Join("accounts", account, "users", name+".jwt"), uc, s.sysSK)
}

// TestReadNSCOperatorStore: the system account is found by key whatever its name, its user
// "sys" (or its only user) is the system user, and each missing piece fails naming the fix.
func TestReadNSCOperatorStore(t *testing.T) {
	t.Parallel()
	s := newNSCTestStore(t)
	path := s.operatorJWT(s.sys.PublicKey)
	other := testSigner(t, KindAccount, "")
	oc := jwt.NewAccountClaims(other.PublicKey)
	oc.Name = "ORDERS"
	s.write(filepath.Join("accounts", "ORDERS", "ORDERS.jwt"), oc, s.opSK)
	s.sysAccount("SYSTEM")
	if _, err := ReadNSCOperatorStore(path); err == nil || !strings.Contains(err.Error(), "has no user in") ||
		!strings.Contains(err.Error(), "nsc add user --account SYSTEM sys") {
		t.Fatalf("no system user: err = %v", err)
	}
	s.sysUser("SYSTEM", "admin")
	st, err := ReadNSCOperatorStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.SystemAccount.Name != "SYSTEM" || st.SystemUser.Name != "admin" || st.Operator.Name != "acme" {
		t.Fatalf("read %q, %q, %q", st.Operator.Name, st.SystemAccount.Name, st.SystemUser.Name)
	}

	second := testSigner(t, KindUser, "")
	uc := jwt.NewUserClaims(second.PublicKey)
	uc.Name, uc.IssuerAccount = "monitor", s.sys.PublicKey
	s.write(filepath.Join("accounts", "SYSTEM", "users", "monitor.jwt"), uc, s.sysSK)
	if _, err := ReadNSCOperatorStore(path); err == nil || !strings.Contains(err.Error(), `none is named "sys"`) {
		t.Fatalf("two system users: err = %v", err)
	}

	for name, tc := range map[string]struct{ path, want string }{
		"missing":        {path + ".missing", "does not exist; give the path of the operator JWT"},
		"account JWT":    {filepath.Join(s.root, "accounts", "ORDERS", "ORDERS.jwt"), "is not a valid operator JWT"},
		"no system acct": {newNSCTestStore(t).operatorJWT(""), "has no system account"},
		"sys not stored": {newNSCTestStore(t).operatorJWT(testPub(t, KindAccount)), "is not in its store"},
	} {
		if _, err := ReadNSCOperatorStore(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

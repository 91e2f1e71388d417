package resolver

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

func testOperatorClaims(t *testing.T, keys ...string) *jwt.OperatorClaims {
	t.Helper()
	pub, _, err := natsjwt.NewKey(natsjwt.KindOperator)
	if err != nil {
		t.Fatal(err)
	}
	c := jwt.NewOperatorClaims(pub)
	c.Name, c.StrictSigningKeyUsage, c.ID, c.IssuedAt = "acme", true, "jti-"+pub[:6], 1893456000
	c.SigningKeys.Add(keys...)
	return c
}

// TestTrustCheck covers the decisions of Check without a server: every server trusts the key;
// none does and nothing says it should (another operator); some do, or operator_jwt lists it
// (a rotation in progress, with the servers to restart); the identity key under strict
// signing keys, which no restart fixes.
func TestTrustCheck(t *testing.T) {
	t.Parallel()
	oldKey, _, _ := natsjwt.NewKey(natsjwt.KindOperator)
	newKey, _, _ := natsjwt.NewKey(natsjwt.KindOperator)
	old := testOperatorClaims(t, oldKey)
	rotated := *old
	rotated.SigningKeys = jwt.StringList{oldKey, newKey}
	rotated.ID = "jti-rotated"
	mixed := Trust{Servers: []ServerTrust{
		{Server: "n1", Operators: []*jwt.OperatorClaims{old}},
		{Server: "n2", Operators: []*jwt.OperatorClaims{&rotated}},
		{Server: "n3", Operators: []*jwt.OperatorClaims{old}},
	}}
	allOld := Trust{Servers: []ServerTrust{{Server: "n1", Operators: []*jwt.OperatorClaims{old}}}}
	withTarget := allOld
	withTarget.Target = &rotated

	cases := []struct {
		name   string
		trust  Trust
		issuer string
		want   []string // empty: accepted
		not    []string
	}{
		{name: "trusted everywhere", trust: mixed, issuer: oldKey},
		{name: "rotation half rolled out", trust: mixed, issuer: newKey, want: []string{
			"which n1, n3 do not trust yet: they run operator \"acme\"", "signing keys " + oldKey,
			"Restart n1, n3 with an operator JWT that lists " + newKey, "(n2 already trusts it)"}},
		{name: "operator_jwt lists the new key", trust: withTarget, issuer: newKey, want: []string{
			"which n1 does not trust yet: it runs", "Restart n1 with the operator JWT given in operator_jwt",
			"JWT issued 2030-01-01T00:00:00Z"}, not: []string{"already trust"}},
		{name: "another operator", trust: allOld, issuer: newKey, want: []string{"neither the operator the servers trust"}},
		{name: "identity under strict", trust: mixed, issuer: old.Subject, want: []string{"identity key of operator \"acme\""},
			not: []string{"Restart"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.trust.Check(tc.issuer)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want a refusal")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal must say %q:\n%v", w, err)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("the refusal must not say %q:\n%v", n, err)
				}
			}
		})
	}
}

package serverconfig

import (
	"fmt"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// fixture is an operator with a signing key, its system account, some accounts signed by
// the signing key, and a bearer sentinel user of the first non-system account.
type fixture struct {
	opKP, opSigner nkeys.KeyPair
	op             *jwt.OperatorClaims
	operatorJWT    string
	sys            string
	sysJWT         string
	accounts       []string // public keys, sys first
	accountJWTs    []string // same order as accounts
	accountKPs     []nkeys.KeyPair
	sentinel       string
}

// must keeps fixture code readable; key generation and signing only fail on a broken build.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newFixture(t testing.TB, extraAccounts int, mutateOperator ...func(*jwt.OperatorClaims)) *fixture {
	t.Helper()
	f := &fixture{}
	f.opKP = must(nkeys.CreateOperator())
	f.opSigner = must(nkeys.CreateOperator())
	opPub := must(f.opKP.PublicKey())
	sysKP := must(nkeys.CreateAccount())
	f.sys = must(sysKP.PublicKey())

	f.op = jwt.NewOperatorClaims(opPub)
	f.op.Name = "ACME"
	f.op.SigningKeys.Add(must(f.opSigner.PublicKey()))
	f.op.SystemAccount = f.sys
	for _, m := range mutateOperator {
		m(f.op)
	}
	f.operatorJWT = must(f.op.Encode(f.opKP))

	f.sysJWT = f.addAccount(t, sysKP, "SYS", f.opSigner)
	for i := range extraAccounts {
		f.addAccount(t, must(nkeys.CreateAccount()), fmt.Sprintf("APP%d", i), f.opSigner)
	}
	if extraAccounts > 0 {
		f.sentinel = f.user(t, 1, true)
	}
	return f
}

func (f *fixture) addAccount(t testing.TB, kp nkeys.KeyPair, name string, signer nkeys.KeyPair) string {
	t.Helper()
	pub := must(kp.PublicKey())
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	token := must(ac.Encode(signer))
	f.accounts = append(f.accounts, pub)
	f.accountJWTs = append(f.accountJWTs, token)
	f.accountKPs = append(f.accountKPs, kp)
	return token
}

// user issues a user JWT of account i.
func (f *fixture) user(t testing.TB, i int, bearer bool) string {
	t.Helper()
	ukp := must(nkeys.CreateUser())
	uc := jwt.NewUserClaims(must(ukp.PublicKey()))
	uc.Name = "sentinel"
	uc.BearerToken = bearer
	return must(uc.Encode(f.accountKPs[i]))
}

func (f *fixture) input() Input {
	return Input{
		OperatorJWT:   f.operatorJWT,
		SystemAccount: f.sys,
		AccountJWTs:   append([]string(nil), f.accountJWTs...),
	}
}

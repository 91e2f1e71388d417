package serverconfig

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// account is one decoded account JWT.
type account struct {
	token  string
	claims *jwt.AccountClaims
}

// parallelDecodeMin is the account count from which decoding is spread over all CPUs: each
// decode is an ed25519 verification (~50-80 µs), which dominates rendering large configs.
const parallelDecodeMin = 64

// decodeAccounts verifies and decodes every account JWT. Results keep input positions so
// errors name the element the user passed; ordering of the output is done by the caller.
func decodeAccounts(tokens []string) ([]account, []error) {
	accounts := make([]account, len(tokens))
	errs := make([]error, len(tokens))
	decode := func(i int) {
		t := strings.TrimSpace(tokens[i])
		ac, err := jwt.DecodeAccountClaims(t)
		if err != nil {
			errs[i] = describeDecodeError(t, "account", err)
			return
		}
		accounts[i] = account{token: t, claims: ac}
	}
	workers := min(runtime.GOMAXPROCS(0), len(tokens)/parallelDecodeMin)
	if workers <= 1 {
		for i := range tokens {
			decode(i)
		}
		return accounts, errs
	}
	var wg sync.WaitGroup
	chunk := (len(tokens) + workers - 1) / workers
	for start := 0; start < len(tokens); start += chunk {
		end := min(start+chunk, len(tokens))
		wg.Go(func() {
			for i := start; i < end; i++ {
				decode(i)
			}
		})
	}
	wg.Wait()
	return accounts, errs
}

// describeDecodeError explains why token is not a valid JWT of the wanted kind, naming the
// kind it actually is when it decodes as something else (a user JWT where an account JWT
// belongs is the common mistake).
func describeDecodeError(token, want string, err error) error {
	if token == "" {
		return fmt.Errorf("is empty; expected %s JWT", article(want))
	}
	if !strings.HasPrefix(token, "eyJ") {
		return fmt.Errorf("is not a JWT (JWTs start with \"eyJ\"); expected %s JWT, not a key, seed or creds file", article(want))
	}
	if gc, gerr := jwt.DecodeGeneric(token); gerr == nil {
		if got := string(gc.ClaimType()); got != want {
			return fmt.Errorf("is %s JWT (subject %s), but %s JWT is expected here", article(got), gc.Subject, article(want))
		}
	}
	return fmt.Errorf("is not a valid %s JWT (%v); pass the JWT exactly as issued, a changed character breaks its signature", want, err)
}

// checkAccounts validates the decoded accounts against the operator and the system account
// and returns them sorted by public key.
func checkAccounts(op *jwt.OperatorClaims, sys string, accounts []account, decodeErrs []error, errs *FieldErrors) []account {
	for i, err := range decodeErrs {
		if err != nil {
			errs.add("account_jwts", "element %d %v", i+1, err)
		}
	}
	valid := make([]account, 0, len(accounts))
	for _, a := range accounts {
		if a.claims != nil {
			valid = append(valid, a)
		}
	}
	slices.SortStableFunc(valid, func(a, b account) int { return cmp.Compare(a.claims.Subject, b.claims.Subject) })
	for i := 1; i < len(valid); i++ {
		if valid[i].claims.Subject == valid[i-1].claims.Subject {
			// Report each duplicated key once however often it repeats.
			if i == 1 || valid[i-2].claims.Subject != valid[i].claims.Subject {
				errs.add("account_jwts", "account %s (%q) is listed more than once; pass exactly one JWT per account (the newest)",
					valid[i].claims.Subject, valid[i].claims.Name)
			}
		}
	}
	if op != nil {
		for _, a := range valid {
			checkIssuer(op, a.claims, errs)
		}
	}
	switch {
	case sys == "":
	case len(accounts) == 0:
		errs.add("account_jwts", "is empty; pass every account JWT, at least the system account %s", sys)
	case !hasErrors(decodeErrs):
		// With decode errors the system account may be the broken element, already reported.
		if _, found := slices.BinarySearchFunc(valid, sys, bySubject); !found {
			errs.add("account_jwts", "the system account %s is not among the account JWTs; add its JWT (the server needs it to start)", sys)
		}
	}
	return valid
}

func checkIssuer(op *jwt.OperatorClaims, ac *jwt.AccountClaims, errs *FieldErrors) {
	err := natsjwt.CheckAccountIssuer(op, ac.Issuer)
	if err == nil {
		return
	}
	if errors.Is(err, natsjwt.ErrIdentityUnderStrict) {
		errs.add("account_jwts", "account %s (%q) is signed by the operator identity key, but operator %q requires signing keys "+
			"(strict_signing_key_usage); re-sign the account with one of the operator's signing keys", ac.Subject, ac.Name, op.Name)
		return
	}
	errs.add("account_jwts", "account %s (%q) is issued by %s, which is neither operator %q (%s) nor one of its signing keys; "+
		"re-sign it with this operator or remove it", ac.Subject, ac.Name, ac.Issuer, op.Name, op.Subject)
}

func hasErrors(errs []error) bool {
	return slices.ContainsFunc(errs, func(e error) bool { return e != nil })
}

// decodeOperator decodes the operator JWT and settles the system account.
func decodeOperator(in Input, errs *FieldErrors) (*jwt.OperatorClaims, string) {
	token := strings.TrimSpace(in.OperatorJWT)
	op, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		errs.add("operator_jwt", "%v", describeDecodeError(token, "operator", err))
		op = nil
	}
	sys := strings.TrimSpace(in.SystemAccount)
	if sys != "" {
		if err := natsjwt.ValidatePublicKey(sys, natsjwt.KindAccount); err != nil {
			errs.add("system_account", "%v", err)
			return op, ""
		}
	}
	if op == nil {
		return nil, sys
	}
	switch {
	case sys == "" && op.SystemAccount == "":
		errs.add("system_account", "is not set and operator %q names no system account; set system_account to the system account's public key", op.Name)
	case sys == "":
		sys = op.SystemAccount
	case op.SystemAccount != "" && op.SystemAccount != sys:
		errs.add("system_account", "%s differs from the operator JWT's system account %s; nats-server requires them to be identical, "+
			"so leave system_account unset or set it to %s", sys, op.SystemAccount, op.SystemAccount)
	}
	return op, sys
}

// checkSentinel verifies that the default sentinel is a bearer user JWT of one of the
// given accounts; the server itself only checks the bearer flag, and a sentinel from an
// unknown account fails every client connect at runtime instead of at plan time.
func checkSentinel(token string, accounts []account, errs *FieldErrors) string {
	token = strings.TrimSpace(token)
	if token == "" {
		return ""
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		errs.add("default_sentinel", "%v", describeDecodeError(token, "user", err))
		return token
	}
	if !uc.BearerToken {
		errs.add("default_sentinel", "user %s (%q) is not a bearer token; issue the sentinel user with bearer_token = true "+
			"(clients present it without a signature)", uc.Subject, uc.Name)
	}
	owner := uc.IssuerAccount
	if owner == "" {
		owner = uc.Issuer
	}
	i, found := slices.BinarySearchFunc(accounts, owner, bySubject)
	switch {
	case !found:
		errs.add("default_sentinel", "user %s (%q) belongs to account %s, which is not among account_jwts; add that account "+
			"(usually the auth-callout account) or use a sentinel of one of the listed accounts", uc.Subject, uc.Name, owner)
	case !accounts[i].claims.DidSign(uc):
		errs.add("default_sentinel", "user %s (%q) is signed by %s, which is neither account %s nor one of its signing keys; "+
			"re-issue the sentinel with that account", uc.Subject, uc.Name, uc.Issuer, owner)
	}
	return token
}

func sortFieldErrors(errs FieldErrors) {
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return cmp.Compare(a.Field, b.Field) })
}

func bySubject(a account, key string) int { return cmp.Compare(a.claims.Subject, key) }

func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeio", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

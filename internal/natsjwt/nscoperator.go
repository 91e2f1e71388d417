package natsjwt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// OperatorFromClaims is an operator JWT's content as a spec; Ignored lists what the JWT carries
// that natsping does not model (and drops when it re-signs the operator).
type OperatorFromClaims struct {
	Spec    OperatorSpec
	Ignored []string
}

// OperatorSpecFromClaims is the inverse of BuildOperatorJWT (TestOperatorSpecFromClaims_roundTrip).
func OperatorSpecFromClaims(c *jwt.OperatorClaims) OperatorFromClaims {
	s := OperatorSpec{
		Name:                c.Name,
		StrictSigningKeys:   c.StrictSigningKeyUsage,
		AccountServerURL:    c.AccountServerURL,
		OperatorServiceURLs: append([]string(nil), c.OperatorServiceURLs...),
		Tags:                append([]string(nil), c.Tags...),
		SigningKeys:         append([]string(nil), c.SigningKeys...),
		SystemAccount:       c.SystemAccount,
	}
	sort.Strings(s.Tags)
	if c.Expires != 0 {
		s.Expires = time.Unix(c.Expires, 0).UTC()
	}
	var ignored []string
	if c.AssertServerVersion != "" {
		ignored = append(ignored, "assert_server_version")
	}
	if c.NotBefore != 0 {
		ignored = append(ignored, "a not-before time")
	}
	return OperatorFromClaims{Spec: s, Ignored: ignored}
}

// NSCOperatorStore is what an nsc store holds about an operator: its JWT, its system account
// (nsc's `--sys` puts it at <stores>/<op>/accounts/SYS/SYS.jwt) and that account's system user
// (…/accounts/SYS/users/sys.jwt). The tokens are kept as read.
type NSCOperatorStore struct {
	Operator                       *jwt.OperatorClaims
	OperatorJWT                    string
	SystemAccount                  *jwt.AccountClaims
	SystemAccountJWT, SystemAccDir string
	SystemUser                     *jwt.UserClaims
	SystemUserJWT                  string
}

// ReadNSCOperatorStore reads the operator JWT at path (<stores>/<op>/<op>.jwt) and finds its
// system account and system user in the same store. The system account is found by its public
// key, not by name, since nsc lets it be named anything; of its users the one named "sys" (nsc's
// name) is the system user, otherwise the only one.
func ReadNSCOperatorStore(path string) (*NSCOperatorStore, error) {
	path = expandHome(path)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist; give the path of the operator JWT in the nsc store, <stores>/<operator>/<operator>.jwt "+
			"(`nsc env` shows the stores directory)", path)
	}
	token, err := ReadJWTFile(path)
	if err != nil {
		return nil, err
	}
	op, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid operator JWT (%v); import operators by the path of the operator JWT in the nsc store, <stores>/<operator>/<operator>.jwt", path, err)
	}
	s := &NSCOperatorStore{Operator: op, OperatorJWT: token}
	root := filepath.Dir(path)
	accounts := filepath.Join(root, "accounts")
	if op.SystemAccount == "" {
		return nil, fmt.Errorf("operator %q (%s) has no system account, which natsping_operator always manages; add one with "+
			"`nsc add account SYS` and `nsc edit operator --system-account SYS`, then import again", op.Name, path)
	}
	dirs, _ := filepath.Glob(filepath.Join(accounts, "*"))
	for _, dir := range dirs {
		file := filepath.Join(dir, filepath.Base(dir)+".jwt")
		t, err := ReadJWTFile(file)
		if err != nil {
			continue
		}
		if ac, err := jwt.DecodeAccountClaims(t); err == nil && ac.Subject == op.SystemAccount {
			s.SystemAccount, s.SystemAccountJWT, s.SystemAccDir = ac, t, dir
			break
		}
	}
	if s.SystemAccount == nil {
		return nil, fmt.Errorf("the system account %s of operator %q is not in its store (looked at %s); import the "+
			"operator from the store nsc made it in", op.SystemAccount, op.Name, filepath.Join(accounts, "<name>", "<name>.jwt"))
	}
	if !op.DidSign(s.SystemAccount) {
		return nil, fmt.Errorf("the system account %q in %s was signed by %s, which is neither operator %q nor one of its signing keys",
			s.SystemAccount.Name, s.SystemAccDir, s.SystemAccount.Issuer, op.Name)
	}
	if err := s.findSystemUser(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *NSCOperatorStore) findSystemUser() error {
	users := filepath.Join(s.SystemAccDir, "users")
	files, _ := filepath.Glob(filepath.Join(users, "*.jwt"))
	type found struct {
		c     *jwt.UserClaims
		token string
	}
	var all []found
	for _, file := range files {
		t, err := ReadJWTFile(file)
		if err != nil {
			continue
		}
		if uc, err := jwt.DecodeUserClaims(t); err == nil && s.SystemAccount.DidSign(uc) {
			all = append(all, found{uc, t})
		}
	}
	var names []string
	for _, u := range all {
		if u.c.Name == DefaultSystemUserName {
			s.SystemUser, s.SystemUserJWT = u.c, u.token
			return nil
		}
		names = append(names, fmt.Sprintf("%q", u.c.Name))
	}
	switch len(all) {
	case 0:
		return fmt.Errorf("the system account %q has no user in %s; natsping_operator manages one system user: add it with "+
			"`nsc add user --account %s %s`, then import again", s.SystemAccount.Name, users, s.SystemAccount.Name, DefaultSystemUserName)
	case 1:
		s.SystemUser, s.SystemUserJWT = all[0].c, all[0].token
		return nil
	}
	return fmt.Errorf("the system account %q has users %s in %s and none is named %q; natsping_operator manages one system "+
		"user: name the one it should manage %q (import the others as natsping_user)", s.SystemAccount.Name,
		strings.Join(names, ", "), users, DefaultSystemUserName, DefaultSystemUserName)
}

// SystemUserSeed finds the system user's seed in the keystore by public key or, failing that, in
// the creds file nsc wrote for it (<keystore>/creds/<op>/<account>/<user>.creds).
func (s *NSCOperatorStore) SystemUserSeed(ks NSCKeystore) (string, error) {
	seed, err := ks.Seed(s.SystemUser.Subject)
	if !errors.Is(err, ErrSeedNotInKeystore) {
		return seed, err
	}
	creds := ks.CredsPath(s.Operator.Name, s.SystemAccount.Name, s.SystemUser.Name)
	if _, statErr := os.Stat(creds); statErr != nil {
		return "", fmt.Errorf("%w, nor in its creds file %s", err, creds)
	}
	token, seed, err := ReadCreds(creds)
	if err != nil {
		return "", err
	}
	if uc, err := jwt.DecodeUserClaims(token); err != nil || uc.Subject != s.SystemUser.Subject {
		return "", fmt.Errorf("%s is not the creds file of system user %s", creds, s.SystemUser.Subject)
	}
	return seed, nil
}

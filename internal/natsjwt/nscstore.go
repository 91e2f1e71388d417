package natsjwt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// The layout nsc writes (nats-io/nsc home/home.go, cmd/store/store.go, cmd/store/keys.go):
//
//	<stores>/<operator>/<operator>.jwt
//	<stores>/<operator>/accounts/<account>/<account>.jwt
//	<stores>/<operator>/accounts/<account>/users/<user>.jwt
//	<keystore>/keys/<kind letter>/<2nd and 3rd letters of the key>/<public key>.nk   (the seed)
//	<keystore>/creds/<operator>/<account>/<user>.creds
//
// <keystore> is $NKEYS_PATH, else $XDG_DATA_HOME/nats/nsc/keys (~/.local/share/nats/nsc/keys),
// else the pre-XDG ~/.nkeys when only that exists; <stores> is $XDG_DATA_HOME/nats/nsc/stores
// (the pre-XDG ~/.nsc/nats likewise) unless nsc was pointed elsewhere.

// NSCKeystoreEnv is the variable nsc reads the keystore directory from.
const NSCKeystoreEnv = "NKEYS_PATH"

// ErrSeedNotInKeystore marks a key whose seed the keystore does not hold.
var ErrSeedNotInKeystore = errors.New("seed not in the keystore")

// NSCKeystore is an nsc keystore directory.
type NSCKeystore struct{ Dir string }

// NSCDefaultKeystore is the keystore nsc itself uses in this environment.
func NSCDefaultKeystore() NSCKeystore {
	if dir := os.Getenv(NSCKeystoreEnv); dir != "" {
		return NSCKeystore{Dir: expandHome(dir)}
	}
	return NSCKeystore{Dir: nscDataDir("keys", ".nkeys")}
}

// NSCDefaultStores is the directory nsc keeps operator stores in by default.
func NSCDefaultStores() string { return nscDataDir("stores", filepath.Join(".nsc", "nats")) }

func nscDataDir(sub, legacy string) string {
	home, _ := os.UserHomeDir()
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		data = filepath.Join(home, ".local", "share")
	}
	dir := filepath.Join(data, "nats", "nsc", sub)
	if _, err := os.Stat(dir); err != nil && home != "" {
		if _, err := os.Stat(filepath.Join(home, legacy)); err == nil {
			return filepath.Join(home, legacy)
		}
	}
	return dir
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// KeyPath is where nsc keeps the seed of public key pub.
func (k NSCKeystore) KeyPath(pub string) string {
	if len(pub) < 3 {
		return filepath.Join(k.Dir, "keys", pub+".nk")
	}
	return filepath.Join(k.Dir, "keys", pub[:1], pub[1:3], pub+".nk")
}

// CredsPath is where nsc keeps a user's creds file.
func (k NSCKeystore) CredsPath(operator, account, user string) string {
	return filepath.Join(k.Dir, "creds", operator, account, user+".creds")
}

// Seed reads the seed of pub. Errors name the file, never its content; a missing file wraps
// ErrSeedNotInKeystore.
func (k NSCKeystore) Seed(pub string) (string, error) {
	file := k.KeyPath(pub)
	raw, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: the seed of %s is not at %s; point %s at the keystore nsc uses (`nsc env` shows it)",
			ErrSeedNotInKeystore, pub, file, NSCKeystoreEnv)
	}
	if err != nil {
		return "", fmt.Errorf("reading the seed of %s: %w", pub, err)
	}
	seed := strings.TrimSpace(string(raw))
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return "", fmt.Errorf("%s does not hold an nkey seed", file)
	}
	if got, _ := kp.PublicKey(); got != pub {
		return "", fmt.Errorf("%s holds the seed of %s, not of %s; the keystore is damaged", file, got, pub)
	}
	return seed, nil
}

// ReadJWTFile reads a JWT from a file (a bare JWT or a decorated one, as nsc exports them).
func ReadJWTFile(path string) (string, error) {
	path = expandHome(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s does not exist; give the path of the JWT file, e.g. <nsc stores>/<operator>/accounts/<name>/<name>.jwt", path)
		}
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	token, err := jwt.ParseDecoratedJWT(raw)
	if err != nil || strings.Count(token, ".") != 2 {
		return "", fmt.Errorf("%s does not contain a JWT", path)
	}
	return strings.TrimSpace(token), nil
}

// NSCStoreOperator reads the operator JWT of the nsc store an account or user JWT path lies in
// (<stores>/<op>/accounts/<acc>/<acc>.jwt or …/<acc>/users/<user>.jwt); nil when the path is not
// inside a store.
func NSCStoreOperator(path string) (*jwt.OperatorClaims, error) {
	dir := filepath.Dir(expandHome(path))
	if filepath.Base(dir) == "users" {
		dir = filepath.Dir(dir)
	}
	accounts := filepath.Dir(dir)
	if filepath.Base(accounts) != "accounts" {
		return nil, nil
	}
	root := filepath.Dir(accounts)
	file := filepath.Join(root, filepath.Base(root)+".jwt")
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return nil, nil // a store without its operator JWT: the operator stays unknown
	}
	token, err := ReadJWTFile(file)
	if err != nil {
		return nil, err
	}
	op, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid operator JWT: %v", file, err)
	}
	return op, nil
}

// NSCUserAccountJWT finds the account JWT that belongs to a user file of nsc: beside a user JWT
// in a store (…/accounts/<acc>/users/<user>.jwt → …/accounts/<acc>/<acc>.jwt), or, for a creds
// file in the keystore (<keystore>/creds/<op>/<acc>/<user>.creds), in the store of that operator
// under stores. "" when there is none.
func NSCUserAccountJWT(path, stores string) string {
	path = expandHome(path)
	dir := filepath.Dir(path)
	var candidate string
	switch {
	case filepath.Base(dir) == "users":
		acc := filepath.Dir(dir)
		candidate = filepath.Join(acc, filepath.Base(acc)+".jwt")
	case strings.HasSuffix(path, ".creds") && filepath.Base(filepath.Dir(filepath.Dir(dir))) == "creds":
		acc, op := filepath.Base(dir), filepath.Base(filepath.Dir(dir))
		candidate = filepath.Join(stores, op, "accounts", acc, acc+".jwt")
	}
	if candidate == "" {
		return ""
	}
	if _, err := os.Stat(candidate); err != nil {
		return ""
	}
	return candidate
}

// ReadCreds reads a creds file: the user JWT and its seed. Errors never repeat the content.
func ReadCreds(path string) (token, seed string, err error) {
	path = expandHome(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("%s does not exist; give the path of the user's .creds file", path)
		}
		return "", "", fmt.Errorf("reading %s: %w", path, err)
	}
	token, err = jwt.ParseDecoratedJWT(raw)
	if err != nil || strings.Count(token, ".") != 2 {
		return "", "", fmt.Errorf("%s is not a creds file: it holds no user JWT", path)
	}
	kp, err := jwt.ParseDecoratedUserNKey(raw)
	if err != nil {
		return "", "", fmt.Errorf("%s is not a creds file: it holds no user seed (SU…)", path)
	}
	s, err := kp.Seed()
	if err != nil {
		return "", "", fmt.Errorf("%s is not a creds file: it holds no user seed (SU…)", path)
	}
	return token, string(s), nil
}

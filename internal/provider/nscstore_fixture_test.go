package provider

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// nscFixture writes an nsc environment the way nsc lays it out (home/home.go, cmd/store):
// stores under $XDG_DATA_HOME/nats/nsc/stores and the keystore in $NKEYS_PATH. It sets both
// variables for the test, so the provider (running in-process) finds them as nsc would.
type nscFixture struct {
	t        *testing.T
	stores   string
	keystore natsjwt.NSCKeystore
}

func newNSCFixture(t *testing.T) *nscFixture {
	t.Helper()
	data := t.TempDir()
	f := &nscFixture{t: t, stores: filepath.Join(data, "nats", "nsc", "stores"), keystore: natsjwt.NSCKeystore{Dir: filepath.Join(data, "nats", "nsc", "keys")}}
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv(natsjwt.NSCKeystoreEnv, f.keystore.Dir)
	return f
}

func (f *nscFixture) write(file string, content []byte) string {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(file, content, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return file
}

// key creates a key pair of kind and stores its seed in the keystore, as nsc does for every key
// it generates.
func (f *nscFixture) key(kind nkeys.PrefixByte) (string, nkeys.KeyPair) {
	f.t.Helper()
	kp, err := nkeys.CreatePair(kind)
	if err != nil {
		f.t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	f.storeSeed(kp)
	return pub, kp
}

func (f *nscFixture) storeSeed(kp nkeys.KeyPair) {
	f.t.Helper()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	f.write(f.keystore.KeyPath(pub), seed)
}

// seedString stores a seed given as text (from a Terraform state) in the keystore.
func (f *nscFixture) seedString(seed string) {
	f.t.Helper()
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		f.t.Fatal(err)
	}
	f.storeSeed(kp)
}

// operator writes the store of operator name with its JWT and the .nsc file nsc keeps beside it.
func (f *nscFixture) operator(name, token string) {
	f.t.Helper()
	dir := filepath.Join(f.stores, name)
	info, _ := json.Marshal(map[string]any{"managed": false, "name": name, "kind": jwt.OperatorClaim, "version": "1"})
	f.write(filepath.Join(dir, ".nsc"), info)
	f.write(filepath.Join(dir, name+".jwt"), []byte(token))
	_ = os.MkdirAll(filepath.Join(dir, "accounts"), 0o700)
}

// account writes an account JWT where nsc stores it and returns the path.
func (f *nscFixture) account(operator, name, token string) string {
	return f.write(filepath.Join(f.stores, operator, "accounts", name, name+".jwt"), []byte(token))
}

// user writes a user JWT into the store and its creds into the keystore, as `nsc add user`
// does, and returns both paths.
func (f *nscFixture) user(operator, account, name, token string, kp nkeys.KeyPair) (jwtPath, credsPath string) {
	f.t.Helper()
	jwtPath = f.write(filepath.Join(f.stores, operator, "accounts", account, "users", name+".jwt"), []byte(token))
	if kp != nil {
		seed, _ := kp.Seed()
		creds, err := jwt.FormatUserConfig(token, seed)
		if err != nil {
			f.t.Fatal(err)
		}
		credsPath = f.write(f.keystore.CredsPath(operator, account, name), creds)
	}
	return jwtPath, credsPath
}

func encodeClaims(t *testing.T, c interface {
	Encode(nkeys.KeyPair) (string, error)
}, kp nkeys.KeyPair) string {
	t.Helper()
	token, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

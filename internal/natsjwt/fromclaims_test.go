package natsjwt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

// TestAccountSpecFromClaims_roundTrip: a spec read from a signed account renders the same
// claims again, for every part of the account natsping models.
func TestAccountSpecFromClaims_roundTrip(t *testing.T) {
	t.Parallel()
	operator := testSigner(t, KindOperator, "")
	account, importer := testPub(t, KindAccount), testPub(t, KindAccount)
	spec := AccountSpec{
		Name: "ORDERS", Description: "orders", InfoURL: "https://wiki.example.com/orders",
		Tags: []string{"team:blue", "env:prod"}, Expires: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC),
		Limits: AccountLimits{Conn: Limit(100), Payload: Limit(0), DisallowBearer: true},
		JetStream: &JetStreamSpec{Tiers: map[string]JetStreamLimits{
			"R1": {MemoryStorage: Limit(1 << 20), DiskStorage: Limit(-1), MaxAckPending: Limit(10)},
			"R3": {DiskStorage: Limit(1 << 30), MaxBytesRequired: true},
		}},
		Exports: []ExportSpec{
			{Type: KindService, Subject: "orders.get", Name: "get", Description: "lookup", TokenRequired: true,
				ResponseType: jwt.ResponseTypeStream, ResponseThreshold: 5 * time.Second, Advertise: true, AllowTrace: true,
				RevokedActivations: Revocations{Keys: map[string]string{importer: "2026-11-30T00:00:00Z"}, AllBefore: "2026-01-01T00:00:00Z"}},
			{Type: KindStream, Subject: "orders.*.events", AccountTokenPosition: 2},
		},
		Imports:            []ImportSpec{{Type: KindStream, Subject: "billing.>", Account: importer, LocalSubject: "from-billing.>", AllowTrace: true}},
		SigningKeys:        []string{testPub(t, KindAccount)},
		DefaultPermissions: Permissions{SubAllow: []string{"_INBOX.>"}},
		Roles: []RoleSpec{{Name: "reader", Description: "reads", PublicKey: testPub(t, KindAccount),
			Permissions: Permissions{SubAllow: []string{"orders.{{tag(team)}}.>"}, Response: &ResponsePermission{MaxMsgs: 1, Expires: time.Second}},
			Limits:      UserLimits{Subs: 10, Bearer: true, SourceNetworks: []string{"10.0.0.0/8"}}}},
		Authorization: &ExternalAuth{AuthUsers: []string{testPub(t, KindUser)}, AllowedAccounts: []string{"*"}, XKey: testPub(t, KindCurve)},
		RevokedUsers:  Revocations{Keys: map[string]string{testPub(t, KindUser): "2026-11-30T00:00:00Z"}, AllBefore: "2026-06-01T00:00:00Z"},
	}
	token, err := SignAccount(spec, account, operator)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AccountSpecFromClaims(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ignored) != 0 {
		t.Errorf("ignored %v", got.Ignored)
	}
	if err := got.Spec.Validate(ValidateOptions{AccountPublicKey: account}); err != nil {
		t.Fatalf("the spec read back does not validate: %v", err)
	}
	if a, b := mustJSON(t, spec.claims(account).Account), mustJSON(t, got.Spec.claims(account).Account); a != b {
		t.Fatalf("claims differ after the round trip:\n%s\n%s", a, b)
	}

	// A scoped key without a role name cannot become a role.
	c.SigningKeys = jwt.SigningKeys{}
	scope := jwt.NewUserScope()
	scope.Key = testPub(t, KindAccount)
	c.SigningKeys.AddScopedSigner(scope)
	if _, err := AccountSpecFromClaims(c); err == nil || !strings.Contains(err.Error(), "has no role name") {
		t.Fatalf("unnamed scope: %v", err)
	}
}

func TestUserSpecFromClaims(t *testing.T) {
	t.Parallel()
	account := testPub(t, KindAccount)
	signing := testSigner(t, KindAccount, account)
	user := testPub(t, KindUser)
	spec := UserSpec{Name: "svc", PublicKey: user, Account: account, Tags: []string{"team:blue"},
		Permissions: Permissions{PubAllow: []string{"orders.>"}}, Limits: UserLimits{Payload: 1024, AllowedConnectionTypes: []string{jwt.ConnectionTypeStandard}},
		Expires: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}
	token, err := BuildUserJWT(spec, signing)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeUserClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	got := UserSpecFromClaims(c)
	if mustJSON(t, got.Spec) != mustJSON(t, spec) || got.Issuer != signing.PublicKey || got.IssuerAccount != account || got.Scoped {
		t.Fatalf("got %+v", got)
	}
}

// TestNSCKeystore: seeds are found where nsc writes them, by public key; a missing or foreign
// seed is an error that names the file and never the content.
func TestNSCKeystore(t *testing.T) {
	dir := t.TempDir()
	ks := NSCKeystore{Dir: dir}
	pub, seed, _ := NewKey(KindAccount)
	want := filepath.Join(dir, "keys", "A", pub[1:3], pub+".nk")
	if ks.KeyPath(pub) != want {
		t.Fatalf("KeyPath = %s, want %s", ks.KeyPath(pub), want)
	}
	if _, err := ks.Seed(pub); !errors.Is(err, ErrSeedNotInKeystore) || !strings.Contains(err.Error(), want) {
		t.Fatalf("missing seed: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(want), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ks.Seed(pub); err != nil || got != seed {
		t.Fatalf("Seed = %v", err)
	}
	other, otherSeed, _ := NewKey(KindAccount)
	_ = os.MkdirAll(filepath.Dir(ks.KeyPath(other)), 0o700)
	if err := os.WriteFile(ks.KeyPath(other), []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Seed(other); err == nil || strings.Contains(err.Error(), seed) || strings.Contains(err.Error(), otherSeed) {
		t.Fatalf("foreign seed: %v", err)
	}

	t.Setenv(NSCKeystoreEnv, dir)
	if NSCDefaultKeystore().Dir != dir {
		t.Fatal("NKEYS_PATH is not the keystore")
	}
	t.Setenv(NSCKeystoreEnv, "")
	t.Setenv("XDG_DATA_HOME", dir)
	if got := NSCDefaultKeystore().Dir; got != filepath.Join(dir, "nats", "nsc", "keys") {
		t.Fatalf("default keystore %s", got)
	}
	if got := NSCDefaultStores(); got != filepath.Join(dir, "nats", "nsc", "stores") {
		t.Fatalf("default stores %s", got)
	}
	if got := NSCUserAccountJWT(ks.CredsPath("acme", "ORDERS", "rita"), NSCDefaultStores()); got != "" {
		t.Fatalf("an account JWT that does not exist was found: %s", got)
	}
}

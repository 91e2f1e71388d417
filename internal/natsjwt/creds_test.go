package natsjwt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

func TestFormatCredsReadByNatsGo(t *testing.T) {
	t.Parallel()
	_, acc := mustKey(t, KindAccount)
	userPub, userSeed, token, creds, err := NewUserCreds(UserSpec{Name: "alice"}, acc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "alice.creds")
	if err := os.WriteFile(file, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	// nats.UserCredentials reads the file with exactly these two parsers.
	contents, _ := os.ReadFile(file)
	gotJWT, err := nkeys.ParseDecoratedJWT(contents)
	if err != nil || gotJWT != token {
		t.Fatalf("ParseDecoratedJWT = %q, %v; want the user JWT", gotJWT, err)
	}
	kp, err := nkeys.ParseDecoratedNKey(contents)
	if err != nil {
		t.Fatal(err)
	}
	if pub, _ := kp.PublicKey(); pub != userPub {
		t.Errorf("creds seed belongs to %s, want %s", pub, userPub)
	}
	if seed, _ := kp.Seed(); string(seed) != userSeed {
		t.Error("creds seed differs from the returned seed")
	}
}

func TestFormatCredsRejectsMismatch(t *testing.T) {
	t.Parallel()
	_, acc := mustKey(t, KindAccount)
	_, _, token, _, err := NewUserCreds(UserSpec{Name: "alice"}, acc)
	if err != nil {
		t.Fatal(err)
	}
	_, otherSeed, _ := NewKey(KindUser)
	_, accSeed, _ := NewKey(KindAccount)
	tests := []struct {
		name, seed, want string
	}{
		{"seed of another user", otherSeed, "does not match the jwt subject"},
		{"account seed", accSeed, "an user seed (SU…) is expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := FormatCreds(token, tt.seed)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCredsConnectToServer proves the whole chain against a real nats-server: a strict
// operator, its system account and user, and a user signed by a role whose template the
// server enforces.
func TestCredsConnectToServer(t *testing.T) {
	t.Parallel()
	_, opID := mustKey(t, KindOperator)
	skPub, sk := mustKey(t, KindOperator)
	sysPub, _ := mustKey(t, KindAccount)
	sysSKPub, sysSKRaw := mustKey(t, KindAccount)
	appPub, app := mustKey(t, KindAccount)
	rolePub, roleRaw := mustKey(t, KindAccount)

	opJWT, err := BuildOperatorJWT(OperatorSpec{Name: "acme", StrictSigningKeys: true, SigningKeys: []string{skPub}, SystemAccount: sysPub}, opID)
	if err != nil {
		t.Fatal(err)
	}
	sysJWT, err := BuildSystemAccountJWT(SystemAccountSpec{Name: "SYS", PublicKey: sysPub, SigningKey: sysSKPub}, sk)
	if err != nil {
		t.Fatal(err)
	}
	// The application account is the account helper's business; build a minimal one here.
	ac := jwt.NewAccountClaims(appPub)
	ac.Name = "APP"
	scope := jwt.NewUserScope()
	scope.Key = rolePub
	scope.Role = "readers"
	scope.Template.Sub.Allow.Add("orders.{{tag(team)}}.>")
	ac.SigningKeys.AddScopedSigner(scope)
	appJWT, err := ac.Encode(sk.KeyPair())
	if err != nil {
		t.Fatal(err)
	}
	opc, err := jwt.DecodeOperatorClaims(opJWT)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	_ = resolver.Store(sysPub, sysJWT)
	_ = resolver.Store(appPub, appJWT)
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		TrustedOperators: []*jwt.OperatorClaims{opc}, SystemAccount: sysPub, AccountResolver: resolver})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}

	write := func(creds string) string {
		f := filepath.Join(t.TempDir(), "user.creds")
		if err := os.WriteFile(f, []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}

	// Under a strict operator the server refuses users signed by an account identity key,
	// so the system user is signed by the system account's signing key, as nsc does.
	sysSK, _ := NewSigner(sysPub, "", sysSKRaw.Seed, KindAccount)
	_, _, _, sysCreds, err := NewUserCreds(UserSpec{Name: "sys"}, sysSK)
	if err != nil {
		t.Fatal(err)
	}
	sysConn, err := nats.Connect(s.ClientURL(), nats.UserCredentials(write(sysCreds)))
	if err != nil {
		t.Fatalf("system user cannot connect: %v", err)
	}
	defer sysConn.Close()
	if _, err := sysConn.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second); err != nil {
		t.Fatalf("system user is not in the system account: %v", err)
	}

	// Strict operators make the server refuse users signed by an account identity key; the
	// provider documents this, and this check keeps that statement honest.
	_, _, _, identityCreds, err := NewUserCreds(UserSpec{Name: "dave"}, app)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := nats.Connect(s.ClientURL(), nats.UserCredentials(write(identityCreds))); err == nil {
		c.Close()
		t.Fatal("a user signed by the account identity key connected to a strict operator's server")
	}

	role, _ := NewSigner(appPub, "readers", roleRaw.Seed, KindAccount)
	_, _, _, roleCreds, err := NewUserCreds(UserSpec{Name: "carol", Tags: []string{"team:blue"}}, role)
	if err != nil {
		t.Fatal(err)
	}
	violations := make(chan error, 4)
	nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(write(roleCreds)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatalf("role user cannot connect: %v", err)
	}
	defer nc.Close()
	if _, err := nc.SubscribeSync("orders.blue.created"); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.SubscribeSync("orders.red.created"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), "orders.red.created") {
			t.Fatalf("expected a permissions violation for orders.red.created, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not apply the role template: subscribing to orders.red.created was allowed")
	}
	select {
	case err := <-violations:
		t.Fatalf("unexpected second violation (orders.blue.created must be allowed): %v", err)
	default:
	}
}

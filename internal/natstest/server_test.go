package natstest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// world is an operator with its system account and one application account, and a user of
// that account allowed to publish and subscribe on app.> only.
type world struct {
	operatorJWT string
	sys         string
	accountJWTs []string
	appKP       nkeys.KeyPair
	userCreds   string
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newWorld(t *testing.T) *world {
	t.Helper()
	opKP := must(nkeys.CreateOperator())
	opSK := must(nkeys.CreateOperator())
	sysKP := must(nkeys.CreateAccount())
	appKP := must(nkeys.CreateAccount())
	w := &world{sys: must(sysKP.PublicKey()), appKP: appKP}

	oc := jwt.NewOperatorClaims(must(opKP.PublicKey()))
	oc.Name = "OP"
	oc.SystemAccount = w.sys
	oc.SigningKeys.Add(must(opSK.PublicKey()))
	w.operatorJWT = must(oc.Encode(opKP))

	for name, kp := range map[string]nkeys.KeyPair{"SYS": sysKP, "APP": appKP} {
		ac := jwt.NewAccountClaims(must(kp.PublicKey()))
		ac.Name = name
		w.accountJWTs = append(w.accountJWTs, must(ac.Encode(opSK)))
	}
	w.userCreds = w.user(t, appKP)
	return w
}

func (w *world) user(t *testing.T, signer nkeys.KeyPair) string {
	t.Helper()
	ukp := must(nkeys.CreateUser())
	uc := jwt.NewUserClaims(must(ukp.PublicKey()))
	uc.Name = "dev"
	uc.Pub.Allow.Add("app.>")
	uc.Sub.Allow.Add("app.>", "_INBOX.>")
	creds, err := natstest.Creds(must(uc.Encode(signer)), string(must(ukp.Seed())))
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestRenderedConfigBootsAndCarriesTraffic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		resolver serverconfig.Resolver
	}{
		{"memory", serverconfig.Resolver{Type: serverconfig.ResolverMemory}},
		// The default relative "./jwt" dir proves the harness keeps it out of the working directory.
		{"full", serverconfig.Resolver{Type: serverconfig.ResolverFull}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			out, err := serverconfig.Render(serverconfig.Input{
				OperatorJWT: w.operatorJWT, SystemAccount: w.sys, AccountJWTs: w.accountJWTs, Resolver: tt.resolver,
			})
			if err != nil {
				t.Fatal(err)
			}
			// A full resolver preloads only SYS; APP comes from the seeded directory.
			srv := natstest.StartServer(t, out.Config, natstest.WithResolverFiles(out.ResolverFiles))
			if !strings.HasPrefix(srv.URL, "nats://127.0.0.1:") {
				t.Errorf("server URL %q is not on loopback", srv.URL)
			}

			nc, err := natstest.ConnectCreds(srv.URL, w.userCreds)
			if err != nil {
				t.Fatalf("user of the preloaded account cannot connect: %v", err)
			}
			defer nc.Close()
			sub, err := nc.SubscribeSync("app.events")
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Publish("app.events", []byte("hello")); err != nil {
				t.Fatal(err)
			}
			msg, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("message not delivered: %v", err)
			}
			if string(msg.Data) != "hello" {
				t.Errorf("got %q", msg.Data)
			}

			// The user's own permissions are enforced: publishing outside app.> is refused.
			errs := make(chan error, 1)
			nc2, err := natstest.ConnectCreds(srv.URL, w.userCreds, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				errs <- err
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer nc2.Close()
			if err := nc2.Publish("other.events", nil); err != nil {
				t.Fatal(err)
			}
			if err := nc2.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := <-errs; !errors.Is(err, nats.ErrPermissionViolation) {
				t.Errorf("publish outside the user's permissions: got %v, want a permissions violation", err)
			}

			if tt.resolver.Type == serverconfig.ResolverFull {
				if _, err := os.Stat(filepath.Join(srv.Dir, "jwt", w.accountKey()+".jwt")); err != nil {
					t.Errorf("resolver files not seeded into the server directory: %v", err)
				}
				if _, err := os.Stat("jwt"); err == nil {
					t.Error("a relative resolver dir was created in the working directory")
				}
			}
		})
	}
}

func (w *world) accountKey() string { return must(w.appKP.PublicKey()) }

func TestUserSignedByStrangerIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out, err := serverconfig.Render(serverconfig.Input{OperatorJWT: w.operatorJWT, AccountJWTs: w.accountJWTs})
	if err != nil {
		t.Fatal(err)
	}
	srv := natstest.StartServer(t, out.Config)
	forged := w.user(t, must(nkeys.CreateAccount()))
	if nc, err := natstest.ConnectCreds(srv.URL, forged); err == nil {
		nc.Close()
		t.Fatal("a user signed by an unknown account was allowed to connect")
	} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("got %v, want an authorization violation", err)
	}
}

func TestStartRejectsBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	full := must(serverconfig.Render(serverconfig.Input{
		OperatorJWT: w.operatorJWT, AccountJWTs: w.accountJWTs, Resolver: serverconfig.Resolver{Type: serverconfig.ResolverFull},
	}))
	tests := []struct {
		name   string
		config string
		opts   []natstest.Option
		want   string
	}{
		{"unparsable config", "resolver {", nil, "does not parse"},
		{"config the server rejects", "operator: \"eyJnot-a-jwt\"\n", nil, "rejects the config"},
		{"resolver file outside the resolver dir", full.Config, []natstest.Option{natstest.WithResolverFiles(map[string]string{"../escape.jwt": "x"})}, "plain file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := natstest.Start(tt.config, t.TempDir(), tt.opts...)
			if err == nil {
				s.Shutdown()
				t.Fatal("Start accepted the input")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestConnectRejectsBadSecretsWithoutEchoingThem(t *testing.T) {
	t.Parallel()
	seed := "SUAGARBAGESEEDTHATMUSTNEVERBEPRINTED"
	tests := []struct {
		name    string
		connect func() error
	}{
		{"creds without a JWT", func() error { _, err := natstest.ConnectCreds("nats://127.0.0.1:1", seed); return err }},
		{"bad user seed", func() error { _, err := natstest.ConnectUser("nats://127.0.0.1:1", "eyJ", seed); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.connect()
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), seed) {
				t.Fatalf("error repeats the secret: %v", err)
			}
		})
	}
}

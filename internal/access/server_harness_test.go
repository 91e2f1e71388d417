package access_test

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/access"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// The harness runs many roles in one embedded server: every role is a scoped signing key of
// one of a few accounts, and every (role, identity) pair is one connection whose requests
// are all sent before a single flush, so the server's verdicts are collected in one batch.

type testAccount struct {
	name string
	tags []string
	// defaults are the account's default_permissions, for users whose template is empty.
	defaults access.Permissions
	kp       nkeys.KeyPair
	roles    []*testRole
}

type testRole struct {
	name string
	tpl  access.Permissions
	kp   nkeys.KeyPair
	acct *testAccount
}

type world struct {
	url      string
	accounts []*testAccount
}

// request is one thing a client asks; queue only for subscriptions.
type request struct {
	op             access.Op
	subject, queue string
}

func (r request) String() string {
	if r.queue != "" {
		return fmt.Sprintf("%v %q queue %q", r.op, r.subject, r.queue)
	}
	return fmt.Sprintf("%v %q", r.op, r.subject)
}

// verdict is what the server did with one connection: refused it, or refused some requests.
type verdict struct {
	connectErr error
	refused    map[request]bool
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newKey(t testing.TB, prefix nkeys.PrefixByte, rng io.Reader) nkeys.KeyPair {
	t.Helper()
	kp, err := nkeys.CreatePairWithRand(prefix, rng)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// startWorld signs the accounts with their roles' templates and boots one server.
func startWorld(t testing.TB, rng io.Reader, accounts []*testAccount) *world {
	t.Helper()
	opKP := newKey(t, nkeys.PrefixByteOperator, rng)
	opSK := newKey(t, nkeys.PrefixByteOperator, rng)
	sysKP := newKey(t, nkeys.PrefixByteAccount, rng)
	oc := jwt.NewOperatorClaims(must(opKP.PublicKey()))
	oc.Name = "OP"
	oc.SystemAccount = must(sysKP.PublicKey())
	oc.SigningKeys.Add(must(opSK.PublicKey()))
	opJWT := must(oc.Encode(opKP))

	sys := jwt.NewAccountClaims(must(sysKP.PublicKey()))
	sys.Name = "SYS"
	jwts := []string{must(sys.Encode(opSK))}
	for _, a := range accounts {
		a.kp = newKey(t, nkeys.PrefixByteAccount, rng)
		ac := jwt.NewAccountClaims(must(a.kp.PublicKey()))
		ac.Name = a.name
		ac.Tags = jwt.TagList(a.tags)
		ac.DefaultPermissions = a.defaults.ToJWT()
		for _, r := range a.roles {
			r.kp = newKey(t, nkeys.PrefixByteAccount, rng)
			r.acct = a
			scope := jwt.NewUserScope()
			scope.Key = must(r.kp.PublicKey())
			scope.Role = r.name
			scope.Template.Permissions = r.tpl.ToJWT()
			ac.SigningKeys.AddScopedSigner(scope)
		}
		tok, err := ac.Encode(opSK)
		if err != nil {
			t.Fatalf("account %s: %v", a.name, err)
		}
		jwts = append(jwts, tok)
	}
	out, err := serverconfig.Render(serverconfig.Input{
		OperatorJWT: opJWT, AccountJWTs: jwts, Resolver: serverconfig.Resolver{Type: serverconfig.ResolverMemory},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := natstest.StartServer(t, out.Config)
	return &world{url: srv.URL, accounts: accounts}
}

// identity gives a role's user its account's half of the identity.
func (r *testRole) identity(name string, tags []string, userKey string) access.Identity {
	return access.Identity{
		Name: name, UserKey: userKey, Tags: tags,
		AccountName: r.acct.name, AccountKey: must(r.acct.kp.PublicKey()), AccountTags: r.acct.tags,
	}
}

var (
	pubViolation = regexp.MustCompile(`Permissions Violation for Publish to "([^"]*)"`)
	subViolation = regexp.MustCompile(`Permissions Violation for Subscription to "([^"]*)"(?: using queue "([^"]*)")?`)
)

// run connects a user of role r and sends every request. Publishes go first so no message
// reaches the subscriptions, one flush makes the server answer all of them, and closing
// the connection is the barrier: nats.go runs the closed handler after every error
// callback queued before it.
func (w *world) run(t testing.TB, r *testRole, ukp nkeys.KeyPair, name string, tags []string, reqs []request) verdict {
	t.Helper()
	uc := natsjwt.ScopedUserClaims(must(ukp.PublicKey()), must(r.acct.kp.PublicKey()), name, tags, time.Time{})
	userJWT, err := uc.Encode(r.kp)
	if err != nil {
		t.Fatalf("role %s: user JWT: %v", r.name, err)
	}
	v := verdict{refused: map[request]bool{}}
	var unexpected []error
	closed := make(chan struct{})
	nc, err := natstest.ConnectUser(w.url, userJWT, string(must(ukp.Seed())),
		nats.NoEcho(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if m := pubViolation.FindStringSubmatch(err.Error()); m != nil {
				v.refused[request{op: access.Publish, subject: m[1]}] = true
			} else if m := subViolation.FindStringSubmatch(err.Error()); m != nil {
				v.refused[request{op: access.Subscribe, subject: m[1], queue: m[2]}] = true
			} else {
				unexpected = append(unexpected, err)
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	)
	if err != nil {
		v.connectErr = err
		return v
	}
	for _, q := range reqs {
		if q.op == access.Publish {
			if err := nc.Publish(q.subject, nil); err != nil {
				t.Fatalf("role %s: %v: %v", r.name, q, err)
			}
		}
	}
	for _, q := range reqs {
		if q.op == access.Subscribe {
			if _, err := nc.QueueSubscribeSync(q.subject, q.queue); err != nil {
				t.Fatalf("role %s: %v: %v", r.name, q, err)
			}
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("role %s: flush: %v", r.name, err)
	}
	nc.Close()
	<-closed
	if len(unexpected) > 0 {
		t.Fatalf("role %s: errors other than permission violations: %v", r.name, errors.Join(unexpected...))
	}
	return v
}

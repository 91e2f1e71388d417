package provider

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// chainReaderRole is the reader role line of chainConfig, which rotation tests extend.
const chainReaderRole = `roles           = [{ name = "reader", permissions = { sub_allow = ["orders.>"] } }]`

// withReaderKeyRotation is chainConfig with a key_rotation on the reader role.
func withReaderKeyRotation(cfg, rotation string) string {
	if !strings.Contains(cfg, chainReaderRole) {
		panic("chainConfig no longer declares the reader role as " + chainReaderRole)
	}
	return strings.Replace(cfg, chainReaderRole,
		`roles = [{ name = "reader", permissions = { sub_allow = ["orders.>"] }, key_rotation = `+rotation+` }]`, 1)
}

// liveRuntime keeps the chain's server and callout running across test steps, as a
// deployment would, and deploys each step's output the way an operator does: the account JWT
// to the server (what a resolver update does) and the callout document by reload.
type liveRuntime struct {
	mu    sync.Mutex
	rt    *chainRuntime
	stop  func()
	state *terraform.State
	users map[string]*liveUser
}

type liveUser struct {
	nc     *nats.Conn
	closed chan struct{}
}

func (l *liveRuntime) start(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rt, stop, err := startChain(s, t.TempDir(), callout.Options{AuditWriter: io.Discard})
		if err != nil {
			return err
		}
		l.rt, l.stop, l.state, l.users = rt, stop, s, map[string]*liveUser{}
		t.Cleanup(l.close)
		return nil
	}
}

func (l *liveRuntime) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range l.users {
		u.nc.Close()
	}
	if l.stop != nil {
		l.stop()
		l.stop = nil
	}
}

func (l *liveRuntime) attr(s *terraform.State, addr, name string) (string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return "", fmt.Errorf("%s not in state", addr)
	}
	return rs.Primary.Attributes[name], nil
}

// deployAccount hands the account JWT of s to the running server, as a resolver push would.
func (l *liveRuntime) deployAccount(s *terraform.State) error {
	return l.deployJWT(s, "natsping_account.orders", "jwt")
}

// deployCalloutAccount does the same with the callout account of the trust.
func (l *liveRuntime) deployCalloutAccount(s *terraform.State) error {
	return l.deployJWT(s, "natsping_trust.ping", "account_jwt")
}

func (l *liveRuntime) deployJWT(s *terraform.State, addr, attr string) error {
	token, err := l.attr(s, addr, attr)
	if err != nil {
		return err
	}
	claims, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return err
	}
	acc, err := l.rt.srv.LookupAccount(claims.Subject)
	if err != nil {
		return err
	}
	l.rt.srv.UpdateAccountClaims(acc, claims)
	return nil
}

// deployCallout reloads the running callout with the callout_config of s.
func (l *liveRuntime) deployCallout(s *terraform.State) error {
	raw, err := l.attr(s, "natsping_trust.ping", "callout_config")
	if err != nil {
		return err
	}
	doc, err := calloutconfig.Parse([]byte(raw))
	if err != nil {
		return err
	}
	doc.NATS.URLs = []string{l.rt.srv.ClientURL()}
	return l.rt.svc.Reload(doc)
}

// connect admits a named reader through the callout and keeps the connection open.
func (l *liveRuntime) connect(name, token string) error {
	return l.hold(name, func(opts ...nats.Option) (*nats.Conn, error) {
		return nats.Connect(l.rt.srv.ClientURL(), append(opts, nats.Token(token))...)
	})
}

// connectCreds connects a named static user with its creds and keeps the connection open.
func (l *liveRuntime) connectCreds(name, creds string) error {
	return l.hold(name, func(opts ...nats.Option) (*nats.Conn, error) {
		return natstest.ConnectCreds(l.rt.srv.ClientURL(), creds, opts...)
	})
}

func (l *liveRuntime) hold(name string, dial func(...nats.Option) (*nats.Conn, error)) error {
	closed := make(chan struct{})
	nc, err := dial(nats.Name(name), nats.NoReconnect(), nats.Timeout(5*time.Second),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := nc.SubscribeSync("orders.created"); err != nil {
		nc.Close()
		return err
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		return err
	}
	l.mu.Lock()
	l.users[name] = &liveUser{nc: nc, closed: closed}
	l.mu.Unlock()
	return nil
}

// issuer is the signing key of the live connection named name, as the server sees it.
func (l *liveRuntime) issuer(name string) (string, error) {
	cz, err := l.rt.srv.Connz(&server.ConnzOptions{Username: true})
	if err != nil {
		return "", err
	}
	for _, c := range cz.Conns {
		if c.Name == name {
			return c.IssuerKey, nil
		}
	}
	return "", fmt.Errorf("%s is not connected", name)
}

// connected fails unless every named user is still connected and served.
func (l *liveRuntime) connected(names ...string) error {
	for _, n := range names {
		u := l.users[n]
		if u == nil {
			return fmt.Errorf("%s never connected", n)
		}
		select {
		case <-u.closed:
			return fmt.Errorf("%s was disconnected", n)
		default:
		}
		if err := u.nc.FlushTimeout(5 * time.Second); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

// disconnected waits for the server to close the named user's connection.
func (l *liveRuntime) disconnected(name string) error {
	select {
	case <-l.users[name].closed:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s is still connected", name)
	}
}

func (l *liveRuntime) signedBy(name, addr, attr string, s *terraform.State) error {
	want, err := l.attr(s, addr, attr)
	if err != nil {
		return err
	}
	got, err := l.issuer(name)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s is signed by %s, want %s (%s.%s)", name, got, want, addr, attr)
	}
	return nil
}

func checks(fs ...func(*terraform.State) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		var errs []error
		for _, f := range fs {
			if err := f(s); err != nil {
				errs = append(errs, err)
				break
			}
		}
		return errors.Join(errs...)
	}
}

// TestAccRealServer_roleKeyRotation runs a role key rotation over the provider's clock
// against a live nats-server and callout, deploying every apply's output: users admitted
// with the old key stay connected through the rotation and its grace, users admitted after
// it get the new key even when the callout is reloaded before the server learns the new
// account JWT (the key was listed one apply ahead), the drop after the grace disconnects
// only users of the old key, and an emergency rotation disconnects them at once.
func TestAccRealServer_roleKeyRotation(t *testing.T) {
	clock := newTestClock(time.Now().UTC().Truncate(time.Second))
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	token := func() string {
		return idp.IssueToken(pingonetest.TokenOptions{Audience: []string{chainAudience}, Groups: []string{"orders-readers"}})
	}
	cfg := func(rotation string) string { return withReaderKeyRotation(chainConfig(idp, "", ""), rotation) }
	normal := `{ period = "2h", grace_period = "1h" }`
	emergency := `{ period = "2h", grace_period = "1h", keepers = { incident = "1" }, emergency = true }`
	live := &liveRuntime{}
	var oldKey string
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg(normal),
				Check: checks(live.start(t), func(s *terraform.State) error {
					oldKey, _ = live.attr(s, "natsping_account.orders", "role_keys.reader")
					return live.connect("alice", token())
				}, func(s *terraform.State) error {
					return live.signedBy("alice", "natsping_account.orders", "role_keys.reader", s)
				}),
			},
			{
				// The period ends: the callout is reloaded first, before the server has the new
				// account JWT; bob still gets in, signed by the new key, and alice stays.
				PreConfig: func() { clock.Advance(2 * time.Hour) },
				Config:    cfg(normal),
				Check: checks(live.deployCallout, func(*terraform.State) error {
					return live.connect("bob", token())
				}, func(s *terraform.State) error {
					return live.signedBy("bob", "natsping_account.orders", "role_keys.reader", s)
				}, func(s *terraform.State) error {
					if got, _ := live.issuer("bob"); got == oldKey {
						return errors.New("bob was signed by the old key")
					}
					return nil
				}, live.deployAccount, func(*terraform.State) error {
					return live.connected("alice", "bob")
				}),
			},
			{
				// The grace is over: the drop disconnects alice (whose session would have ended
				// by now on a real clock) and nobody else.
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    cfg(normal),
				Check: checks(func(*terraform.State) error { return live.connected("alice", "bob") },
					live.deployCallout, live.deployAccount,
					func(*terraform.State) error { return live.disconnected("alice") },
					func(*terraform.State) error { return live.connected("bob") }),
			},
			{
				// Emergency: the old key is dropped at once and nats-server disconnects bob.
				Config: cfg(emergency),
				Check: checks(live.deployAccount,
					func(*terraform.State) error { return live.disconnected("bob") },
					live.deployCallout,
					func(*terraform.State) error { return live.connect("carol", token()) },
					func(s *terraform.State) error {
						return live.signedBy("carol", "natsping_account.orders", "role_keys.reader", s)
					}),
			},
		},
	})
}

// TestAccRealServer_xkeyRotation switches the callout account's xkey twice against a live
// nats-server and callout, once in each deploy order: the account JWT before the callout
// document (the server seals to the new key, which the callout held one apply ahead) and the
// callout document before the account JWT (the server still seals to the old key, which the
// callout keeps through the grace). Every connect in between is admitted.
func TestAccRealServer_xkeyRotation(t *testing.T) {
	clock := newTestClock(time.Now().UTC().Truncate(time.Second))
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	token := func() string {
		return idp.IssueToken(pingonetest.TokenOptions{Audience: []string{chainAudience}, Groups: []string{"orders-readers"}})
	}
	cfg := chainConfig(idp, `xkey_rotation = { period = "2h", grace_period = "1h" }`, "")
	live := &liveRuntime{}
	xkeyChanged := func(before *string) func(*terraform.State) error {
		return func(s *terraform.State) error {
			now, err := live.attr(s, "natsping_trust.ping", "xkey_public_key")
			if err == nil && now == *before {
				err = fmt.Errorf("the xkey did not rotate (%s)", now)
			}
			*before = now
			return err
		}
	}
	var xkey string
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: checks(live.start(t), func(s *terraform.State) error {
					xkey, _ = live.attr(s, "natsping_trust.ping", "xkey_public_key")
					return live.connect("alice", token())
				}),
			},
			{
				// Account JWT first: the server seals to the new xkey before the callout has the
				// new document.
				PreConfig: func() { clock.Advance(2 * time.Hour) },
				Config:    cfg,
				Check: checks(xkeyChanged(&xkey), live.deployCalloutAccount,
					func(*terraform.State) error { return live.connect("bob", token()) },
					live.deployCallout,
					func(*terraform.State) error { return live.connect("carol", token()) },
					func(*terraform.State) error { return live.connected("alice", "bob", "carol") }),
			},
			{
				// Callout document first: the server still seals to the previous xkey.
				PreConfig: func() { clock.Advance(2 * time.Hour) },
				Config:    cfg,
				Check: checks(xkeyChanged(&xkey), live.deployCallout,
					func(*terraform.State) error { return live.connect("dave", token()) },
					live.deployCalloutAccount,
					func(*terraform.State) error { return live.connect("erin", token()) },
					func(*terraform.State) error { return live.connected("alice", "bob", "carol", "dave", "erin") }),
			},
		},
	})
}

// TestAccRealServer_accountSigningKeyRotation rotates the unscoped signing key that signs a
// static natsping_user: creds signed by the old key keep connecting and stay connected
// through the grace, the re-signed creds connect at once, and the drop after the grace
// disconnects the old creds' connection (nats-server closes clients whose signing key leaves
// the account JWT) and refuses them from then on.
func TestAccRealServer_accountSigningKeyRotation(t *testing.T) {
	clock := newTestClock(time.Now().UTC().Truncate(time.Second))
	cfg := func(gen string) string {
		return fmt.Sprintf(`
resource "natsping_operator" "op" { name = "acme" }

resource "natsping_account" "orders" {
  name                 = "ORDERS"
  operator_signer      = natsping_operator.op.signer
  signing_key_rotation = { keepers = { generation = %q }, grace_period = "1h" }
}

resource "natsping_user" "svc" {
  name        = "orders-svc"
  signer      = natsping_account.orders.signer
  permissions = { sub_allow = ["orders.>"] }
}

data "natsping_server_config" "test" {
  operator_jwt = natsping_operator.op.jwt
  account_jwts = [natsping_operator.op.system_account_jwt, natsping_account.orders.jwt]
}
`, gen)
	}
	live := &liveRuntime{users: map[string]*liveUser{}}
	var oldCreds string
	creds := func(s *terraform.State) string { c, _ := live.attr(s, "natsping_user.svc", "creds"); return c }
	resource.UnitTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: clock.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg("1"),
				Check: checks(func(s *terraform.State) error {
					config, _ := live.attr(s, "data.natsping_server_config.test", "config")
					srv, err := natstest.Start(config, t.TempDir())
					if err != nil {
						return err
					}
					live.rt = &chainRuntime{srv: srv}
					live.stop = srv.Shutdown
					t.Cleanup(live.close)
					oldCreds = creds(s)
					return live.connectCreds("old", oldCreds)
				}),
			},
			{
				Config: cfg("2"),
				Check: checks(live.deployAccount,
					func(s *terraform.State) error { return live.connectCreds("new", creds(s)) },
					func(*terraform.State) error { return live.connectCreds("old-again", oldCreds) },
					func(*terraform.State) error { return live.connected("old", "new", "old-again") }),
			},
			{
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    cfg("2"),
				Check: checks(live.deployAccount,
					func(*terraform.State) error { return live.disconnected("old") },
					func(*terraform.State) error { return live.disconnected("old-again") },
					func(*terraform.State) error { return live.connected("new") },
					func(*terraform.State) error {
						if err := live.connectCreds("old-late", oldCreds); err == nil {
							return errors.New("creds signed by the dropped key still connect")
						}
						return nil
					}),
			},
		},
	})
}

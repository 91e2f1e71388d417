package resolver_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// restartable is a cluster whose nodes can be restarted one at a time with another operator
// JWT, on fixed cluster ports so the others route to the restarted node again.
type restartable struct {
	t      *testing.T
	sysJWT string
	ports  []int
	dirs   []string
	nodes  []*server.Server
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startRestartable(t *testing.T, operatorJWT, sysJWT string, size int) *restartable {
	t.Helper()
	c := &restartable{t: t, sysJWT: sysJWT, nodes: make([]*server.Server, size)}
	for range size {
		c.ports = append(c.ports, freeLoopbackPort(t))
		c.dirs = append(c.dirs, t.TempDir())
	}
	for i := range size {
		c.start(i, operatorJWT)
	}
	t.Cleanup(func() {
		for _, s := range c.nodes {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
			}
		}
	})
	c.waitFormed()
	return c
}

func (c *restartable) start(i int, operatorJWT string) {
	c.t.Helper()
	out, err := serverconfig.Render(serverconfig.Input{
		OperatorJWT: operatorJWT,
		AccountJWTs: []string{c.sysJWT},
		Resolver:    serverconfig.Resolver{Type: serverconfig.ResolverFull, Dir: filepath.Join(c.dirs[i], "jwt")},
		ServerName:  fmt.Sprintf("n%d", i+1),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	var routes []string
	for j, p := range c.ports {
		if j != i {
			routes = append(routes, fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", p)))
		}
	}
	cfg := out.Config + fmt.Sprintf("\ncluster {\n  name: \"test\"\n  listen: \"127.0.0.1:%d\"\n  routes: [%s]\n}\n",
		c.ports[i], strings.Join(routes, ", "))
	s, err := natstest.Start(cfg, c.dirs[i])
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[i] = s
}

// restart stops node i and starts it again from the same directory with operatorJWT.
func (c *restartable) restart(i int, operatorJWT string) {
	c.t.Helper()
	c.nodes[i].Shutdown()
	c.nodes[i].WaitForShutdown()
	c.start(i, operatorJWT)
	c.waitFormed()
}

func (c *restartable) waitFormed() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		routed := true
		for _, n := range c.nodes {
			routed = routed && n.NumRoutes() >= len(c.nodes)-1
		}
		if routed {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the %d-node cluster did not form", len(c.nodes))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPush_SigningKeyRotationOrder pins the order of an operator signing-key rotation on a
// 3-node cluster: a server still running the old operator JWT stores an account signed by the
// new key but cannot use it (its users are refused there), so Push refuses such an account
// until every server runs an operator JWT listing the key, naming the servers to restart and
// the operator JWT to restart them with, while it pushes the accounts every server trusts.
func TestPush_SigningKeyRotationOrder(t *testing.T) {
	t.Parallel()
	op := newOperator(t, "ACME")
	nextPub, nextSeed := must2(natsjwt.NewKey(natsjwt.KindOperator))
	next := must(natsjwt.NewSigner(op.public, "", nextSeed, natsjwt.KindOperator))
	currentSK := must(jwt.DecodeOperatorClaims(op.jwt)).SigningKeys[0]
	rotatedJWT := must(natsjwt.BuildOperatorJWT(natsjwt.OperatorSpec{
		Name: "ACME", StrictSigningKeys: true, SigningKeys: []string{currentSK, nextPub}, SystemAccount: op.sys,
	}, op.identity))
	rotated := must(jwt.DecodeOperatorClaims(rotatedJWT))

	c := startRestartable(t, op.jwt, op.sysJWT, 3)
	c.restart(1, rotatedJWT) // n2 first, as a rolling restart would

	newPub, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	oldPub, _ := must2(natsjwt.NewKey(natsjwt.KindAccount))
	signingPub, signingSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	spec := natsjwt.AccountSpec{Name: "NEWKEY", SigningKeys: []string{signingPub}}
	newKeyJWT := must(natsjwt.SignAccount(spec, newPub, next))
	oldKeyJWT := must(natsjwt.SignAccount(natsjwt.AccountSpec{Name: "OLDKEY"}, oldPub, op.signer))

	url := c.nodes[0].ClientURL()
	nc := must(resolver.Connect(resolver.ConnectOptions{Servers: []string{url}, Creds: op.sysCreds}))
	defer nc.Close()
	ctx := context.Background()
	report, err := resolver.Push(ctx, nc, []string{newKeyJWT, oldKeyJWT}, resolver.Options{Servers: 3, Operator: rotated})
	if err == nil {
		t.Fatal("an account signed by a key n1 and n3 do not trust yet must be refused")
	}
	byAccount := map[string]resolver.AccountResult{}
	for _, a := range report.Accounts {
		byAccount[a.Account] = a
	}
	if got := byAccount[oldPub]; got.Err() != nil || len(got.Stored) != 3 {
		t.Fatalf("the account signed by the key every server trusts must be pushed to all three: %+v", got)
	}
	refusal := fmt.Sprint(byAccount[newPub].Invalid)
	for _, want := range []string{
		"it is signed by " + nextPub + ", which n1, n3 do not trust yet",
		"JWT issued", "signing keys " + currentSK,
		"Restart n1, n3 with the operator JWT given in operator_jwt",
		"a config reload is refused for a changed operator",
		"(n2 already trusts it)",
	} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the refusal must say %q:\n%s", want, refusal)
		}
	}
	for i, n := range []int{0, 2} {
		if stored := (node{dir: filepath.Join(c.dirs[n], "jwt")}).storedJWT(t, newPub); stored != "" {
			t.Fatalf("case %d: the refused account must not have been sent to n%d", i, n+1)
		}
	}

	// Why: pushed anyway, a server on the old operator JWT stores it and refuses its users.
	careless := must(resolver.FetchTrust(ctx, nc, time.Second))
	careless.Servers = nil
	careless.Operators = []*jwt.OperatorClaims{rotated}
	if _, err := resolver.Push(ctx, nc, []string{newKeyJWT}, resolver.Options{Servers: 3, Trust: &careless}); err != nil {
		t.Fatalf("the servers were expected to store the account: %v", err)
	}
	userCreds := newKeyUserCreds(t, newPub, signingSeed)
	if err := connectAs(c.nodes[0].ClientURL(), userCreds); err == nil {
		t.Fatal("n1 runs the old operator JWT and must refuse users of an account signed by the new key")
	}
	if err := connectAs(c.nodes[1].ClientURL(), userCreds); err != nil {
		t.Fatalf("n2 runs the rotated operator JWT and must admit the user: %v", err)
	}

	// Restarting the other two with the rotated JWT is the fix the refusal names.
	c.restart(0, rotatedJWT)
	c.restart(2, rotatedJWT)
	nc2 := must(resolver.Connect(resolver.ConnectOptions{Servers: []string{c.nodes[0].ClientURL()}, Creds: op.sysCreds}))
	defer nc2.Close()
	if _, err := resolver.Push(ctx, nc2, []string{newKeyJWT}, resolver.Options{Servers: 3, Operator: rotated}); err != nil {
		t.Fatalf("once every server trusts the key the push must succeed: %v", err)
	}
	if err := connectAs(c.nodes[0].ClientURL(), userCreds); err != nil {
		t.Fatalf("after its restart n1 must admit the user: %v", err)
	}
}

func newKeyUserCreds(t *testing.T, account, signingSeed string) string {
	t.Helper()
	signer := must(natsjwt.NewSigner(account, "", signingSeed, natsjwt.KindAccount))
	_, _, _, creds := must4(natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "u", Account: account}, signer))
	return creds
}

// connectAs connects to exactly the server at url: nats.go would otherwise retry a refused
// connect on the servers the cluster advertises.
func connectAs(url, creds string) error {
	nc, err := natstest.ConnectCreds(url, creds, nats.IgnoreDiscoveredServers())
	if err != nil {
		return err
	}
	nc.Close()
	return nil
}

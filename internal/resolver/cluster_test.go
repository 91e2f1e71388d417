package resolver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// operator is a strict-signing-key operator with its system account and system user, built
// the way natsping_operator builds them.
type operator struct {
	jwt       string
	public    string
	identity  *natsjwt.Signer // the operator identity key
	signer    *natsjwt.Signer // the operator signing key accounts are signed with
	sys       string
	sysJWT    string
	sysCreds  string
	sysSigner *natsjwt.Signer
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newOperator(tb testing.TB, name string) *operator {
	tb.Helper()
	opPub, opSeed := must2(natsjwt.NewKey(natsjwt.KindOperator))
	skPub, skSeed := must2(natsjwt.NewKey(natsjwt.KindOperator))
	sysPub, sysSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	sysSKPub, sysSKSeed := must2(natsjwt.NewKey(natsjwt.KindAccount))
	o := &operator{
		public:    opPub,
		identity:  must(natsjwt.NewSigner(opPub, "", opSeed, natsjwt.KindOperator)),
		signer:    must(natsjwt.NewSigner(opPub, "", skSeed, natsjwt.KindOperator)),
		sys:       sysPub,
		sysSigner: must(natsjwt.NewSigner(sysPub, "", sysSKSeed, natsjwt.KindAccount)),
	}
	_ = sysSeed
	o.jwt = must(natsjwt.BuildOperatorJWT(natsjwt.OperatorSpec{
		Name: name, StrictSigningKeys: true, SigningKeys: []string{skPub}, SystemAccount: sysPub,
	}, o.identity))
	o.sysJWT = must(natsjwt.BuildSystemAccountJWT(natsjwt.SystemAccountSpec{
		Name: natsjwt.DefaultSystemAccountName, PublicKey: sysPub, SigningKey: sysSKPub,
	}, o.signer))
	_, _, _, o.sysCreds = must4(natsjwt.NewUserCreds(natsjwt.UserSpec{Name: "sys", Account: sysPub}, o.sysSigner))
	return o
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func must4[A, B, C, D any](a A, b B, c C, d D, err error) (A, B, C, D) {
	if err != nil {
		panic(err)
	}
	return a, b, c, d
}

// account signs a fresh account of the operator, named name.
func (o *operator) account(tb testing.TB, name string) (pub, token string) {
	tb.Helper()
	pub, _ = must2(natsjwt.NewKey(natsjwt.KindAccount))
	return pub, o.sign(tb, pub, natsjwt.AccountSpec{Name: name})
}

func (o *operator) sign(tb testing.TB, pub string, spec natsjwt.AccountSpec) string {
	tb.Helper()
	token, err := natsjwt.SignAccount(spec, pub, o.signer)
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

// node is one server of a test cluster.
type node struct {
	*server.Server
	dir string // the full resolver's directory
}

// storedJWT reads the account JWT a node keeps on disk; "" when it has none. Reading the file
// rather than asking the server proves the JWT landed on that node, not somewhere in the cluster.
func (n node) storedJWT(tb testing.TB, account string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(n.dir, account+".jwt"))
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// cluster is a 3-node cluster of full resolvers on loopback with random ports.
type cluster struct {
	op    *operator
	nodes []node
	url   string
}

func startCluster(tb testing.TB, op *operator, size int) *cluster {
	tb.Helper()
	return startClusterDeletes(tb, op, size, false)
}

// startClusterDeletes starts a cluster whose full resolvers honour delete requests when
// allowDelete is set.
func startClusterDeletes(tb testing.TB, op *operator, size int, allowDelete bool) *cluster {
	tb.Helper()
	c := &cluster{op: op}
	routes := ""
	for i := range size {
		dir := tb.TempDir()
		out, err := serverconfig.Render(serverconfig.Input{
			OperatorJWT: op.jwt,
			AccountJWTs: []string{op.sysJWT},
			Resolver:    serverconfig.Resolver{Type: serverconfig.ResolverFull, Dir: filepath.Join(dir, "jwt"), AllowDelete: allowDelete},
			ServerName:  fmt.Sprintf("n%d", i+1),
		})
		if err != nil {
			tb.Fatal(err)
		}
		config := out.Config + fmt.Sprintf("\ncluster {\n  name: \"test\"\n  listen: \"127.0.0.1:-1\"\n%s}\n", routes)
		s, err := natstest.Start(config, dir)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
		if i == 0 {
			routes = fmt.Sprintf("  routes: [\"nats://127.0.0.1:%d\"]\n", s.ClusterAddr().Port)
			c.url = s.ClientURL()
		}
		c.nodes = append(c.nodes, node{Server: s, dir: filepath.Join(dir, "jwt")})
	}
	c.waitFormed(tb)
	return c
}

// waitFormed waits until every node has routes to all others and every full resolver
// answers a LIST from the first node, so a test never races the cluster's start.
func (c *cluster) waitFormed(tb testing.TB) {
	tb.Helper()
	nc := c.connect(tb)
	deadline := time.Now().Add(20 * time.Second)
	for {
		routed := true
		for _, n := range c.nodes {
			routed = routed && n.NumRoutes() >= len(c.nodes)-1
		}
		if routed {
			servers, err := resolver.Discover(context.Background(), nc, resolver.Options{Servers: len(c.nodes), Timeout: time.Second})
			if err == nil && servers == len(c.nodes) {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the %d-node cluster did not form", len(c.nodes))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// connect opens a system-user connection to the first node.
func (c *cluster) connect(tb testing.TB) *nats.Conn {
	tb.Helper()
	return c.connectAs(tb, c.op.sysCreds)
}

func (c *cluster) connectAs(tb testing.TB, creds string) *nats.Conn {
	tb.Helper()
	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{c.url}, Creds: creds})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// foreignAccount is an account signed by the signing key of another operator.
func foreignAccount(tb testing.TB) (pub, token string) {
	tb.Helper()
	other := newOperator(tb, "OTHER")
	return other.account(tb, "FOREIGN")
}

// badMappingAccount passes nats-io/jwt's validation but not nats-server's: the destination
// references a wildcard the source does not have.
func (o *operator) badMappingAccount(tb testing.TB) (pub, token string) {
	tb.Helper()
	pub, _ = must2(natsjwt.NewKey(natsjwt.KindAccount))
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "BADMAP"
	ac.Mappings = jwt.Mapping{"in.*": {{Subject: "out.{{wildcard(3)}}", Weight: 100}}}
	return pub, must(ac.Encode(o.signer.KeyPair()))
}

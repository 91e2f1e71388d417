package natstest

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// WithConfigListen keeps the client host and port the config names, for a cluster whose
// rendered routes and client URLs already carry fixed ports.
func WithConfigListen() Option {
	return func(o *options) { o.keepListen = true }
}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment ago, for
// rendering node configs with fixed ports. A port can be taken by another process before the
// server binds it; the harness then fails loudly, never silently on another port.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: no free port: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return ports
}

// Node is one server of a cluster started by StartCluster; it can be killed and started
// again from the same config and directory.
type Node struct {
	Name   string
	Config string
	Dir    string
	opts   []Option

	mu  sync.Mutex
	srv *server.Server
}

// Server is the running server, or nil while the node is down.
func (n *Node) Server() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// URL is the node's client URL (fixed by its config, so it stays the same across restarts).
func (n *Node) URL() string {
	if s := n.Server(); s != nil {
		return s.ClientURL()
	}
	return ""
}

// Kill shuts the node down at once: its clients and routes drop, the requests it holds are
// lost. An embedded server cannot be SIGKILLed; Shutdown closes every socket without lame duck
// mode, which is what its peers and clients see of a crash.
func (n *Node) Kill() {
	n.mu.Lock()
	s := n.srv
	n.srv = nil
	n.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Start starts a stopped node again from its config and directory.
func (n *Node) Start() error {
	s, err := Start(n.Config, n.Dir, n.opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	n.mu.Lock()
	n.srv = s
	n.mu.Unlock()
	return nil
}

// StartCluster starts one server per config (server name → whole config, as rendered into
// node_configs), each in its own directory and on the ports its config names, and waits until
// every node has a route to every other. The nodes are shut down when the test ends; they are
// returned sorted by name.
func StartCluster(t testing.TB, configs map[string]string, opts ...Option) []*Node {
	t.Helper()
	names := make([]string, 0, len(configs))
	for name := range configs {
		names = append(names, name)
	}
	slices.Sort(names)
	opts = append([]Option{WithConfigListen()}, opts...)
	nodes := make([]*Node, 0, len(names))
	for _, name := range names {
		n := &Node{Name: name, Config: configs[name], Dir: t.TempDir(), opts: opts}
		if err := n.Start(); err != nil {
			for _, started := range nodes {
				started.Kill()
			}
			t.Fatalf("natstest: %v", err)
		}
		nodes = append(nodes, n)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Kill()
		}
	})
	if err := WaitForRoutes(nodes, readyTimeout); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return nodes
}

// WaitForRoutes waits until every running node has a route to every other running node.
func WaitForRoutes(nodes []*Node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var running []*server.Server
		for _, n := range nodes {
			if s := n.Server(); s != nil {
				running = append(running, s)
			}
		}
		missing := ""
		for _, s := range running {
			// NumRoutes counts pooled connections; remotes are what tells the peers apart.
			rz, err := s.Routez(&server.RoutezOptions{})
			if err != nil {
				return err
			}
			peers := map[string]bool{}
			for _, r := range rz.Routes {
				peers[r.RemoteName] = true
			}
			if len(peers) < len(running)-1 {
				missing = fmt.Sprintf("%s has routes to %d of %d other nodes", s.Name(), len(peers), len(running)-1)
				break
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster did not form within %s: %s", timeout, missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

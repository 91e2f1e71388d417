package serverconfig

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Default ports of a node that sets neither its own nor a shared one, nats-server's defaults.
const (
	DefaultClientPort  = 4222
	DefaultClusterPort = 6222
)

// Cluster is the cluster { } block: the route listener and the routes to solicit.
type Cluster struct {
	// Name is the cluster name every node shares (required; no whitespace).
	Name string
	Host string
	// Port is the route listener, 1-65535 or -1 (random, single server only); with Nodes it
	// is the default of the nodes that set no cluster_port.
	Port int
	// Routes are routes solicited besides the other Nodes (e.g. nodes rendered elsewhere),
	// as nats-route://host:port. Rendered in the given order after the nodes' routes.
	Routes []string
	TLS    *TLS
}

// Node is one server of an N-node cluster rendered from one Input. Zero ports fall back to
// the shared blocks (listen.port, cluster.port, monitoring, leafnodes.port, websocket.port)
// and then to nats-server's defaults, so nodes on separate hosts set only ServerName and Host.
type Node struct {
	ServerName string
	// Host is the address the other nodes reach this one on (a DNS name or IP); routes are
	// nats-route://Host:ClusterPort. It is not the listen address (listen.host, cluster.host).
	Host           string
	ClientPort     int
	ClusterPort    int
	MonitoringPort int
	LeafNodePort   int
	WebsocketPort  int
}

// routeSchemes are the URL schemes nats-server accepts for a route.
var routeSchemes = []string{"nats-route", "nats", "tls"}

// nodePorts are the effective listener ports of one node (0: no such listener).
type nodePorts struct {
	client, cluster, monitoring, leaf, websocket int
}

func (in Input) portsOf(n Node) nodePorts {
	p := nodePorts{
		client:  firstSet(n.ClientPort, in.Listen.Port, DefaultClientPort),
		cluster: firstSet(n.ClusterPort, clusterPort(in.Cluster), DefaultClusterPort),
	}
	if m := in.Monitoring; m != nil {
		p.monitoring = firstSet(n.MonitoringPort, m.HTTPPort, m.HTTPSPort)
	}
	if l := in.LeafNodes; l != nil {
		p.leaf = firstSet(n.LeafNodePort, l.Port)
	}
	if w := in.Websocket; w != nil {
		p.websocket = firstSet(n.WebsocketPort, w.Port)
	}
	return p
}

func clusterPort(c *Cluster) int {
	if c == nil {
		return 0
	}
	return c.Port
}

func firstSet(v ...int) int {
	for _, x := range v {
		if x != 0 {
			return x
		}
	}
	return 0
}

func validateCluster(c *Cluster, nodes bool, errs *FieldErrors) {
	if c == nil {
		return
	}
	switch n := c.Name; {
	case n == "":
		errs.add("cluster.name", "is required: every node of a cluster names the same cluster, e.g. \"nats\"")
	case strings.IndexFunc(n, unicode.IsSpace) >= 0:
		errs.add("cluster.name", "%q contains whitespace, which nats-server rejects; use e.g. %q", n, strings.Join(strings.Fields(n), "-"))
	case n == "_":
		errs.add("cluster.name", "%q is reserved by nats-server for leaf nodes; choose another name", n)
	}
	validateHost("cluster.host", c.Host, errs)
	validatePort("cluster.port", c.Port, !nodes, errs)
	if c.Port == 0 && !nodes {
		errs.add("cluster.port", "is required: give the route port, e.g. %d", DefaultClusterPort)
	}
	seen := map[string]bool{}
	for i, r := range c.Routes {
		field := fmt.Sprintf("cluster.routes[%d]", i)
		u, err := url.Parse(r)
		if err != nil || !slices.Contains(routeSchemes, u.Scheme) || u.Hostname() == "" || u.Port() == "" {
			errs.add(field, "%q is not a route URL; use nats-route://host:port, e.g. \"nats-route://nats-0.nats:6222\"", r)
		}
		if seen[r] {
			errs.add(field, "%q is listed more than once", r)
		}
		seen[r] = true
	}
	validateTLS(c.TLS, "cluster.tls", tlsListener, errs)
}

// validateNodes checks the per-node settings and the topology: unique names, every listener
// of nodes on one host on its own port, no random ports.
func validateNodes(in Input, errs *FieldErrors) {
	if len(in.Nodes) == 0 {
		return
	}
	if in.Cluster == nil {
		errs.add("cluster", "is required with nodes: set at least cluster.name, which every node shares")
	}
	if in.ServerName != "" {
		errs.add("server_name", "cannot be set with nodes: each node has its own nodes[*].server_name")
	}
	if in.Listen.Port == -1 {
		errs.add("listen.port", "-1 (a random port) cannot be used with nodes: clients must know the port; use 1-65535 or set nodes[*].client_port")
	}
	names := map[string]int{}
	type endpoint struct {
		host string
		port int
	}
	used := map[endpoint]string{}
	for i, n := range in.Nodes {
		field := fmt.Sprintf("nodes[%d]", i)
		switch {
		case n.ServerName == "":
			errs.add(field+".server_name", "is required: each node needs a unique name, e.g. \"nats-%d\"", i)
		case strings.IndexFunc(n.ServerName, unicode.IsSpace) >= 0:
			errs.add(field+".server_name", "%q contains whitespace, which nats-server rejects; use e.g. %q", n.ServerName, strings.Join(strings.Fields(n.ServerName), "-"))
		default:
			if j, dup := names[n.ServerName]; dup {
				errs.add(field+".server_name", "%q is also the name of nodes[%d]; server names must be unique in a cluster (JetStream and the routes tell nodes apart by them)", n.ServerName, j)
			} else {
				names[n.ServerName] = i
			}
		}
		if n.Host == "" {
			errs.add(field+".host", "is required: the address the other nodes reach this node on, e.g. \"nats-%d.nats\" or \"10.0.0.%d\"", i, i+1)
		}
		validateHost(field+".host", n.Host, errs)
		for _, p := range []struct {
			name string
			v    int
		}{
			{"client_port", n.ClientPort}, {"cluster_port", n.ClusterPort}, {"monitoring_port", n.MonitoringPort},
			{"leafnode_port", n.LeafNodePort}, {"websocket_port", n.WebsocketPort},
		} {
			validatePort(field+"."+p.name, p.v, false, errs)
		}
		for _, p := range []struct {
			name, block string
			v           int
			present     bool
		}{
			{"monitoring_port", "monitoring", n.MonitoringPort, in.Monitoring != nil},
			{"leafnode_port", "leafnodes", n.LeafNodePort, in.LeafNodes != nil},
			{"websocket_port", "websocket", n.WebsocketPort, in.Websocket != nil},
		} {
			if p.v != 0 && !p.present {
				errs.add(field+"."+p.name, "is set but there is no %s block; add it (its settings apply to every node) or remove the port", p.block)
			}
		}
		ports := in.portsOf(n)
		if in.Monitoring != nil && ports.monitoring == 0 {
			errs.add(field+".monitoring_port", "is required: the monitoring block sets no port for this node to use")
		}
		if in.Websocket != nil && ports.websocket == 0 {
			errs.add(field+".websocket_port", "is required: the websocket block sets no port for this node to use")
		}
		if l := in.LeafNodes; l != nil && ports.leaf == 0 && len(l.Remotes) == 0 {
			errs.add(field+".leafnode_port", "is required: the leafnodes block has neither a port nor remotes")
		}
		if n.Host == "" {
			continue
		}
		for _, p := range []struct {
			name string
			v    int
		}{
			{"client_port", ports.client}, {"cluster_port", ports.cluster}, {"monitoring_port", ports.monitoring},
			{"leafnode_port", ports.leaf}, {"websocket_port", ports.websocket},
		} {
			if p.v <= 0 {
				continue
			}
			ep := endpoint{strings.ToLower(n.Host), p.v}
			if other, clash := used[ep]; clash {
				errs.add(field+"."+p.name, "port %d on host %q is already taken by %s; nodes sharing a host need a port of their own for every listener", p.v, n.Host, other)
				continue
			}
			used[ep] = field + "." + p.name
		}
	}
}

// validateFragment refuses everything the including configuration owns.
func validateFragment(in Input, errs *FieldErrors) {
	if !in.Fragment {
		return
	}
	owned := []struct {
		field string
		set   bool
	}{
		{"server_name", in.ServerName != ""},
		{"listen", in.Listen != Listen{}},
		{"tls", in.TLS != nil},
		{"cluster", in.Cluster != nil},
		{"leafnodes", in.LeafNodes != nil},
		{"websocket", in.Websocket != nil},
		{"monitoring", in.Monitoring != nil},
		{"jetstream", in.JetStream != nil},
		{"nodes", len(in.Nodes) > 0},
	}
	for _, o := range owned {
		if o.set {
			errs.add(o.field, "cannot be set with fragment = true: the configuration that includes the fragment (e.g. the NATS Helm chart's) owns it; remove it here or render a whole config")
		}
	}
}

// writeListeners renders the server's identity and listeners: name, client address, client
// TLS, monitoring, cluster, leafnodes and websocket. node is nil for a single server.
func writeListeners(b *strings.Builder, in Input, node *Node) {
	name, port, ports := in.ServerName, in.Listen.Port, nodePorts{}
	if c := in.Cluster; c != nil {
		ports.cluster = c.Port
	}
	if m := in.Monitoring; m != nil {
		ports.monitoring = firstSet(m.HTTPPort, m.HTTPSPort)
	}
	if l := in.LeafNodes; l != nil {
		ports.leaf = l.Port
	}
	if w := in.Websocket; w != nil {
		ports.websocket = w.Port
	}
	if node != nil {
		ports = in.portsOf(*node)
		name, port = node.ServerName, ports.client
	}
	if name != "" {
		fmt.Fprintf(b, "server_name: %s\n", Quote(name))
	}
	if in.Listen.Host != "" {
		fmt.Fprintf(b, "host: %s\n", Quote(in.Listen.Host))
	}
	if port != 0 {
		fmt.Fprintf(b, "port: %d\n", port)
	}
	if in.TLS != nil {
		b.WriteString("\n# Client TLS.\n")
		writeTLS(b, in.TLS, "")
	}
	writeMonitoring(b, in.Monitoring, ports.monitoring)
	if c := in.Cluster; c != nil {
		b.WriteString("\ncluster {\n")
		fmt.Fprintf(b, "  name: %s\n", Quote(c.Name))
		fmt.Fprintf(b, "  listen: %s\n", Quote(hostPort(c.Host, ports.cluster)))
		writeTLS(b, c.TLS, "  ")
		writeList(b, "  ", "routes", in.routesOf(node))
		b.WriteString("}\n")
	}
	writeLeafNodes(b, in.LeafNodes, ports.leaf)
	writeWebsocket(b, in.Websocket, ports.websocket)
}

// routesOf lists the routes node solicits: every other node in input order, then the extra
// routes. A node never lists itself; nats-server would only log the loop, but the output
// then differs between nodes in one line instead of being the same list minus one.
func (in Input) routesOf(node *Node) []string {
	var routes []string
	for _, n := range in.Nodes {
		if node != nil && n.ServerName == node.ServerName {
			continue
		}
		routes = append(routes, "nats-route://"+net.JoinHostPort(n.Host, strconv.Itoa(in.portsOf(n).cluster)))
	}
	if in.Cluster != nil {
		routes = append(routes, in.Cluster.Routes...)
	}
	return routes
}

// validateTopology checks the listeners, the cluster and its nodes, and the fragment mode.
func validateTopology(in Input, errs *FieldErrors) {
	nodes := len(in.Nodes) > 0
	if in.Fragment && nodes {
		// validateFragment names nodes; the per-node checks would only add noise.
		validateFragment(in, errs)
		return
	}
	validateTLS(in.TLS, "tls", tlsListener, errs)
	validateMonitoring(in.Monitoring, in.TLS, nodes, errs)
	validateCluster(in.Cluster, nodes, errs)
	validateLeafNodes(in.LeafNodes, nodes, errs)
	validateWebsocket(in.Websocket, nodes, errs)
	validateNodes(in, errs)
	validateFragment(in, errs)
}

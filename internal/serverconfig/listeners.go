package serverconfig

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Monitoring is the HTTP(S) monitoring listener (/varz, /healthz, …). Exactly one of the
// ports is set; HTTPS serves with the client tls block's certificate.
type Monitoring struct {
	Host      string
	HTTPPort  int
	HTTPSPort int
}

// Websocket is the websocket listener. nats-server refuses a websocket listener without TLS
// unless NoTLS says so, so exactly one of TLS and NoTLS is set.
type Websocket struct {
	Host string
	// Port is 1-65535, or -1 for a random port; 0 is allowed only with Nodes, which set it.
	Port  int
	TLS   *TLS
	NoTLS bool
	// SameOrigin refuses browsers whose Origin differs from the request's host.
	SameOrigin bool
	// AllowedOrigins lists origins (scheme://host[:port]) browsers may connect from; empty
	// allows any. Rendered sorted.
	AllowedOrigins []string
}

// LeafNodes accepts leaf node connections (Port) and/or connects this server as a leaf to
// hubs (Remotes).
type LeafNodes struct {
	Host string
	// Port is the leafnode listener, 1-65535 or -1; 0 means no listener (remotes only) unless
	// a node sets its own.
	Port    int
	TLS     *TLS
	Remotes []LeafRemote
}

// LeafRemote is one hub this server connects to as a leaf node.
type LeafRemote struct {
	// URLs of the hub's leafnode listeners (nats-leaf://, tls://, ws:// or wss://).
	URLs []string
	// Account is the local account (public key) bound to the hub's account of the
	// credentials; empty means the global account, which does not exist in operator mode.
	Account string
	// Credentials is the path of a creds file for the hub.
	Credentials string
	TLS         *TLS
}

// leafRemoteSchemes are the URL schemes nats-server dials for a leafnode remote.
var leafRemoteSchemes = []string{"nats-leaf", "nats", "tls", "ws", "wss"}

// validatePort checks a listener port: 1-65535, -1 for a random one when random is allowed.
// Zero is "not set" and checked by the caller.
func validatePort(field string, p int, random bool, errs *FieldErrors) {
	switch {
	case p == -1 && !random:
		errs.add(field, "-1 (a random port) cannot be used with nodes: other nodes and clients must know the port; use 1-65535")
	case p < -1 || p > 65535:
		errs.add(field, "%d is not a port; use 1-65535, or -1 for a random port", p)
	}
}

func validateHost(field, h string, errs *FieldErrors) {
	if h == "" {
		return
	}
	if strings.IndexFunc(h, unicode.IsSpace) >= 0 || strings.Contains(h, "://") {
		errs.add(field, "%q is not a host; use a hostname or IP address such as 0.0.0.0, 127.0.0.1 or nats-0.nats", h)
	}
}

func validatePath(field, p string, errs *FieldErrors) {
	if p != "" && strings.TrimSpace(p) == "" {
		errs.add(field, "is blank; give the path of a file or leave it unset")
	}
}

func validateMonitoring(m *Monitoring, clientTLS *TLS, nodes bool, errs *FieldErrors) {
	if m == nil {
		return
	}
	validateHost("monitoring.host", m.Host, errs)
	switch {
	case m.HTTPPort != 0 && m.HTTPSPort != 0:
		errs.add("monitoring.https_port", "cannot be set with http_port: nats-server serves monitoring over one of them; remove one")
	case m.HTTPPort == 0 && m.HTTPSPort == 0 && !nodes:
		errs.add("monitoring.http_port", "is required: set http_port (e.g. 8222) or https_port, or remove the monitoring block")
	}
	validatePort("monitoring.http_port", m.HTTPPort, !nodes, errs)
	validatePort("monitoring.https_port", m.HTTPSPort, !nodes, errs)
	if m.HTTPSPort != 0 && clientTLS == nil {
		errs.add("monitoring.https_port", "needs the client tls block: HTTPS monitoring serves the server's client certificate; add tls or use http_port")
	}
}

func validateWebsocket(w *Websocket, nodes bool, errs *FieldErrors) {
	if w == nil {
		return
	}
	validateHost("websocket.host", w.Host, errs)
	if w.Port == 0 && !nodes {
		errs.add("websocket.port", "is required: give the websocket port, e.g. 8080 (or 443 behind no proxy)")
	}
	validatePort("websocket.port", w.Port, !nodes, errs)
	switch {
	case w.TLS == nil && !w.NoTLS:
		errs.add("websocket.no_tls", "a websocket listener needs tls, or no_tls = true when a proxy in front terminates TLS (nats-server refuses neither)")
	case w.TLS != nil && w.NoTLS:
		errs.add("websocket.no_tls", "cannot be true with a tls block; remove one")
	}
	validateTLS(w.TLS, "websocket.tls", tlsListener, errs)
	seen := map[string]bool{}
	for i, o := range w.AllowedOrigins {
		field := fmt.Sprintf("websocket.allowed_origins[%d]", i)
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs.add(field, "%q is not an origin; use scheme://host[:port], e.g. \"https://app.example.com\"", o)
		}
		if seen[o] {
			errs.add(field, "%q is listed more than once", o)
		}
		seen[o] = true
	}
}

func validateLeafNodes(l *LeafNodes, nodes bool, errs *FieldErrors) {
	if l == nil {
		return
	}
	validateHost("leafnodes.host", l.Host, errs)
	validatePort("leafnodes.port", l.Port, !nodes, errs)
	if l.Port == 0 && len(l.Remotes) == 0 && !nodes {
		errs.add("leafnodes.port", "is required without remotes: give the port leaf nodes connect to (e.g. 7422), remotes to connect to a hub, or both")
	}
	if l.Port == 0 && l.TLS != nil && !nodes {
		errs.add("leafnodes.tls", "secures the leafnode listener, which is not set; give leafnodes.port, or put tls on the remotes")
	}
	validateTLS(l.TLS, "leafnodes.tls", tlsListener, errs)
	for i, r := range l.Remotes {
		field := fmt.Sprintf("leafnodes.remotes[%d]", i)
		if len(r.URLs) == 0 {
			errs.add(field+".urls", "is empty; give the hub's leafnode URLs, e.g. \"nats-leaf://hub.example.com:7422\"")
		}
		for j, raw := range r.URLs {
			u, err := url.Parse(raw)
			if err != nil || !slices.Contains(leafRemoteSchemes, u.Scheme) || u.Hostname() == "" {
				errs.add(fmt.Sprintf("%s.urls[%d]", field, j), "%q is not a leafnode URL; use %s://host:port, e.g. \"nats-leaf://hub.example.com:7422\"",
					raw, strings.Join(leafRemoteSchemes, "://, ")+":/")
			}
		}
		if r.Account != "" {
			if err := natsjwt.ValidatePublicKey(r.Account, natsjwt.KindAccount); err != nil {
				errs.add(field+".account", "%v", err)
			}
		}
		validatePath(field+".credentials", r.Credentials, errs)
		validateTLS(r.TLS, field+".tls", tlsOutgoing, errs)
	}
}

func writeMonitoring(b *strings.Builder, m *Monitoring, port int) {
	if m == nil {
		return
	}
	key := "http"
	if m.HTTPSPort != 0 {
		key = "https"
	}
	b.WriteString("\n# Monitoring endpoints (/varz, /healthz, …).\n")
	fmt.Fprintf(b, "%s: %s\n", key, Quote(hostPort(m.Host, port)))
}

func writeWebsocket(b *strings.Builder, w *Websocket, port int) {
	if w == nil {
		return
	}
	b.WriteString("\nwebsocket {\n")
	fmt.Fprintf(b, "  listen: %s\n", Quote(hostPort(w.Host, port)))
	if w.NoTLS {
		b.WriteString("  no_tls: true\n")
	}
	writeTLS(b, w.TLS, "  ")
	if w.SameOrigin {
		b.WriteString("  same_origin: true\n")
	}
	writeList(b, "  ", "allowed_origins", sortedCopy(w.AllowedOrigins))
	b.WriteString("}\n")
}

func writeLeafNodes(b *strings.Builder, l *LeafNodes, port int) {
	if l == nil {
		return
	}
	b.WriteString("\nleafnodes {\n")
	if port != 0 {
		fmt.Fprintf(b, "  listen: %s\n", Quote(hostPort(l.Host, port)))
		writeTLS(b, l.TLS, "  ")
	}
	if len(l.Remotes) > 0 {
		b.WriteString("  remotes: [\n")
		for _, r := range l.Remotes {
			b.WriteString("    {\n")
			writeList(b, "      ", "urls", r.URLs)
			if r.Account != "" {
				fmt.Fprintf(b, "      account: %s\n", Quote(r.Account))
			}
			if r.Credentials != "" {
				fmt.Fprintf(b, "      credentials: %s\n", Quote(r.Credentials))
			}
			writeTLS(b, r.TLS, "      ")
			b.WriteString("    }\n")
		}
		b.WriteString("  ]\n")
	}
	b.WriteString("}\n")
}

// writeList renders a list one quoted element a line; an empty list renders nothing.
func writeList(b *strings.Builder, indent, key string, values []string) {
	if len(values) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%s: [\n", indent, key)
	for _, v := range values {
		fmt.Fprintf(b, "%s  %s\n", indent, Quote(v))
	}
	fmt.Fprintf(b, "%s]\n", indent)
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// hostPort joins a listen address; an empty host listens on every interface.
func hostPort(host string, port int) string {
	if host == "" {
		host = "0.0.0.0"
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s:%d", host, port)
}

package provider

import (
	"context"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

type tlsModel struct {
	CertFile types.String `tfsdk:"cert_file"`
	KeyFile  types.String `tfsdk:"key_file"`
	CAFile   types.String `tfsdk:"ca_file"`
	Verify   types.Bool   `tfsdk:"verify"`
	Timeout  types.String `tfsdk:"timeout"`
}

type clusterModel struct {
	Name   types.String `tfsdk:"name"`
	Host   types.String `tfsdk:"host"`
	Port   types.Int64  `tfsdk:"port"`
	Routes types.List   `tfsdk:"routes"`
	TLS    types.Object `tfsdk:"tls"`
}

type leafNodesModel struct {
	Host    types.String `tfsdk:"host"`
	Port    types.Int64  `tfsdk:"port"`
	TLS     types.Object `tfsdk:"tls"`
	Remotes types.List   `tfsdk:"remotes"`
}

type leafRemoteModel struct {
	URLs        types.List   `tfsdk:"urls"`
	Account     types.String `tfsdk:"account"`
	Credentials types.String `tfsdk:"credentials"`
	TLS         types.Object `tfsdk:"tls"`
}

type websocketModel struct {
	Host           types.String `tfsdk:"host"`
	Port           types.Int64  `tfsdk:"port"`
	TLS            types.Object `tfsdk:"tls"`
	NoTLS          types.Bool   `tfsdk:"no_tls"`
	SameOrigin     types.Bool   `tfsdk:"same_origin"`
	AllowedOrigins types.Set    `tfsdk:"allowed_origins"`
}

type monitoringModel struct {
	Host      types.String `tfsdk:"host"`
	HTTPPort  types.Int64  `tfsdk:"http_port"`
	HTTPSPort types.Int64  `tfsdk:"https_port"`
}

type nodeModel struct {
	ServerName     types.String `tfsdk:"server_name"`
	Host           types.String `tfsdk:"host"`
	ClientPort     types.Int64  `tfsdk:"client_port"`
	ClusterPort    types.Int64  `tfsdk:"cluster_port"`
	MonitoringPort types.Int64  `tfsdk:"monitoring_port"`
	LeafNodePort   types.Int64  `tfsdk:"leafnode_port"`
	WebsocketPort  types.Int64  `tfsdk:"websocket_port"`
}

// topologyGroups are the attributes whose rules depend on each other (nodes and fragment
// refuse or complete the others), so one unknown value among them defers all their checks.
var topologyGroups = []string{"server_name", "listen", "tls", "cluster", "leafnodes", "websocket", "monitoring", "nodes", "fragment", "jetstream"}

// withClusterAttributes adds the listener, cluster, node and fragment attributes. Their rules
// live in serverconfig and run in ValidateConfig, like the limits'.
func withClusterAttributes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	port := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{Optional: true, MarkdownDescription: desc,
			Validators: []validator.Int64{int64validator.Between(-1, 65535), int64validator.NoneOf(0)}}
	}
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc}
	}
	attrs["tls"] = tlsAttribute("TLS of the client listener (`tls { }`); HTTPS monitoring serves the same certificate. " +
		"`verify = true` requires client certificates signed by `ca_file`.")
	attrs["cluster"] = schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "The `cluster { }` block: the route listener and the routes to the other servers. Required with " +
			"`nodes`, which fill in the routes.",
		Attributes: map[string]schema.Attribute{
			"name": str("Cluster name, the same on every node (no whitespace). Required."),
			"host": str("Route listen host. Default `0.0.0.0`."),
			"port": port("Route listen port. Required without `nodes`; with `nodes`, the default of nodes without a " +
				"`cluster_port` (then `6222`)."),
			"routes": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Routes to solicit besides the other `nodes`, as `nats-route://host:port` (e.g. nodes " +
					"rendered by another configuration). Rendered in this order after the nodes' routes.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)}},
			"tls": tlsAttribute("TLS between the nodes. Use `verify = true` with the CA of the route certificates, so only " +
				"your servers can join the cluster (routes carry every account's traffic)."),
		},
	}
	attrs["leafnodes"] = schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "The `leafnodes { }` block: a listener for leaf nodes (`port`) and/or `remotes`, hubs this server " +
			"connects to as a leaf. Clients of a leaf node authenticate at the leaf server; see the cluster guide for " +
			"auth callout on a leaf.",
		Attributes: map[string]schema.Attribute{
			"host": str("Leafnode listen host. Default `0.0.0.0`."),
			"port": port("Leafnode listen port (e.g. `7422`); unset with `remotes` only. With `nodes`, the default of " +
				"nodes without a `leafnode_port`."),
			"tls": tlsAttribute("TLS of the leafnode listener."),
			"remotes": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Hubs to connect to as a leaf node, one entry per local account to bind.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"urls": schema.ListAttribute{Required: true, ElementType: types.StringType,
						MarkdownDescription: "The hub's leafnode URLs (`nats-leaf://`, `tls://`, `ws://` or `wss://`)."},
					"account": str("Public key (`A…`) of the local account bound to the hub account of `credentials`."),
					"credentials": str("Path of the creds file of the hub user this leaf connects as. The file holds a " +
						"seed: deploy it beside the config, natsping only renders its path."),
					"tls": tlsAttribute("TLS towards the hub; `ca_file` alone verifies the hub, `cert_file` and `key_file` " +
						"add a client certificate."),
				}},
			},
		},
	}
	attrs["websocket"] = schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: "The `websocket { }` listener. Browsers authenticate exactly like other clients (through the auth callout with a Ping token).",
		Attributes: map[string]schema.Attribute{
			"host": str("Websocket listen host. Default `0.0.0.0`."),
			"port": port("Websocket port. Required without `nodes`; with `nodes`, the default of nodes without a `websocket_port`."),
			"tls":  tlsAttribute("TLS of the websocket listener. Exactly one of `tls` and `no_tls = true` is required."),
			"no_tls": schema.BoolAttribute{Optional: true, MarkdownDescription: "Serve plain websocket, for a proxy " +
				"in front that terminates TLS. nats-server refuses a websocket listener with neither."},
			"same_origin": schema.BoolAttribute{Optional: true, MarkdownDescription: "Refuse browsers whose `Origin` differs " +
				"from the request's host."},
			"allowed_origins": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Origins (`https://host[:port]`) browsers may connect from; unset allows any. Rendered sorted."},
		},
	}
	attrs["monitoring"] = schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: "The monitoring listener (`/varz`, `/healthz`, …): exactly one of `http_port` and `https_port` (HTTPS needs `tls`).",
		Attributes: map[string]schema.Attribute{
			"host":       str("Monitoring listen host. Default `0.0.0.0`; it exposes connection details, so prefer a private address."),
			"http_port":  port("HTTP monitoring port, e.g. `8222`."),
			"https_port": port("HTTPS monitoring port, serving the client listener's certificate."),
		},
	}
	nodePort := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{Optional: true, MarkdownDescription: desc,
			Validators: []validator.Int64{int64validator.Between(1, 65535)}}
	}
	attrs["nodes"] = schema.ListNestedAttribute{
		Optional: true,
		MarkdownDescription: "Render one configuration per node of a cluster into `node_configs`, each with its `server_name`, " +
			"its ports and routes to every other node; `config` then holds only the part every node shares. Ports fall " +
			"back to the shared blocks (`listen.port`, `cluster.port`, …) and then to `4222`/`6222`; nodes on one host " +
			"need a port of their own for every listener. Requires `cluster`; `server_name` is set per node.",
		Validators: []validator.List{listvalidator.SizeAtLeast(1)},
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"server_name":     schema.StringAttribute{Required: true, MarkdownDescription: "Unique server name of the node (no whitespace)."},
			"host":            schema.StringAttribute{Required: true, MarkdownDescription: "Address the other nodes reach this node on (DNS name or IP); its routes point here."},
			"client_port":     nodePort("Client port of this node."),
			"cluster_port":    nodePort("Route port of this node."),
			"monitoring_port": nodePort("Monitoring port of this node (HTTP or HTTPS, as the `monitoring` block says)."),
			"leafnode_port":   nodePort("Leafnode listen port of this node."),
			"websocket_port":  nodePort("Websocket port of this node."),
		}},
	}
	attrs["fragment"] = schema.BoolAttribute{
		Optional: true,
		MarkdownDescription: "Render only what natsping owns (operator, system account, resolver and preload, default " +
			"sentinel, client limits) for an `include` from a configuration that owns the listeners, cluster and JetStream, " +
			"such as the NATS Helm chart's. Listener, cluster, JetStream and node settings are refused with it.",
	}
	attrs["node_configs"] = schema.MapAttribute{
		Computed: true, ElementType: types.StringType,
		MarkdownDescription: "With `nodes`: each node's whole configuration, keyed by `server_name`. Null otherwise.",
	}
	return attrs
}

func tlsAttribute(desc string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: desc + " Paths are rendered as given; nats-server resolves relative paths against its working directory.",
		Attributes: map[string]schema.Attribute{
			"cert_file": schema.StringAttribute{Optional: true, MarkdownDescription: "PEM certificate (chain); requires `key_file`."},
			"key_file":  schema.StringAttribute{Optional: true, MarkdownDescription: "PEM private key of `cert_file`."},
			"ca_file":   schema.StringAttribute{Optional: true, MarkdownDescription: "PEM bundle peer certificates are checked against."},
			"verify":    schema.BoolAttribute{Optional: true, MarkdownDescription: "Require and verify the peer's certificate against `ca_file` (mutual TLS). Default `false`."},
			"timeout":   schema.StringAttribute{Optional: true, MarkdownDescription: "TLS handshake timeout (Go duration, at most `1m`). Default: the server's (2s)."},
		},
	}
}

// topologySettings reads the listener, cluster, node and fragment attributes into in.
func (m *serverConfigModel) topologySettings(ctx context.Context, in *serverconfig.Input, unknown map[string]bool, diags *diag.Diagnostics) {
	opts := basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true}
	in.TLS = readTLS(ctx, m.TLS, diags)
	if obj := m.Cluster; !obj.IsNull() && !obj.IsUnknown() {
		var c clusterModel
		diags.Append(obj.As(ctx, &c, opts)...)
		in.Cluster = &serverconfig.Cluster{Name: c.Name.ValueString(), Host: c.Host.ValueString(), Port: int(c.Port.ValueInt64()),
			Routes: stringElements(ctx, c.Routes, diags), TLS: readTLS(ctx, c.TLS, diags)}
	}
	if obj := m.LeafNodes; !obj.IsNull() && !obj.IsUnknown() {
		var l leafNodesModel
		diags.Append(obj.As(ctx, &l, opts)...)
		in.LeafNodes = &serverconfig.LeafNodes{Host: l.Host.ValueString(), Port: int(l.Port.ValueInt64()), TLS: readTLS(ctx, l.TLS, diags)}
		if !l.Remotes.IsNull() && !l.Remotes.IsUnknown() {
			var remotes []leafRemoteModel
			diags.Append(l.Remotes.ElementsAs(ctx, &remotes, false)...)
			for _, r := range remotes {
				in.LeafNodes.Remotes = append(in.LeafNodes.Remotes, serverconfig.LeafRemote{URLs: stringElements(ctx, r.URLs, diags),
					Account: r.Account.ValueString(), Credentials: r.Credentials.ValueString(), TLS: readTLS(ctx, r.TLS, diags)})
			}
		}
	}
	if obj := m.Websocket; !obj.IsNull() && !obj.IsUnknown() {
		var w websocketModel
		diags.Append(obj.As(ctx, &w, opts)...)
		in.Websocket = &serverconfig.Websocket{Host: w.Host.ValueString(), Port: int(w.Port.ValueInt64()), TLS: readTLS(ctx, w.TLS, diags),
			NoTLS: w.NoTLS.ValueBool(), SameOrigin: w.SameOrigin.ValueBool(), AllowedOrigins: stringElements(ctx, w.AllowedOrigins, diags)}
	}
	if obj := m.Monitoring; !obj.IsNull() && !obj.IsUnknown() {
		var mon monitoringModel
		diags.Append(obj.As(ctx, &mon, opts)...)
		in.Monitoring = &serverconfig.Monitoring{Host: mon.Host.ValueString(), HTTPPort: int(mon.HTTPPort.ValueInt64()), HTTPSPort: int(mon.HTTPSPort.ValueInt64())}
	}
	if l := m.Nodes; !l.IsNull() && !l.IsUnknown() {
		var nodes []nodeModel
		diags.Append(l.ElementsAs(ctx, &nodes, false)...)
		for _, n := range nodes {
			in.Nodes = append(in.Nodes, serverconfig.Node{ServerName: n.ServerName.ValueString(), Host: n.Host.ValueString(),
				ClientPort: int(n.ClientPort.ValueInt64()), ClusterPort: int(n.ClusterPort.ValueInt64()),
				MonitoringPort: int(n.MonitoringPort.ValueInt64()), LeafNodePort: int(n.LeafNodePort.ValueInt64()),
				WebsocketPort: int(n.WebsocketPort.ValueInt64())})
		}
	}
	in.Fragment = m.Fragment.ValueBool()
	values := map[string]attr.Value{"tls": m.TLS, "cluster": m.Cluster, "leafnodes": m.LeafNodes, "websocket": m.Websocket,
		"monitoring": m.Monitoring, "nodes": m.Nodes, "fragment": m.Fragment}
	deferAll := false
	for group, v := range values {
		unknown[group] = containsUnknown(v)
		deferAll = deferAll || unknown[group]
	}
	for _, g := range topologyGroups {
		deferAll = deferAll || unknown[g]
	}
	if deferAll {
		for _, g := range topologyGroups {
			unknown[g] = true
		}
	}
}

func readTLS(ctx context.Context, obj types.Object, diags *diag.Diagnostics) *serverconfig.TLS {
	if obj.IsNull() || obj.IsUnknown() {
		return nil
	}
	var t tlsModel
	diags.Append(obj.As(ctx, &t, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	return &serverconfig.TLS{CertFile: t.CertFile.ValueString(), KeyFile: t.KeyFile.ValueString(), CAFile: t.CAFile.ValueString(),
		Verify: t.Verify.ValueBool(), Timeout: t.Timeout.ValueString()}
}

// containsUnknown reports an unknown value anywhere inside v.
func containsUnknown(v attr.Value) bool {
	if v == nil || v.IsNull() {
		return false
	}
	if v.IsUnknown() {
		return true
	}
	var elems []attr.Value
	switch v := v.(type) {
	case basetypes.ObjectValue:
		for _, e := range v.Attributes() {
			elems = append(elems, e)
		}
	case basetypes.ListValue:
		elems = v.Elements()
	case basetypes.SetValue:
		elems = v.Elements()
	}
	for _, e := range elems {
		if containsUnknown(e) {
			return true
		}
	}
	return false
}

// fieldGroup is the top-level attribute of a serverconfig field ("nodes[1].host" → "nodes").
func fieldGroup(field string) string {
	if i := strings.IndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return field
}

// fieldPath turns a serverconfig field ("leafnodes.remotes[0].urls[1]") into an attribute
// path. An index into a set (allowed_origins) points at the set: set elements have no index.
func fieldPath(field string) path.Path {
	var p path.Path
	for i, part := range strings.Split(field, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if i == 0 {
			p = path.Root(name)
		} else {
			p = p.AtName(name)
		}
		for rest != "" && name != "allowed_origins" {
			idx, after, _ := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if err != nil {
				break
			}
			p = p.AtListIndex(n)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}

// nodeConfigsValue is the node_configs attribute: null without nodes.
func nodeConfigsValue(ctx context.Context, configs map[string]string, diags *diag.Diagnostics) types.Map {
	if configs == nil {
		return types.MapNull(types.StringType)
	}
	v, d := types.MapValueFrom(ctx, types.StringType, configs)
	diags.Append(d...)
	return v
}

package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

var (
	_ datasource.DataSource                   = (*serverConfigDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*serverConfigDataSource)(nil)
)

// NewServerConfigDataSource renders the nats-server configuration that trusts the operator.
func NewServerConfigDataSource() datasource.DataSource { return &serverConfigDataSource{} }

type serverConfigDataSource struct{}

type serverConfigModel struct {
	OperatorJWT     types.String `tfsdk:"operator_jwt"`
	SystemAccount   types.String `tfsdk:"system_account"`
	AccountJWTs     types.Set    `tfsdk:"account_jwts"`
	Resolver        types.Object `tfsdk:"resolver"`
	DefaultSentinel types.String `tfsdk:"default_sentinel"`
	Listen          types.Object `tfsdk:"listen"`
	ServerName      types.String `tfsdk:"server_name"`
	JetStream       types.Object `tfsdk:"jetstream"`
	Limits          types.Object `tfsdk:"limits"`
	Config          types.String `tfsdk:"config"`
	ResolverFiles   types.Map    `tfsdk:"resolver_files"`
	TLS             types.Object `tfsdk:"tls"`
	Cluster         types.Object `tfsdk:"cluster"`
	LeafNodes       types.Object `tfsdk:"leafnodes"`
	Websocket       types.Object `tfsdk:"websocket"`
	Monitoring      types.Object `tfsdk:"monitoring"`
	Nodes           types.List   `tfsdk:"nodes"`
	Fragment        types.Bool   `tfsdk:"fragment"`
	NodeConfigs     types.Map    `tfsdk:"node_configs"`
}

type resolverModel struct {
	Type        types.String `tfsdk:"type"`
	Dir         types.String `tfsdk:"dir"`
	AllowDelete types.Bool   `tfsdk:"allow_delete"`
	Interval    types.String `tfsdk:"interval"`
	Timeout     types.String `tfsdk:"timeout"`
	TTL         types.String `tfsdk:"ttl"`
	Limit       types.Int64  `tfsdk:"limit"`
	External    types.Bool   `tfsdk:"external"`
}

type listenModel struct {
	Host types.String `tfsdk:"host"`
	Port types.Int64  `tfsdk:"port"`
}

type serverLimitsModel struct {
	MaxControlLine types.Int64  `tfsdk:"max_control_line"`
	MaxPayload     types.Int64  `tfsdk:"max_payload"`
	MaxPending     types.Int64  `tfsdk:"max_pending"`
	MaxConnections types.Int64  `tfsdk:"max_connections"`
	PingInterval   types.String `tfsdk:"ping_interval"`
	PingMax        types.Int64  `tfsdk:"ping_max"`
	WriteDeadline  types.String `tfsdk:"write_deadline"`
	AuthTimeout    types.String `tfsdk:"auth_timeout"`
}

type jetStreamModel struct {
	StoreDir  types.String `tfsdk:"store_dir"`
	MaxMemory types.String `tfsdk:"max_memory"`
	MaxFile   types.String `tfsdk:"max_file"`
}

func (d *serverConfigDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server_config"
}

func (d *serverConfigDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = serverConfigDataSourceSchema()
}

func serverConfigDataSourceSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Renders the `nats-server` configuration that trusts a natsping operator, in the layout " +
			"`nsc generate config` writes: the operator JWT, the system account, the account resolver and its preload, " +
			"and optionally the default sentinel, listen address, server name, JetStream and client limits, TLS, cluster, " +
			"leafnodes, websocket and monitoring listeners; `nodes` renders one config per node of a cluster and `fragment` " +
			"only natsping's part for an `include` (see the [cluster guide](../guides/cluster.md)). Accounts " +
			"are sorted by public key, so the output is byte-identical whatever order the JWTs arrive in and plans " +
			"never show a spurious diff. Every account JWT is checked against the operator before anything is rendered.",
		Attributes: withClusterAttributes(map[string]schema.Attribute{
			"operator_jwt": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "JWT of the trusted operator.",
			},
			"system_account": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Public key (`A…`) of the system account. Defaults to the operator JWT's system account; " +
					"when both are set they must be identical (nats-server refuses the config otherwise).",
				Validators: []validator.String{validPublicKey(natsjwt.KindAccount)},
			},
			"account_jwts": schema.SetAttribute{
				Required:    true,
				ElementType: types.StringType,
				MarkdownDescription: "JWTs of all accounts, including the system account's. Order does not matter. Each must be " +
					"signed by the operator or one of its signing keys, and each account may appear only once.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1)},
			},
			"resolver": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "How the server learns account JWTs. Omitted means a `memory` resolver. A setting the " +
					"chosen type does not support is an error, because nats-server rejects it.",
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "`memory` (default) preloads every account in the config; adding an account " +
							"means re-rendering and reloading. `full` stores JWTs in `dir` and accepts pushed updates; only the " +
							"system account is preloaded, seed the others from `resolver_files` or push them. `cache` keeps " +
							"recently used JWTs and looks the rest up from `full` servers.",
					},
					"dir": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Directory for `full` and `cache`. Default `" + serverconfig.DefaultDir + "`, " +
							"relative to the server's working directory.",
					},
					"allow_delete": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "Let operator-signed delete requests remove accounts (`full` only). Default `false`.",
					},
					"interval": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "How often a `full` resolver compares its JWTs with a peer (Go duration, `full` only). " +
							"Default `\"" + serverconfig.DefaultInterval + "\"`.",
					},
					"timeout": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Timeout for looking up an account the server does not hold (Go duration, `full` and " +
							"`cache`). Default `\"" + serverconfig.DefaultTimeout + "\"`.",
					},
					"ttl": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "How long a `cache` resolver keeps a JWT (Go duration, `cache` only). Default `\"" +
							serverconfig.DefaultTTL + "\"`.",
					},
					"limit": schema.Int64Attribute{
						Optional:            true,
						MarkdownDescription: "Maximum number of JWTs kept (`full` and `cache`). Default: the server's.",
						Validators:          []validator.Int64{int64validator.AtLeast(1)},
					},
					"external": resolverExternalAttribute(),
				},
			},
			"default_sentinel": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Bearer user JWT handed to clients that connect with only a token (OIDC through the auth " +
					"callout), usually the trust's sentinel output. It must be a bearer JWT of one of `account_jwts`. It is not " +
					"marked sensitive: it is given to every client by design, carries no permissions and grants nothing by " +
					"itself (the callout decides every connection), and marking it would hide the whole rendered config from " +
					"plan review.",
			},
			"listen": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Client listen address. Omitted leaves the server default `0.0.0.0:4222`.",
				Attributes: map[string]schema.Attribute{
					"host": schema.StringAttribute{Optional: true, MarkdownDescription: "Host or IP to listen on."},
					"port": schema.Int64Attribute{
						Optional:            true,
						MarkdownDescription: "Client port, 1-65535, or -1 for a random port.",
						Validators:          []validator.Int64{int64validator.Between(-1, 65535), int64validator.NoneOf(0)},
					},
				},
			},
			"server_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Server name (no whitespace). Default: the server's generated id.",
			},
			"jetstream": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Enables JetStream when present (accounts also need JetStream limits in their JWTs). " +
					"Sizes are a number of bytes or a number with a `K`, `M`, `G` or `T` suffix (powers of 1024).",
				Attributes: map[string]schema.Attribute{
					"store_dir":  schema.StringAttribute{Optional: true, MarkdownDescription: "Storage directory. Default: the server's."},
					"max_memory": schema.StringAttribute{Optional: true, MarkdownDescription: "Memory storage limit, e.g. `\"1G\"`."},
					"max_file":   schema.StringAttribute{Optional: true, MarkdownDescription: "File storage limit, e.g. `\"10G\"`."},
				},
			},
			"limits": serverLimitsAttribute(),
			"config": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The nats-server configuration text. It holds only public JWTs and keys, no seeds.",
			},
			"resolver_files": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Every account JWT keyed by `<public key>.jwt`, the layout of a `full` resolver directory, " +
					"to seed a fresh server (e.g. with `local_file`) before it starts.",
			},
		}),
	}
}

// ValidateConfig reports resolver, listen, name, JetStream and limits mistakes as soon as their
// values are known, before any JWT is; groups with an unknown value are left for Read.
func (d *serverConfigDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m serverConfigModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, unknown, diags := m.settings(ctx)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	for _, fe := range serverconfig.ValidateSettings(in) {
		if !unknown[fieldGroup(fe.Field)] {
			addFieldError(&resp.Diagnostics, fe)
		}
	}
}

func (d *serverConfigDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m serverConfigModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, _, diags := m.settings(ctx)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	in.OperatorJWT = m.OperatorJWT.ValueString()
	in.SystemAccount = m.SystemAccount.ValueString()
	in.DefaultSentinel = m.DefaultSentinel.ValueString()
	in.AccountJWTs = stringElements(ctx, m.AccountJWTs, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := serverconfig.Render(in)
	if err != nil {
		fes := serverconfig.AsFieldErrors(err)
		if fes == nil {
			resp.Diagnostics.AddError("Cannot render the server configuration", err.Error())
			return
		}
		for _, fe := range fes {
			addFieldError(&resp.Diagnostics, fe)
		}
		return
	}
	m.SystemAccount = types.StringValue(out.SystemAccount)
	m.Config = types.StringValue(out.Config)
	files, d2 := types.MapValueFrom(ctx, types.StringType, out.ResolverFiles)
	resp.Diagnostics.Append(d2...)
	m.ResolverFiles = files
	m.NodeConfigs = nodeConfigsValue(ctx, out.NodeConfigs, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// settings converts the non-JWT inputs. unknown names the groups ("resolver", "listen", ...)
// holding an unknown value, whose validation must wait.
func (m *serverConfigModel) settings(ctx context.Context) (serverconfig.Input, map[string]bool, diag.Diagnostics) {
	var (
		in      serverconfig.Input
		diags   diag.Diagnostics
		unknown = map[string]bool{}
	)
	opts := basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true}
	if obj := m.Resolver; !obj.IsNull() {
		var r resolverModel
		diags.Append(obj.As(ctx, &r, opts)...)
		unknown["resolver"] = obj.IsUnknown() || anyUnknown(r.Type, r.Dir, r.AllowDelete, r.Interval, r.Timeout, r.TTL, r.Limit, r.External)
		in.Resolver = serverconfig.Resolver{
			Type: serverconfig.ResolverType(r.Type.ValueString()), Dir: r.Dir.ValueString(), AllowDelete: r.AllowDelete.ValueBool(),
			Interval: r.Interval.ValueString(), Timeout: r.Timeout.ValueString(), TTL: r.TTL.ValueString(), Limit: r.Limit.ValueInt64(),
			External: r.External.ValueBool(),
		}
	}
	if obj := m.Listen; !obj.IsNull() {
		var l listenModel
		diags.Append(obj.As(ctx, &l, opts)...)
		unknown["listen"] = obj.IsUnknown() || anyUnknown(l.Host, l.Port)
		in.Listen = serverconfig.Listen{Host: l.Host.ValueString(), Port: int(l.Port.ValueInt64())}
	}
	unknown["server_name"] = m.ServerName.IsUnknown()
	in.ServerName = m.ServerName.ValueString()
	if obj := m.Limits; !obj.IsNull() {
		var l serverLimitsModel
		diags.Append(obj.As(ctx, &l, opts)...)
		unknown["limits"] = obj.IsUnknown() || anyUnknown(l.MaxControlLine, l.MaxPayload, l.MaxPending, l.MaxConnections,
			l.PingInterval, l.PingMax, l.WriteDeadline, l.AuthTimeout)
		in.Limits = serverconfig.Limits{
			MaxControlLine: l.MaxControlLine.ValueInt64(), MaxPayload: l.MaxPayload.ValueInt64(), MaxPending: l.MaxPending.ValueInt64(),
			MaxConnections: l.MaxConnections.ValueInt64(), PingInterval: l.PingInterval.ValueString(), PingMax: l.PingMax.ValueInt64(),
			WriteDeadline: l.WriteDeadline.ValueString(), AuthTimeout: l.AuthTimeout.ValueString(),
		}
	}
	if obj := m.JetStream; !obj.IsNull() {
		var j jetStreamModel
		diags.Append(obj.As(ctx, &j, opts)...)
		unknown["jetstream"] = obj.IsUnknown() || anyUnknown(j.StoreDir, j.MaxMemory, j.MaxFile)
		in.JetStream = &serverconfig.JetStream{StoreDir: j.StoreDir.ValueString(), MaxMemory: j.MaxMemory.ValueString(), MaxFile: j.MaxFile.ValueString()}
	}
	m.topologySettings(ctx, &in, unknown, &diags)
	deferExternalResolver(in, unknown)
	return in, unknown, diags
}

func anyUnknown(values ...attr.Value) bool {
	for _, v := range values {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

// addFieldError points the diagnostic at the attribute the renderer named ("resolver.ttl").
func addFieldError(diags *diag.Diagnostics, fe *serverconfig.FieldError) {
	diags.AddAttributeError(fieldPath(fe.Field), fmt.Sprintf("Invalid %s", fe.Field), fe.Error())
}

package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

var (
	_ resource.ResourceWithConfigure      = (*resolverPushResource)(nil)
	_ resource.ResourceWithValidateConfig = (*resolverPushResource)(nil)
)

// NewResolverPushResource is the natsping_resolver_push resource.
func NewResolverPushResource() resource.Resource { return &resolverPushResource{} }

type resolverPushResource struct{ data *ProviderData }

const defaultResolverPushTimeout = "10s"

type resolverPushModel struct {
	ID              types.String `tfsdk:"id"`
	Servers         types.List   `tfsdk:"servers"`
	SystemUserCreds types.String `tfsdk:"system_user_creds"`
	Accounts        types.Map    `tfsdk:"accounts"`
	CABundlePEM     types.String `tfsdk:"ca_bundle_pem"`
	Timeout         types.String `tfsdk:"timeout"`
	OperatorSigner  types.String `tfsdk:"operator_signer"`
	LastPush        types.Object `tfsdk:"last_push"`
}

var lastPushTypes = map[string]attr.Type{
	"at":       types.StringType,
	"accounts": types.Int64Type,
	"servers":  types.Int64Type,
}

func (r *resolverPushResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_resolver_push"
}

func (r *resolverPushResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *resolverPushResource) now() time.Time {
	return r.data.now()
}

func (r *resolverPushResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = resolverPushResourceSchema()
}

func resolverPushResourceSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Keeps the account JWTs of live `nats-server` **full resolvers** (`resolver { type: full }`) " +
			"in sync with Terraform, the way `nsc push` does, but pipelined (thousands of accounts per second instead of " +
			"about one) and with drift in the plan.\n\n" +
			"Create and update push, with `$SYS.REQ.CLAIMS.UPDATE`, every account whose JWT differs from the state, and " +
			"wait until every full resolver of the cluster has confirmed it. An account the servers would refuse, or one " +
			"signed by a key the servers' operator does not list, is not sent and fails the apply with its reason.\n\n" +
			"**Drift:** refresh looks every account up on the live servers (`$SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP`) and " +
			"records what they actually hold: an account pushed out of band shows its live JWT, an account the servers " +
			"lack disappears from `accounts`. The plan then shows an in-place update that pushes the configured JWTs again. " +
			"When the servers cannot be reached, refresh warns and keeps the last known state, so an outage never blocks " +
			"a plan; drift is detected on the next refresh that reaches them.\n\n" +
			"**Deleting:** with `operator_signer` set, an account removed from `accounts` is deleted from the servers on " +
			"apply, and destroying this resource deletes every account it holds, with an operator-signed " +
			"`$SYS.REQ.CLAIMS.DELETE` request. The servers honour it only with `allow_delete: true` in their full resolver " +
			"(`allow_delete = true` in the `resolver` block of `natsping_server_config`); a server that refuses fails the " +
			"apply, naming the account and the server, and the account stays in the state so the next apply retries. " +
			"Without `operator_signer`, removing an account or destroying the resource leaves the servers alone: the " +
			"account stays usable there.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier derived from `servers` at creation.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"servers": schema.ListAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "URLs of the servers to connect to: `nats://host:port`, or `tls://host:port` for TLS. " +
					"One is enough; the request reaches every full resolver of the cluster through it. Changing the list " +
					"pushes every account again, since the state describes what the previous servers held.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(
					natsURLValidator{check: resolver.ValidateServerURL, desc: "a nats:// or tls:// URL"})},
			},
			"system_user_creds": schema.StringAttribute{
				Required:  true,
				Sensitive: true,
				MarkdownDescription: "Creds of a user of the operator's system account, normally " +
					"`natsping_operator.<name>.system_user_creds`. Only the system account may use `$SYS` subjects.",
				Validators: []validator.String{checkString("Invalid creds", "must be the content of a creds file (a user JWT and its seed)",
					func(s string) error { _, _, err := resolver.ParseCreds(s); return err })},
			},
			"accounts": schema.MapAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "Account public key → account JWT, e.g. `{ (natsping_account.orders.public_key) = " +
					"natsping_account.orders.jwt }`. Each JWT must be an account JWT for the key it is listed under. " +
					"After a refresh this holds what the servers hold.",
				Validators: []validator.Map{mapvalidator.KeysAre(validPublicKey(natsjwt.KindAccount))},
			},
			"operator_signer": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "The operator's signer, normally `natsping_operator.<name>.signer`, or a raw operator " +
					"seed (`SO…`: the identity seed, or a signing key's). Set, it turns on deleting accounts from the " +
					"servers (see above); it must be the operator the servers trust or one of its signing keys, and an " +
					"operator with strict signing keys accepts only a signing key. Unset, nothing is ever deleted.",
				Validators: []validator.String{validSigner(natsjwt.KindOperator)},
			},
			"ca_bundle_pem": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "PEM certificates of the CAs that sign the servers' TLS certificates. Unset: the " +
					"system's trusted roots. Set: these CAs only, replacing the system roots, because the servers are " +
					"yours and no public CA should vouch for them (`natsping_trust.ca_bundle_pem` instead adds to the " +
					"system roots, since Ping issuers sit behind public CAs). Setting it turns TLS on for `nats://` URLs too.",
				Validators: []validator.String{validCABundle()},
			},
			"timeout": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(defaultResolverPushTimeout),
				MarkdownDescription: "How long to wait to connect, and for every full resolver to answer one push or lookup " +
					"(Go duration). Default `\"" + defaultResolverPushTimeout + "\"`.",
				Validators: []validator.String{validDuration(100 * time.Millisecond)},
			},
			"last_push": schema.SingleNestedAttribute{
				Computed: true,
				MarkdownDescription: "What the last apply that pushed anything did. It changes only when an apply has " +
					"accounts to push, never on refresh.",
				Attributes: map[string]schema.Attribute{
					"at":       schema.StringAttribute{Computed: true, MarkdownDescription: "When (RFC 3339)."},
					"accounts": schema.Int64Attribute{Computed: true, MarkdownDescription: "How many accounts were pushed."},
					"servers":  schema.Int64Attribute{Computed: true, MarkdownDescription: "How many full resolvers the push went to."},
				},
			},
		},
	}
}

// ValidateConfig checks every known JWT at plan time, so a JWT listed under another account's
// key or a user JWT fails `plan`, naming the key, instead of the apply.
func (r *resolverPushResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var accounts types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("accounts"), &accounts)...)
	if resp.Diagnostics.HasError() || accounts.IsNull() || accounts.IsUnknown() {
		return
	}
	for key, v := range accounts.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			continue // signed during this apply; checked once known
		}
		p := path.Root("accounts").AtMapKey(key)
		if s.IsNull() {
			resp.Diagnostics.AddAttributeError(p, "Missing account JWT", fmt.Sprintf("accounts[%q] is null; give the account's JWT.", key))
			continue
		}
		if problem := accountJWTProblem(key, s.ValueString()); problem != "" {
			resp.Diagnostics.AddAttributeError(p, "Invalid account JWT", problem)
		}
	}
}

// accountJWTProblem returns the diagnostic for a JWT that is not key's account JWT, or "".
func accountJWTProblem(key, token string) string {
	claims, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		kind := ""
		if d, derr := natsjwt.DecodeAny(token); derr == nil && d.Kind != "" && d.Kind != string(jwt.AccountClaim) {
			kind = fmt.Sprintf(" It is a %s JWT.", d.Kind)
		}
		return fmt.Sprintf("accounts[%q] is not a valid account JWT: %v.%s Pass the account's jwt output, e.g. natsping_account.<name>.jwt.", key, err, kind)
	}
	if claims.Subject != key {
		return fmt.Sprintf("accounts[%q] holds the JWT of account %s (%q). List each JWT under its own account's public key, "+
			"e.g. (natsping_account.<name>.public_key) = natsping_account.<name>.jwt.", key, claims.Subject, claims.Name)
	}
	return ""
}

func (r *resolverPushResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan resolverPushModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	servers := pushStrings(ctx, plan.Servers, &resp.Diagnostics)
	accounts := pushMap(ctx, plan.Accounts, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	sum := sha256.Sum256([]byte(strings.Join(servers, ",")))
	plan.ID = types.StringValue("resolver-" + hex.EncodeToString(sum[:8]))
	plan.LastPush = types.ObjectNull(lastPushTypes)
	r.push(ctx, &plan, servers, sortedValues(accounts, nil), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read replaces the accounts in state with what the live servers hold, so drift shows as an
// in-place update. It never fails on an unreachable server: it warns and keeps the state.
func (r *resolverPushResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state resolverPushModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	accounts := pushMap(ctx, state.Accounts, &resp.Diagnostics)
	servers := pushStrings(ctx, state.Servers, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || len(accounts) == 0 {
		return
	}
	keys := make([]string, 0, len(accounts))
	for k := range accounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	live, err := r.lookup(ctx, &state, servers, keys)
	if err != nil {
		resp.Diagnostics.AddWarning("Live resolver not checked for drift",
			fmt.Sprintf("Could not read the accounts from %s: %v\n\nThe last known state is kept; drift on the servers "+
				"is detected by the next refresh that reaches them.", strings.Join(servers, ", "), err))
		return
	}
	if len(live.Diverged) > 0 {
		resp.Diagnostics.AddWarning("Full resolvers disagree",
			fmt.Sprintf("The servers hold different JWTs (or some lack the JWT) for %d account(s), first %s. The state records "+
				"the JWT issued last, which is what full resolvers converge to when they synchronise.", len(live.Diverged), live.Diverged[0]))
	}
	elems := make(map[string]attr.Value, len(keys))
	for _, k := range keys {
		if token := live.JWT[k]; token != "" {
			elems[k] = types.StringValue(token)
		}
	}
	m, diags := types.MapValue(types.StringType, elems)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Accounts = m
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Update pushes only the accounts whose JWT differs from the state, which after a refresh is
// what the servers hold: an unchanged account is not sent again. When servers change, the
// state describes the old ones, so every account is pushed.
func (r *resolverPushResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state resolverPushModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	servers := pushStrings(ctx, plan.Servers, &resp.Diagnostics)
	want := pushMap(ctx, plan.Accounts, &resp.Diagnostics)
	have := pushMap(ctx, state.Accounts, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	var removed []string
	for k := range have {
		if _, ok := want[k]; !ok {
			removed = append(removed, k)
		}
	}
	slices.Sort(removed)
	if !plan.Servers.Equal(state.Servers) {
		have = nil
	}
	// last_push is unknown in the plan because the resource changes; with nothing to push the
	// previous summary still describes the last push.
	plan.LastPush = state.LastPush
	r.push(ctx, &plan, servers, sortedValues(want, have), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.OperatorSigner.ValueString() != "" && len(removed) > 0 {
		// An account whose deletion failed stays in the state (with the JWT it had), so the
		// plan keeps showing its removal and the next apply retries it.
		kept := r.deleteAccounts(ctx, &plan, servers, removed, &resp.Diagnostics)
		if len(kept) > 0 {
			elems := plan.Accounts.Elements()
			for _, k := range kept {
				elems[k] = types.StringValue(state.Accounts.Elements()[k].(types.String).ValueString())
			}
			m, d := types.MapValue(types.StringType, elems)
			resp.Diagnostics.Append(d...)
			plan.Accounts = m
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete removes every account in the state from the servers when operator_signer is set;
// without it the servers are left alone (see the resource description). On a failed delete
// the resource stays in the state, so destroying it again retries.
func (r *resolverPushResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state resolverPushModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.OperatorSigner.ValueString() == "" {
		return
	}
	servers := pushStrings(ctx, state.Servers, &resp.Diagnostics)
	accounts := pushMap(ctx, state.Accounts, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || len(accounts) == 0 {
		return
	}
	keys := make([]string, 0, len(accounts))
	for k := range accounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.deleteAccounts(ctx, &state, servers, keys, &resp.Diagnostics)
}

// deleteAccounts deletes accounts from the servers with m's operator signer and returns the
// ones that were not deleted, all of them when the servers could not be asked.
func (r *resolverPushResource) deleteAccounts(ctx context.Context, m *resolverPushModel, servers, accounts []string, diags *diag.Diagnostics) []string {
	signer, err := natsjwt.ParseSigner(m.OperatorSigner.ValueString(), natsjwt.KindOperator)
	if err != nil {
		diags.AddAttributeError(path.Root("operator_signer"), "Invalid signer", err.Error())
		return accounts
	}
	c, err := r.connect(m, servers)
	if err != nil {
		diags.AddAttributeError(path.Root("servers"), "Cannot connect to the servers", err.Error())
		return accounts
	}
	defer c.nc.Close()
	report, err := resolver.Delete(ctx, c.nc, accounts, signer, c.opts)
	if len(report.Accounts) == 0 && err != nil {
		diags.AddError("Deleting accounts failed", err.Error())
		return accounts
	}
	var kept []string
	for _, a := range report.Accounts {
		if a.Err() != nil {
			kept = append(kept, a.Account)
		}
	}
	if err != nil {
		diags.AddError("Deleting accounts failed",
			fmt.Sprintf("%v\n\nThe accounts that were not deleted stay in the state, so the next apply tries again.", err))
	}
	if missing := report.Incomplete(); len(missing) > 0 {
		diags.AddWarning("Not every full resolver confirmed the deletion",
			fmt.Sprintf("%d account(s), first %s, were deleted by some full resolvers but not confirmed by all %d in time. "+
				"A server that missed the deletion still holds the account and may hand it back to the others when "+
				"full resolvers exchange their stores; delete it there once the server is reachable.",
				len(missing), missing[0], report.Resolvers))
	}
	return kept
}

// resolverConn is one connection for one operation: a plan or apply connects, does its
// lookups or pushes, and closes, so no connection outlives the provider call.
type resolverConn struct {
	nc   *nats.Conn
	opts resolver.Options
}

func (r *resolverPushResource) connect(m *resolverPushModel, servers []string) (*resolverConn, error) {
	timeout, err := time.ParseDuration(m.Timeout.ValueString())
	if err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	}
	nc, err := resolver.Connect(resolver.ConnectOptions{
		Servers: servers, Creds: m.SystemUserCreds.ValueString(), CAPEM: m.CABundlePEM.ValueString(), Timeout: timeout,
	})
	if err != nil {
		return nil, err
	}
	return &resolverConn{nc: nc, opts: resolver.Options{Timeout: timeout}}, nil
}

// push sends tokens and records the summary in m.LastPush; nothing to send needs no connection.
func (r *resolverPushResource) push(ctx context.Context, m *resolverPushModel, servers, tokens []string, diags *diag.Diagnostics) {
	if len(tokens) == 0 {
		if m.LastPush.IsUnknown() {
			m.LastPush = types.ObjectNull(lastPushTypes)
		}
		return
	}
	c, err := r.connect(m, servers)
	if err != nil {
		diags.AddAttributeError(path.Root("servers"), "Cannot connect to the servers", err.Error())
		return
	}
	defer c.nc.Close()
	report, err := resolver.Push(ctx, c.nc, tokens, c.opts)
	if err != nil {
		diags.AddError("Pushing accounts failed",
			fmt.Sprintf("%v\n\nAccounts that were stored are picked up by the next refresh.", err))
		return
	}
	if missing := report.Incomplete(); len(missing) > 0 {
		diags.AddWarning("Not every full resolver confirmed the push",
			fmt.Sprintf("%d account(s), first %s, were stored by some full resolvers but not confirmed by all %d in time. "+
				"Full resolvers exchange JWTs among themselves, so the others catch up within the resolver interval.",
				len(missing), missing[0], report.Resolvers))
	}
	obj, d := types.ObjectValue(lastPushTypes, map[string]attr.Value{
		"at":       types.StringValue(r.now().UTC().Format(time.RFC3339)),
		"accounts": types.Int64Value(int64(report.Pushed())),
		"servers":  types.Int64Value(int64(report.Resolvers)),
	})
	diags.Append(d...)
	m.LastPush = obj
}

func (r *resolverPushResource) lookup(ctx context.Context, m *resolverPushModel, servers, keys []string) (resolver.LookupResult, error) {
	c, err := r.connect(m, servers)
	if err != nil {
		return resolver.LookupResult{}, err
	}
	defer c.nc.Close()
	return resolver.Lookup(ctx, c.nc, keys, c.opts)
}

// sortedValues lists the JWTs of want that differ from have, sorted by account key so the push
// order (and the first account named in a message) is stable.
func sortedValues(want, have map[string]string) []string {
	keys := make([]string, 0, len(want))
	for k, v := range want {
		if have[k] != v {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = want[k]
	}
	return out
}

func pushStrings(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

func pushMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out
	}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

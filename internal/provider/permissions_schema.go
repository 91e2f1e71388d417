package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// permissionsAttribute is the one schema for publish/subscribe rules, shared by users,
// account default permissions and role templates. templates allows {{tag(x)}}-style
// functions, which nats-server expands only for scoped signing keys (roles).
func permissionsAttribute(description string, templates bool) schema.SingleNestedAttribute {
	subjects := func(desc string, queue bool) schema.SetAttribute {
		return schema.SetAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			MarkdownDescription: desc,
			Validators: []validator.Set{
				setvalidator.SizeAtLeast(1),
				setvalidator.ValueStringsAre(validSubject(natsjwt.SubjectOptions{Wildcards: true, Templates: templates, Queue: queue})),
			},
		}
	}
	return schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: description,
		Attributes: map[string]schema.Attribute{
			"pub_allow": subjects("Subjects that may be published to. Wildcards `*` and `>` are allowed.", false),
			"pub_deny":  subjects("Subjects that may not be published to; deny wins over allow.", false),
			"sub_allow": subjects("Subjects that may be subscribed to, optionally followed by a space and a queue group.", true),
			"sub_deny":  subjects("Subjects that may not be subscribed to; deny wins over allow.", true),
			"response": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Allows replying to received requests without a publish permission for the reply " +
					"subject (request/reply services).",
				Attributes: map[string]schema.Attribute{
					"max_msgs": schema.Int64Attribute{
						Optional:            true,
						MarkdownDescription: "How many replies may be sent per request. Default: 1.",
						Validators:          []validator.Int64{int64validator.AtLeast(1)},
					},
					"ttl": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "How long after the request a reply may be sent, as a Go duration (`\"5s\"`). Default: no limit.",
						Validators:          []validator.String{validDuration(time.Millisecond)},
					},
				},
			},
		},
	}
}

type permissionsModel struct {
	PubAllow types.Set      `tfsdk:"pub_allow"`
	PubDeny  types.Set      `tfsdk:"pub_deny"`
	SubAllow types.Set      `tfsdk:"sub_allow"`
	SubDeny  types.Set      `tfsdk:"sub_deny"`
	Response *responseModel `tfsdk:"response"`
}

type responseModel struct {
	MaxMsgs types.Int64  `tfsdk:"max_msgs"`
	TTL     types.String `tfsdk:"ttl"`
}

// toDomain converts the Terraform model; a nil model means "no rules".
func (m *permissionsModel) toDomain(ctx context.Context) (natsjwt.Permissions, diag.Diagnostics) {
	var p natsjwt.Permissions
	var diags diag.Diagnostics
	if m == nil {
		return p, diags
	}
	p.PubAllow = stringElements(ctx, m.PubAllow, &diags)
	p.PubDeny = stringElements(ctx, m.PubDeny, &diags)
	p.SubAllow = stringElements(ctx, m.SubAllow, &diags)
	p.SubDeny = stringElements(ctx, m.SubDeny, &diags)
	if r := m.Response; r != nil {
		p.Response = &natsjwt.ResponsePermission{MaxMsgs: 1}
		if !r.MaxMsgs.IsNull() {
			p.Response.MaxMsgs = int(r.MaxMsgs.ValueInt64())
		}
		if !r.TTL.IsNull() {
			d, err := time.ParseDuration(r.TTL.ValueString())
			if err != nil {
				diags.AddError("Invalid response ttl", err.Error())
			}
			p.Response.Expires = d
		}
	}
	return p, diags
}

// userLimitAttributes are the connection limits shared by users and role templates.
func userLimitAttributes() map[string]schema.Attribute {
	limit := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{
			Optional:            true,
			MarkdownDescription: desc + " `-1` or unset means unlimited.",
			Validators:          []validator.Int64{int64validator.AtLeast(-1)},
		}
	}
	return map[string]schema.Attribute{
		"max_subscriptions": limit("Maximum number of subscriptions per connection."),
		"max_data":          limit("Maximum bytes of data the connection may receive."),
		"max_payload":       limit("Maximum message payload in bytes."),
		"bearer": schema.BoolAttribute{
			Optional: true,
			MarkdownDescription: "Bearer token: the JWT alone authenticates, without proving possession of the seed. " +
				"Default `false`. Only for sentinel-style users.",
		},
		"allowed_connection_types": schema.SetAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			MarkdownDescription: "Connection types allowed; any of `" + joinBackticked(natsjwt.ConnectionTypes) + "`. Unset allows all.",
			Validators:          []validator.Set{setvalidator.ValueStringsAre(stringvalidator.OneOf(natsjwt.ConnectionTypes...))},
		},
		"source_networks": schema.SetAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			MarkdownDescription: "Client source networks (CIDRs or IPs) allowed to connect. Unset allows all.",
		},
	}
}

type userLimitsModel struct {
	MaxSubscriptions       types.Int64 `tfsdk:"max_subscriptions"`
	MaxData                types.Int64 `tfsdk:"max_data"`
	MaxPayload             types.Int64 `tfsdk:"max_payload"`
	Bearer                 types.Bool  `tfsdk:"bearer"`
	AllowedConnectionTypes types.Set   `tfsdk:"allowed_connection_types"`
	SourceNetworks         types.Set   `tfsdk:"source_networks"`
}

func (m userLimitsModel) toDomain(ctx context.Context) (natsjwt.UserLimits, diag.Diagnostics) {
	var diags diag.Diagnostics
	l := natsjwt.UserLimits{
		Subs:    m.MaxSubscriptions.ValueInt64(),
		Data:    m.MaxData.ValueInt64(),
		Payload: m.MaxPayload.ValueInt64(),
		Bearer:  m.Bearer.ValueBool(),
	}
	l.AllowedConnectionTypes = stringElements(ctx, m.AllowedConnectionTypes, &diags)
	l.SourceNetworks = stringElements(ctx, m.SourceNetworks, &diags)
	return l, diags
}

func joinBackticked(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += "`, `"
		}
		out += s
	}
	return out
}

package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// serverLimitsAttribute describes the client limits. Their rules live in serverconfig and
// run in ValidateConfig, so the schema carries no validators that could drift from them.
func serverLimitsAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Client connection limits of the server. Each unset value keeps the nats-server default. " +
			"With auth callout, `max_control_line` and `auth_timeout` decide whether a Ping token gets to the callout at all: " +
			"see the [limits guide](../guides/limits.md).",
		Attributes: map[string]schema.Attribute{
			"max_control_line": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Longest protocol line a client may send, in bytes. Default %d. A client's "+
					"CONNECT carries the whole Ping token, so a token listing many groups (about 55 group ids or 95 "+
					"twenty-character names) exceeds the default and the server closes the connection with `maximum control "+
					"line exceeded` before the callout sees it. %d to %d: the callout refuses tokens over %d bytes, and the server may "+
					"buffer this much of every connection that has not authenticated yet.", serverconfig.DefaultMaxControlLine,
					serverconfig.DefaultMaxControlLine, serverconfig.MaxControlLineCeiling, oidc.MaxTokenBytes),
			},
			"max_payload": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Largest message payload in bytes, at most `max_pending`. Default %d (1 MiB). "+
					"Account and role `max_payload` can only lower it.", serverconfig.DefaultMaxPayload),
			},
			"max_pending": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Bytes that may wait to be sent to one client before the server closes it as a "+
					"slow consumer. Default %d (64 MiB).", serverconfig.DefaultMaxPending),
			},
			"max_connections": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Client connections the server accepts in total. Default %d. Account "+
					"`limits.max_connections` caps each account below it.", serverconfig.DefaultMaxConnections),
			},
			"ping_interval": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How often the server pings an idle client (Go duration). Default `%q`.",
					serverconfig.DefaultPingInterval),
			},
			"ping_max": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Unanswered pings after which the server closes a connection. Default %d.",
					serverconfig.DefaultPingMax),
			},
			"write_deadline": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How long one write to a client may take before the server closes it as a slow "+
					"consumer (Go duration). Default `%q`.", serverconfig.DefaultWriteDeadline),
			},
			"auth_timeout": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How long a client has to authenticate (Go duration, at most a minute), rendered "+
					"as `authorization { timeout }`. Default `%q` without TLS. With auth callout it bounds the whole round "+
					"trip, the callout's token verification and a JWKS fetch after a Ping key rotation included: a late "+
					"answer is an `Authorization Violation`, indistinguishable from a refusal.", serverconfig.DefaultAuthTimeout),
			},
		},
	}
}

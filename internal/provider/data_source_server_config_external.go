package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
)

// resolverExternalAttribute is resolver.external: the fragment's includer (the NATS Helm
// chart) renders the resolver block; serverconfig owns the rules.
func resolverExternalAttribute() schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional: true,
		MarkdownDescription: "With `fragment = true`: the configuration that includes the fragment renders the resolver block " +
			"(the NATS Helm chart does with `config.resolver.enabled`, and owns the resolver's volume), so the fragment leaves it " +
			"out and renders only the preload `type` calls for (the system account, for `full` and `cache`). Requires `type = " +
			"\"full\"` or `\"cache\"`; `dir`, `allow_delete`, `interval`, `timeout`, `ttl` and `limit` are then set in the " +
			"including configuration (the chart's `config.resolver.dir` and `config.resolver.merge`) and refused here. Default `false`.",
	}
}

// deferExternalResolver leaves resolver.external for Read while fragment is unknown: whether
// "needs fragment = true" applies is not known yet.
func deferExternalResolver(in serverconfig.Input, unknown map[string]bool) {
	if unknown["fragment"] && in.Resolver.External {
		unknown["resolver"] = true
	}
}

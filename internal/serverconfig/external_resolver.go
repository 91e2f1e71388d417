package serverconfig

// externalResolverNote replaces the resolver block in a fragment whose includer owns it, so a
// reader of the rendered file knows where the resolver is.
const externalResolverNote = "# The resolver block is the including configuration's (resolver.external): with the NATS Helm\n" +
	"# chart, config.resolver, which also owns the resolver's volume.\n\n"

// validateExternalResolver checks resolver.external: the NATS Helm chart renders a directory
// resolver of its own (config.resolver, on its own PVC), and in the nats.conf it writes its
// keys follow the include, so they win. A fragment that renders a resolver block too would
// only be silently overridden; with External it renders just the preload of a full or cache
// resolver and leaves every directory setting to the chart's values.
func validateExternalResolver(in Input, errs *FieldErrors) {
	r := in.Resolver
	if !r.External {
		return
	}
	if !in.Fragment {
		errs.add("resolver.external", "needs fragment = true: a whole configuration has no including file to render the resolver block; "+
			"remove external, or render a fragment")
	}
	switch r.Type {
	case ResolverFull, ResolverCache:
	case "", ResolverMemory:
		errs.add("resolver.external", "needs type = \"full\" or \"cache\": the including configuration's resolver (the Helm chart's "+
			"config.resolver) is a directory resolver; for a memory resolver, remove external and disable the chart's config.resolver")
	}
	where := "the including configuration's resolver block (the Helm chart's config.resolver.%s)"
	for _, s := range []struct {
		name, chartKey string
		set            bool
	}{
		{"dir", "dir", r.Dir != ""},
		{"allow_delete", "merge.allow_delete", r.AllowDelete},
		{"interval", "merge.interval", r.Interval != ""},
		{"timeout", "merge.timeout", r.Timeout != ""},
		{"ttl", "merge.ttl", r.TTL != ""},
		{"limit", "merge.limit", r.Limit != 0},
	} {
		if s.set {
			errs.add("resolver."+s.name, "cannot be set with resolver.external = true: it belongs to "+where+"; set it there and remove it here",
				s.chartKey)
		}
	}
}

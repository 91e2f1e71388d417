package serverconfig

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// sizeRe is what nats-server's getStorageSize accepts from a quoted string, plus plain
// numbers (which are written unquoted, because the server rejects a quoted number).
var sizeRe = regexp.MustCompile(`^[0-9]+[KMGT]?$`)

// effectiveResolver is Resolver with the type resolved and defaults applied.
type effectiveResolver struct {
	Resolver
}

// ValidateSettings checks every input that needs no JWT decoding: resolver type and its
// settings, durations, sizes, listen address, server name and client limits. Render calls it too; it is
// exported so a caller can report these mistakes before the JWTs are known.
func ValidateSettings(in Input) FieldErrors {
	var errs FieldErrors
	validateResolver(in.Resolver, &errs)
	validateExternalResolver(in, &errs)
	if h := in.Listen.Host; h != "" && strings.IndexFunc(h, unicode.IsSpace) >= 0 {
		errs.add("listen.host", "%q contains whitespace; use a hostname or IP address such as 0.0.0.0 or 127.0.0.1", h)
	}
	if p := in.Listen.Port; p < -1 || p > 65535 {
		errs.add("listen.port", "%d is not a port; use 1-65535, or -1 for a random port", p)
	}
	if n := in.ServerName; n != "" && strings.IndexFunc(n, unicode.IsSpace) >= 0 {
		errs.add("server_name", "%q contains whitespace, which nats-server rejects; use e.g. %q", n, strings.Join(strings.Fields(n), "-"))
	}
	if js := in.JetStream; js != nil {
		for field, v := range map[string]string{"jetstream.max_memory": js.MaxMemory, "jetstream.max_file": js.MaxFile} {
			if _, err := strconv.ParseInt(strings.TrimRight(v, "KMGT"), 10, 64); v != "" && (!sizeRe.MatchString(v) || err != nil) {
				errs.add(field, "%q is not a size; use a number of bytes or a number with a K, M, G or T suffix, e.g. \"1G\"", v)
			}
		}
		if js.StoreDir != "" && strings.TrimSpace(js.StoreDir) == "" {
			errs.add("jetstream.store_dir", "is blank; leave it unset for the server default or give a directory")
		}
	}
	validateLimits(in.Limits, &errs)
	validateTopology(in, &errs)
	sortFieldErrors(errs)
	return errs
}

func validateResolver(r Resolver, errs *FieldErrors) {
	typ := r.Type
	if typ == "" {
		typ = ResolverMemory
	}
	if r.External && slices.Contains(ResolverTypes(), string(typ)) {
		// Every setting of an external resolver belongs to the including file and is refused
		// by validateExternalResolver; checking their values here would only repeat that.
		return
	}
	// Each setting lists the resolver types that accept it; nats-server refuses the others
	// ("CACHE does not accept sync", "FULL does not accept ttl"), so reject them here with
	// the fix instead of rendering a config the server will not load.
	type setting struct {
		name    string
		set     bool
		allowed []ResolverType
	}
	settings := []setting{
		{"dir", r.Dir != "", []ResolverType{ResolverFull, ResolverCache}},
		{"allow_delete", r.AllowDelete, []ResolverType{ResolverFull}},
		{"interval", r.Interval != "", []ResolverType{ResolverFull}},
		{"timeout", r.Timeout != "", []ResolverType{ResolverFull, ResolverCache}},
		{"ttl", r.TTL != "", []ResolverType{ResolverCache}},
		{"limit", r.Limit != 0, []ResolverType{ResolverFull, ResolverCache}},
	}
	switch typ {
	case ResolverMemory, ResolverFull, ResolverCache:
		for _, s := range settings {
			if s.set && !containsType(s.allowed, typ) {
				errs.add("resolver."+s.name, "is not supported by the %s resolver (only by %s); remove it or change resolver.type",
					typ, joinTypes(s.allowed))
			}
		}
	default:
		errs.add("resolver.type", "%q is not a resolver type; use one of %s", string(r.Type), strings.Join(ResolverTypes(), ", "))
	}
	for name, v := range map[string]string{"interval": r.Interval, "timeout": r.Timeout, "ttl": r.TTL} {
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs.add("resolver."+name, "%q is not a positive Go duration; use e.g. \"2m\", \"1.9s\" or \"1h\"", v)
		}
	}
	if r.Dir != "" && strings.TrimSpace(r.Dir) == "" {
		errs.add("resolver.dir", "is blank; leave it unset for %q or give a directory", DefaultDir)
	}
	if r.Limit < 0 {
		errs.add("resolver.limit", "%d is negative; use a positive number of JWTs, or leave it unset for the server default", r.Limit)
	}
}

func (r Resolver) effective() effectiveResolver {
	e := effectiveResolver{r}
	if e.Type == "" {
		e.Type = ResolverMemory
	}
	if e.Type == ResolverMemory {
		return e
	}
	if e.Dir == "" {
		e.Dir = DefaultDir
	}
	if e.Timeout == "" {
		e.Timeout = DefaultTimeout
	}
	if e.Type == ResolverFull && e.Interval == "" {
		e.Interval = DefaultInterval
	}
	if e.Type == ResolverCache && e.TTL == "" {
		e.TTL = DefaultTTL
	}
	return e
}

func containsType(list []ResolverType, t ResolverType) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

func joinTypes(list []ResolverType) string {
	s := make([]string, len(list))
	for i, t := range list {
		s[i] = string(t)
	}
	return strings.Join(s, " and ")
}

package serverconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// Render validates in and renders the server configuration in the layout nsc writes
// (`nsc generate config --mem-resolver` / `--nats-resolver`): MEMORY preloads every account,
// full and cache preload only the system account and expect the rest to be pushed or seeded
// from ResolverFiles. Every problem is returned at once as FieldErrors.
func Render(in Input) (*Output, error) {
	errs := ValidateSettings(in)
	op, sys := decodeOperator(in, &errs)
	decoded, decodeErrs := decodeAccounts(in.AccountJWTs)
	accounts := checkAccounts(op, sys, decoded, decodeErrs, &errs)
	sentinel := checkSentinel(in.DefaultSentinel, accounts, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}

	size := len(in.OperatorJWT) + len(sentinel) + 1024
	for _, a := range accounts {
		size += len(a.token) + len(a.claims.Name) + 96
	}
	var trust strings.Builder
	trust.Grow(size)
	writeTrust(&trust, in, op.Name, sys, accounts, sentinel)

	out := &Output{SystemAccount: sys}
	switch {
	case in.Fragment || len(in.Nodes) > 0:
		out.Config = renderFragment(in, trust.String())
		if len(in.Nodes) > 0 {
			out.NodeConfigs = make(map[string]string, len(in.Nodes))
			for i := range in.Nodes {
				out.NodeConfigs[in.Nodes[i].ServerName] = renderWhole(in, &in.Nodes[i], trust.String())
			}
		}
	default:
		out.Config = renderWhole(in, nil, trust.String())
	}
	files := make(map[string]string, len(accounts))
	for _, a := range accounts {
		files[a.claims.Subject+".jwt"] = a.token
	}
	out.ResolverFiles = files
	return out, nil
}

// renderWhole is a complete server configuration: identity and listeners, client limits,
// the trust part and JetStream, in that order.
func renderWhole(in Input, node *Node, trust string) string {
	var b strings.Builder
	b.Grow(len(trust) + 2048)
	b.WriteString("# nats-server configuration rendered by natsping (operator mode).\n")
	writeListeners(&b, in, node)
	writeLimits(&b, in.Limits)
	b.WriteString(trust)
	writeJetStream(&b, in.JetStream)
	return b.String()
}

// renderFragment is what natsping owns, for an include: client limits and the trust part.
func renderFragment(in Input, trust string) string {
	var b strings.Builder
	b.Grow(len(trust) + 512)
	b.WriteString("# nats-server configuration fragment rendered by natsping (operator mode): include it from a\n" +
		"# configuration that owns the listeners, cluster and JetStream (e.g. the NATS Helm chart's).\n")
	writeLimits(&b, in.Limits)
	b.WriteString(trust)
	return b.String()
}

// writeTrust renders the operator, the system account, the resolver with its preload and
// the default sentinel.
func writeTrust(b *strings.Builder, in Input, operatorName, sys string, accounts []account, sentinel string) {
	fmt.Fprintf(b, "\n# Operator %s\n", comment(operatorName))
	fmt.Fprintf(b, "operator: %s\n", Quote(strings.TrimSpace(in.OperatorJWT)))
	fmt.Fprintf(b, "# System account %s\n", comment(nameOf(accounts, sys)))
	fmt.Fprintf(b, "system_account: %s\n\n", sys)

	r := in.Resolver.effective()
	preload := accounts
	if r.Type == ResolverMemory {
		b.WriteString("resolver: MEMORY\n\n")
	} else {
		if r.External {
			b.WriteString(externalResolverNote)
		} else {
			writeDirResolver(b, r)
		}
		// Only the system account is preloaded: it lets the server start without a bootstrap
		// round; later pushes of the system account take precedence over this copy.
		preload = nil
		for _, a := range accounts {
			if a.claims.Subject == sys {
				preload = append(preload, a)
			}
		}
	}
	b.WriteString("resolver_preload: {\n")
	for i, a := range preload {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(b, "  # Account %s\n", comment(a.claims.Name))
		b.WriteString("  ")
		b.WriteString(a.claims.Subject)
		b.WriteString(": ")
		b.WriteString(Quote(a.token))
		b.WriteByte('\n')
	}
	b.WriteString("}\n")

	if sentinel != "" {
		b.WriteString("\n# Bearer user JWT for clients that present only a token; the auth callout decides.\n")
		fmt.Fprintf(b, "default_sentinel: %s\n", Quote(sentinel))
	}
}

func writeJetStream(b *strings.Builder, js *JetStream) {
	if js == nil {
		return
	}
	b.WriteString("\njetstream {\n")
	if js.StoreDir != "" {
		fmt.Fprintf(b, "  store_dir: %s\n", Quote(js.StoreDir))
	}
	if js.MaxMemory != "" {
		fmt.Fprintf(b, "  max_memory_store: %s\n", size2conf(js.MaxMemory))
	}
	if js.MaxFile != "" {
		fmt.Fprintf(b, "  max_file_store: %s\n", size2conf(js.MaxFile))
	}
	b.WriteString("}\n")
}

func writeDirResolver(b *strings.Builder, r effectiveResolver) {
	b.WriteString("resolver {\n")
	fmt.Fprintf(b, "  type: %s\n", r.Type)
	fmt.Fprintf(b, "  dir: %s\n", Quote(r.Dir))
	if r.Type == ResolverFull {
		fmt.Fprintf(b, "  allow_delete: %t\n", r.AllowDelete)
		fmt.Fprintf(b, "  interval: %s\n", Quote(r.Interval))
	}
	if r.Type == ResolverCache {
		fmt.Fprintf(b, "  ttl: %s\n", Quote(r.TTL))
	}
	fmt.Fprintf(b, "  timeout: %s\n", Quote(r.Timeout))
	if r.Limit > 0 {
		fmt.Fprintf(b, "  limit: %d\n", r.Limit)
	}
	b.WriteString("}\n\n")
}

func nameOf(accounts []account, subject string) string {
	for _, a := range accounts {
		if a.claims.Subject == subject {
			return a.claims.Name
		}
	}
	return ""
}

// comment renders a name for a `#` comment. Names come from JWTs; Go quoting escapes line
// breaks, so a crafted name cannot end the comment and inject configuration.
func comment(name string) string { return strconv.Quote(name) }

// Quote renders s as a double-quoted nats-server config string. Quoting every value keeps
// `$` from being read as a variable reference and `#`, `;` or spaces from ending the value;
// the escapes are exactly those the nats-server config lexer understands.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// size2conf writes a plain byte count unquoted (nats-server rejects quoted plain numbers)
// and a suffixed size quoted (so the server reads the suffix as a power of 1024).
func size2conf(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	return Quote(s)
}

package serverconfig

import (
	"errors"
	"fmt"
	"strings"
)

// ResolverType selects how the server learns account JWTs.
type ResolverType string

const (
	// ResolverMemory preloads every account in the config; the server only accepts updates for
	// accounts it already knows, so adding an account means re-rendering and reloading.
	ResolverMemory ResolverType = "memory"
	// ResolverFull keeps every account JWT in a directory and synchronises it with other
	// servers; accounts are pushed at runtime.
	ResolverFull ResolverType = "full"
	// ResolverCache keeps recently used account JWTs in a directory and looks up the rest
	// from full resolvers in the cluster.
	ResolverCache ResolverType = "cache"
)

// ResolverTypes lists the accepted resolver types, in the order the documentation shows them.
func ResolverTypes() []string {
	return []string{string(ResolverMemory), string(ResolverFull), string(ResolverCache)}
}

// Defaults applied to the directory resolvers, the same values nsc writes.
const (
	DefaultDir      = "./jwt"
	DefaultInterval = "2m"
	DefaultTimeout  = "1.9s"
	DefaultTTL      = "1h"
)

// Resolver configures the account resolver. Zero values mean "not set": defaults are applied
// where the resolver type has one, and settings the type does not support are rejected
// instead of being silently dropped (nats-server refuses them too).
type Resolver struct {
	// Type is memory, full or cache; empty means memory.
	Type ResolverType
	// Dir is where full and cache resolvers keep JWTs. Default DefaultDir. nats-server
	// resolves a relative dir against its working directory, not the config file.
	Dir string
	// AllowDelete lets operator-signed delete requests remove accounts (full only).
	AllowDelete bool
	// Interval is how often a full resolver compares its JWTs with a random peer. Default
	// DefaultInterval (full only).
	Interval string
	// Timeout bounds lookups of accounts the server does not have locally. Default
	// DefaultTimeout (full and cache).
	Timeout string
	// TTL is how long a cache resolver keeps a JWT. Default DefaultTTL (cache only).
	TTL string
	// Limit caps the number of JWTs kept; 0 leaves the server default (full and cache).
	Limit int64
	// External leaves the resolver block to the configuration that includes the fragment
	// (the NATS Helm chart's config.resolver, which also owns its volume); only the preload
	// Type calls for is rendered. Fragment only; see validateExternalResolver.
	External bool
}

// Listen is the client listen address. Zero values leave the server defaults (0.0.0.0:4222).
type Listen struct {
	Host string
	// Port is 1-65535, or -1 for a random port; 0 means not set.
	Port int
}

// JetStream enables JetStream on the server. Sizes take a number of bytes or a number with
// a K, M, G or T suffix (powers of 1024, as nats-server reads quoted sizes).
type JetStream struct {
	StoreDir  string
	MaxMemory string
	MaxFile   string
}

// Input is everything a server config is rendered from.
type Input struct {
	// OperatorJWT is the trusted operator's JWT.
	OperatorJWT string
	// SystemAccount is the system account's public key. When empty, the operator JWT's
	// system_account is used.
	SystemAccount string
	// AccountJWTs are all account JWTs, including the system account's. Order does not matter.
	AccountJWTs []string
	// Resolver selects and tunes the account resolver.
	Resolver Resolver
	// DefaultSentinel is an optional bearer user JWT handed to clients that connect with
	// only a token (auth callout); see nats-server's default_sentinel.
	DefaultSentinel string
	Listen          Listen
	ServerName      string
	// JetStream is enabled when non-nil.
	JetStream *JetStream
	// Limits are the client connection limits; the zero value keeps the server's.
	Limits Limits
	// TLS secures the client listener (and HTTPS monitoring); nil means plain TCP.
	TLS        *TLS
	Cluster    *Cluster
	LeafNodes  *LeafNodes
	Websocket  *Websocket
	Monitoring *Monitoring
	// Nodes renders one config per node of a cluster (Output.NodeConfigs), each with its
	// server_name, ports and routes to the other nodes.
	Nodes []Node
	// Fragment renders only what natsping owns (operator, resolver, sentinel, client limits)
	// for an `include` from a configuration that owns the listeners, such as the one the
	// NATS Helm chart writes; listener settings are then refused.
	Fragment bool
}

// Output is the rendered configuration.
type Output struct {
	// Config is the nats-server configuration text.
	Config string
	// ResolverFiles maps "<account public key>.jwt" to the account JWT for every account, the
	// layout a full resolver directory uses, so a fresh server can be seeded before start.
	ResolverFiles map[string]string
	// SystemAccount is the system account in effect (given, or taken from the operator JWT).
	SystemAccount string
	// NodeConfigs maps each node's server_name to its whole configuration when Input.Nodes
	// is set; Config is then the part every node shares (what Fragment renders).
	NodeConfigs map[string]string
}

// FieldError is one problem with one input. Field uses the snake_case names of the
// Terraform data source ("resolver.ttl", "account_jwts"), so callers can point at the
// attribute without a mapping table.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// FieldErrors collects every problem found, so a user fixes them in one round.
type FieldErrors []*FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.As reach the individual field errors.
func (e FieldErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

func (e *FieldErrors) add(field, format string, args ...any) {
	*e = append(*e, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (e FieldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// AsFieldErrors returns the field errors inside err, or nil when err carries none.
func AsFieldErrors(err error) FieldErrors {
	var fes FieldErrors
	if errors.As(err, &fes) {
		return fes
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return FieldErrors{fe}
	}
	return nil
}

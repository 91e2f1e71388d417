// Package pingonetest runs a PingOne look-alike on one httptest server: the OIDC issuer of an
// environment (discovery, JWKS, token endpoint) and the slice of the Management API that
// natsping uses (groups and applications). Tests of the OIDC verifier, the PingOne client, the
// provider and the callout service, and the demo program, all talk to it instead of the real
// PingOne.
//
// Everything is served at PingOne's own paths, so code under test builds its URLs exactly as it
// would for auth.pingone.<tld> and api.pingone.<tld>; only the host differs:
//
//	<base>/<env>/as/.well-known/openid-configuration   discovery (PingOne's field set)
//	<base>/<env>/as/jwks                               signing keys (kid, use, kty, n, e, x5t, x5c; no alg)
//	<base>/<env>/as/token                              client_credentials for the worker app (basic auth)
//	<base>/<env>/as/introspect                         RFC 7662 introspection of opaque tokens (as discovery says)
//	<base>/as/introspect.oauth2                        the same endpoint at PingFederate's path
//	<base>/v1/environments/<env>/groups                list with SCIM filter, limit and cursor paging
//	<base>/v1/environments/<env>/groups/<id>           one group
//	<base>/v1/environments/<env>/applications          list without filter or limit (PingOne documents none), cursor paging
//	<base>/v1/environments/<env>/applications/<id>     one application
//
// Payload shapes (claims, token responses, HAL collections, error bodies with id, code, message
// and details[]) follow PingOne's published schemas and captured examples, with obviously fake
// ids. The server serves TLS by default, as PingOne does; use [Server.Client] or [Server.CAPEM]
// to trust it.
//
// Tests steer it through methods rather than by rewriting responses: [Server.IssueToken] and
// the Forge helpers mint good and deliberately bad tokens, [Server.PublishNextKey],
// [Server.RotateKey] and [Server.RetireOldKeys] follow PingOne's signing-key lifecycle, [Server.SetJWKSAvailable]
// simulates an outage, [Server.IssueOpaqueToken], [Server.RevokeToken] and
// [Server.SetIntrospectionAvailable] drive the introspection endpoint, [Server.SetIntrospectionAdvertised]
// drops it from discovery, [Server.RateLimitNext] injects 429 REQUEST_LIMITED responses, and
// [Server.AddGroup], [Server.RenameGroup] and [Server.DeleteGroup] change the directory between
// Terraform steps, as [Server.AddApplication], [Server.RenameApplication],
// [Server.SetApplicationEnabled] and [Server.DeleteApplication] change its applications.
// Counters such as [Server.JWKSFetches] let tests prove caching without timing.
package pingonetest

// Package oidc verifies Ping-issued OIDC/OAuth tokens under an explicit policy, keeps the
// issuer's JWKS cached with rate-limited refreshes, and reads discovery documents. The provider
// uses it to show key rotation as drift; the callout service uses it for every decision.
//
// # Fail-closed rules
//
// A token is accepted only when every check passes; anything the verifier cannot decide is a
// refusal with a stable Reason, never a pass:
//
//   - Only the JWS compact serialization with exactly one signature is read. JWE, the JSON
//     serializations, unencoded payloads (b64) and tokens over MaxTokenBytes are malformed.
//   - The algorithm comes from the policy, not the token: the header alg must be in the
//     allow-list, "none" and HS* can never be on it, and the key chosen for a kid must be of the
//     type that alg needs (RSA for RS*/PS*, the matching EC curve for ES*, Ed25519 for EdDSA).
//     Keys embedded in or referenced by the header (jwk, jku, x5u) are never used.
//   - Keys come only from the configured JWKS. Keys marked use=enc, symmetric keys and RSA keys
//     under 2048 bits are ignored. When a JWKS publishes two different keys under one kid that
//     both fit the alg, that kid is refused rather than one being picked.
//   - The JWKS is refreshed on a schedule (RemoteKeySet.Run: the issuer's Cache-Control
//     max-age, clamped to [MinRefreshInterval, RefreshInterval]), so a key Ping publishes
//     ahead of use is known before its first token. An unknown kid may refetch the JWKS too,
//     but only when the token could pass with some key (its claims pass the policy and its
//     signature has a possible length), at most one fetch runs at a time, and at most one
//     starts per UnknownKIDInterval (none while the issuer's Retry-After lasts): a flood of
//     invented kids costs the issuer about one request a second and cannot hold back a new
//     key for longer than that. Cached keys keep working while the endpoint is down; a kid
//     not cached then is refused (keys_unavailable).
//   - A crit header is refused (unsupported_critical_header): no JWS extension is processed.
//   - iss must equal the policy issuer byte for byte; aud must contain a policy audience; exp
//     and iat are required, exp and nbf are applied with the policy skew, iat may not lie in
//     the future, and exp−iat may not exceed MaxTokenLifetime.
//   - Required scopes must all be present and forbidden scopes absent (scope or scp). A groups
//     claim of an unexpected type is refused instead of being read as "no groups".
//   - The verification cache holds successes only, keyed by the token's SHA-256. A hit is
//     re-checked against the clock and against the key set (a key dropped from the JWKS drops
//     its cached tokens), and lives no longer than exp or the cache TTL.
//
// # Opaque tokens (RFC 7662)
//
// With an Introspector, a token that is not serialized like a JOSE object (two or four dots,
// or JSON) is a reference token and is decided by the issuer's introspection endpoint; a
// JOSE-shaped token never leaves the process, so a malformed JWT is refused as malformed and
// costs the issuer nothing. A reference token must be 22–4096 RFC 6750 b64token characters
// before it is sent (fewer cannot hold the 128 bits RFC 6749 §10.10 asks for).
//
//   - The answer passes the JWT policy: active must be the boolean true, then iss, aud, exp,
//     nbf, iat, lifetime cap, scopes and groups as for a JWT, and the Identity's Claims are the
//     answer's members without active. Two rules differ. A missing iss is the issuer's own: the
//     answer comes from its endpoint, over TLS, to an authenticated client (PingFederate sends
//     none). A missing iat (PingFederate again) makes the lifetime cap bound exp−now, the time
//     anyone can still use the token. exp stays required. A token_type other than Bearer
//     (DPoP) is refused: a NATS client cannot prove possession of a key.
//   - Positive answers are cached by the token's SHA-256 until exp, bounded by entries and by
//     response bytes, and reused without asking only for FreshFor (30 s by default here; the
//     callout's reuse_for defaults to asking on every connect): that is the revocation delay. Past it the issuer is asked again; the cached answer is served
//     only when the endpoint cannot be asked (down, timing out, 401, a spent budget), until
//     exp. active: false drops the entry and is never cached as positive.
//   - Calls are rate-limited by two token buckets, one for tokens not cached and one for
//     revalidations, so a flood of invented tokens (refused introspection_rate_limited) cannot
//     keep a revoked token alive on its cached answer. One call per token runs at a time;
//     after a failure the endpoint is left alone for a second (or its Retry-After) and new
//     tokens are refused at once. Redirects are never followed, responses over 64 KiB or not
//     application/json are refused, and no error carries the token, the client secret or the
//     endpoint's error_description.
package oidc

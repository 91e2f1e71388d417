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
package oidc

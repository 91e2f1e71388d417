// Package natspingclient connects nats.go clients to a NATS system guarded by natsping-callout,
// where a client proves who it is with nothing but a Ping Identity access token.
//
// The server disconnects such a client when the token expires (its NATS user JWT ends at the
// token's exp), so a long-running client needs a fresh token on every reconnect. A [Source]
// turns any golang.org/x/oauth2 TokenSource into that: it fetches a token, replaces it in the
// background well before it expires (at about 70–80% of its lifetime, jittered so that a fleet
// started together does not refresh together), and hands the cached token to nats.go's token
// handler, which nats.go calls on every connect and reconnect and which therefore must never
// wait for the network. [Source.NATSOptions] adds the reconnect settings this needs: reconnect
// forever, keep reconnecting after an authorization error (a refused, expired token is
// expected while the issuer is down), and back off with jitter. [Source.Connect] also retries
// a first connect whose authorization request was lost (a callout replica or node died while it
// held it: the server refuses the client at its auth timeout), bounded and jittered; a quick
// refusal is a decision and is returned at once.
//
// Use [ClientCredentials] for services and [RefreshToken] for people; both fetch a new token on
// every call. A TokenSource wrapped in oauth2.ReuseTokenSource (what clientcredentials.Config
// and oauth2.Config return from TokenSource) keeps answering with its cached token until ten
// seconds before expiry; Source copes, polling with backoff, but the early refresh is lost.
//
// The package imports only nats.go, golang.org/x/oauth2 and the standard library (a test
// enforces it), so a client program does not build any of the provider's dependencies.
package natspingclient

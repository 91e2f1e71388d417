// Package pingone is the small PingOne Management API client natsping needs: it resolves and
// lists the groups and the applications (client ids) that role mappings refer to, so that a
// renamed, deleted or disabled one shows up in `terraform plan` instead of silently granting
// nobody (or the wrong people) access.
//
// It authenticates as a worker application with the client_credentials grant
// (golang.org/x/oauth2/clientcredentials, client_secret_basic) at
// https://auth.pingone.<tld>/<environment>/as/token and calls
// https://api.pingone.<tld>/v1/environments/<environment>/…. Both hostnames can be overridden,
// with a port, for private endpoints and for tests against internal/pingonetest.
//
// Behaviour worth knowing:
//   - The access token is cached until shortly before it expires and fetched again once when the
//     API answers 401, so one long terraform run survives a token expiring mid-way.
//   - 429 REQUEST_LIMITED and 503 are retried, waiting what Retry-After says (seconds or an HTTP
//     date), within a bounded number of retries and a bounded total wait, and never past the
//     caller's context.
//   - Collection paging follows _links.next.href only while it stays on the configured API host
//     and collection, because the request carries the bearer token; loops are detected.
//   - Applications are listed whole and matched here: PingOne documents no filter or limit on
//     that collection. For an OIDC application the id is the client_id its tokens carry.
//   - Errors name the HTTP status, PingOne's code and every details[].code with its message and
//     target. The client secret and tokens never appear in errors.
package pingone

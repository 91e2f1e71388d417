// Package access answers "may this user publish or subscribe to that subject?" exactly as
// nats-server v2.15 decides it, so a plan can show what a role grants before anyone connects.
//
// The rules mirror the server's source rather than the documentation, because the two
// differ in places a review must not get wrong:
//
//   - Expand is server/auth.go processUserPermissionsTemplate: a missing tag drops the allow
//     entry but makes a deny entry fail the whole connection; an allow list emptied by
//     expansion becomes "deny >"; tag values are substituted verbatim, so a tag value of
//     "*" or "a.b" widens or deepens the subject.
//   - Check is server/client.go pubAllowed and canSubscribe: deny beats allow; an absent
//     publish allow list admits everything unless allow_responses is set (then only replies
//     pass); a queue entry in sub allow ("orders.> workers") restricts queue subscriptions.
//   - Match is server/sublist.go: the subject's tokens are compared literally, so a
//     subscription to "orders.>" is admitted by "orders.*" (the '*' consumes the '>' token),
//     while "orders.*" is refused by "orders.created".
//
// The differential test runs generated roles through an embedded nats-server and requires
// zero disagreements; cases that once disagreed stay in its regression table.
package access

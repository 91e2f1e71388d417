// Package natsjwttest holds terraform-plugin-testing checks for NATS keys, JWTs and creds,
// so acceptance tests assert what a value IS (an account public key, a user JWT signed by
// that operator signing key) rather than only that it is set.
//
// Failure messages show public keys and claim fields, never seeds or whole creds.
package natsjwttest

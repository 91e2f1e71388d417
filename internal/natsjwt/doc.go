// Package natsjwt builds, signs and inspects NATS operator, account and user JWTs.
//
// It is framework-free: the Terraform provider and the callout service both use it, and its
// unit tests need neither Terraform nor a server.
package natsjwt

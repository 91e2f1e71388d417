// Package provider is the Terraform glue of natsping: it translates between Terraform
// values and the framework-free packages under internal/ and holds no NATS or OIDC logic.
package provider

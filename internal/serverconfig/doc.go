// Package serverconfig renders the nats-server configuration that trusts a natsping operator:
// the operator JWT, the system account, the account resolver and its preload, the default
// sentinel and the few server settings users commonly set beside them (listen address, name,
// JetStream and the client limits).
//
// It is framework-free so the Terraform data source, the tests and the demo share one renderer.
// Output is deterministic: accounts are sorted by public key and no timestamps are written, so
// the same inputs in any order render byte-identical text and Terraform never shows a spurious
// diff (the map-iteration bug of earlier providers).
package serverconfig

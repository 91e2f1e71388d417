// Package demo runs the quickstart end to end on one machine with nothing external: a
// PingOne-shaped issuer, the provider applied through the real CLI, an embedded nats-server
// booted from the rendered config, the natsping-callout service, and nats.go clients holding
// Ping tokens. `make demo` runs it for a person to follow; TestAccQuickstartEndToEnd runs it as
// a test.
package demo

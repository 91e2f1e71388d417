// Package deploy checks the production artifacts beside it (the systemd unit, the container
// build, the Kubernetes manifests and the Prometheus rules) against the natsping-callout in
// this checkout: flags, endpoints, ports, configuration key and metric names come from the
// real binary, never from a copy in the test.
//
// It is a module of its own so that the parsers it needs (BuildKit's Dockerfile parser, the
// Kubernetes API types, Prometheus' rule and PromQL packages) never reach the provider's
// dependency graph. scripts/test.sh runs it.
package deploy

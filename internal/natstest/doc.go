// Package natstest runs an embedded nats-server from a rendered configuration, for tests and
// for the demo, and connects clients to it with creds or a user JWT and seed.
//
// The server always listens on loopback (a random port unless told otherwise), keeps every
// file it needs in one directory, and never touches the caller's working directory: a
// relative resolver or JetStream directory in the config is placed inside that directory.
package natstest

// Package resolver keeps live nats-server full account resolvers in sync: it pushes account
// JWTs with $SYS.REQ.CLAIMS.UPDATE and reads back what the servers hold with
// $SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP, deletes accounts with an operator-signed
// $SYS.REQ.CLAIMS.DELETE, over a connection of the operator's system user.
//
// Every server with a full resolver answers every request, so a request is complete only when
// all of them have answered. Requests are pipelined on one connection (many in flight, one
// shared reply subscription) instead of sent one at a time: nsc push waits out a timeout per
// account (nats-io/nsc#464), which makes large operators take minutes.
//
// The package is framework-free; the Terraform resource natsping_resolver_push is its glue.
package resolver

// Package callout is the natsping auth-callout service: it answers nats-server's
// $SYS.REQ.USER.AUTH requests by verifying the Ping token a client presents, choosing the
// account role its groups map to, and returning a user JWT signed by that role's scoped
// signing key, so the server (not this service) enforces the role's permissions.
package callout

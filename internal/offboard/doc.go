// Package offboard revokes Ping identities, service client ids, whole mappings and whole
// roles from a cutoff time. It owns the entry type and its key-value encoding, which both
// natsping_offboarding (writing) and the callout (watching and refusing) use, and the
// provider's apply: write the bucket, then close every live connection of the revoked users
// on every server with the system account's CONNZ and KICK requests, then check that none
// comes back.
package offboard

# The trust turns offboarding on: the callout account gets JetStream for one
# key-value bucket, and callout_config names it. The servers run JetStream
# (natsping_server_config with jetstream = {}).
resource "natsping_trust" "ping" {
  operator_signer = natsping_operator.main.signer
  issuer          = "https://auth.pingone.eu/11111111-2222-4333-8444-555555555555/as"
  audiences       = ["https://nats.example.com"]
  role_mappings   = [natsping_role_mapping.order_readers.rule]

  offboarding = {
    replicas = 3 # a 3-node cluster; 1 on a single server
  }
}

# One resource per offboarding event. Apply writes the entries into the bucket
# (the callout refuses tokens issued before the cutoff from then on), then
# closes every live connection of theirs on every server. Destroying it, or
# removing an entry, admits fresh tokens again.
resource "natsping_offboarding" "leavers_2026_12" {
  servers           = ["tls://nats-1.example.com:4222"]
  system_user_creds = natsping_operator.main.system_user_creds
  callout_config    = natsping_trust.ping.callout_config
  ca_bundle_pem     = file("${path.module}/nats-ca.pem")

  subjects   = ["0a1b2c3d-0000-4000-8000-00000000a11c"] # PingOne user id (sub)
  client_ids = ["8f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"] # a retired service
  reason     = "left the company (HR-4711)"
  # cutoff defaults to the time of the apply; set it to revoke from an earlier time:
  # cutoff = "2026-12-01T09:00:00Z"
}

# A leaked group or a compromised role: everyone admitted through it.
resource "natsping_offboarding" "incident" {
  servers           = ["tls://nats-1.example.com:4222"]
  system_user_creds = natsping_operator.main.system_user_creds
  callout_config    = natsping_trust.ping.callout_config

  mappings = ["orders-readers"]
  roles    = ["ORDERS/writer"] # <account name or public key>/<role>
  reason   = "INC-42: group membership leaked"
}

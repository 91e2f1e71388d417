# Trust one PingOne environment's access tokens for NATS. The plan reads the issuer's
# discovery document and signing keys; when PingOne rotates its keys, the next plan shows it.
resource "natsping_trust" "ping" {
  operator_signer = natsping_operator.main.signer
  operator_jwt    = natsping_operator.main.jwt # lets the plan refuse a signer nats-server would refuse
  issuer          = "https://auth.pingone.eu/${var.pingone_environment_id}/as"
  audiences       = ["https://nats.example.com"]
  groups_claim    = "groups"

  # Keep PingOne's access-token lifetime at or below this; longer-lived tokens are refused.
  max_token_lifetime = "1h"
  required_scopes    = ["nats"]
  forbidden_scopes   = ["p1:update:env"]

  role_mappings = [
    natsping_role_mapping.readers.rule,
    natsping_role_mapping.writers.rule,
  ]

  nats_urls     = ["tls://nats.example.com:4222"]
  audit_subject = "audit.auth"

  # The callout account's signing key (it signs the callout user and the sentinel) and the
  # xkey rotate with overlap: deploy the new account JWT, callout_config and default_sentinel
  # in any order within the grace period.
  signing_key_rotation = { period = "2160h", grace_period = "24h" }
  xkey_rotation        = { period = "720h", grace_period = "1h" }
}

# A PingFederate behind a private CA, and an air-gapped variant with pinned keys.
resource "natsping_trust" "pingfederate" {
  name            = "CALLOUT_PF"
  operator_signer = natsping_operator.main.signer
  issuer          = "https://sso.example.internal"
  audiences       = ["nats"]
  groups_claim    = "memberOf"
  ca_bundle_pem   = file("${path.module}/corporate-ca.pem")
  pinned_jwks     = file("${path.module}/pf-jwks.json")
  role_mappings   = [natsping_role_mapping.readers.rule]
}

# The callout account and its sentinel go into the server configuration.
data "natsping_server_config" "main" {
  operator_jwt     = natsping_operator.main.jwt
  system_account   = natsping_operator.main.system_account_public_key
  account_jwts     = [natsping_operator.main.system_account_jwt, natsping_account.orders.jwt, natsping_trust.ping.account_jwt]
  default_sentinel = natsping_trust.ping.sentinel_jwt
}

# The callout service's configuration (secrets inside):
#   tofu output -raw callout_config > /etc/natsping/callout.json
output "callout_config" {
  value     = natsping_trust.ping.callout_config
  sensitive = true
}

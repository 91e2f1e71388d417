# A complete small natsping setup: one operator, one ORDERS account with a reader and a writer
# role, Ping groups mapped to those roles, the Ping trust that owns the auth-callout account,
# and the nats-server configuration that ties it together.

terraform {
  required_providers {
    natsping = {
      source = "natsping/natsping"
    }
  }
}

provider "natsping" {}

resource "natsping_operator" "main" {
  name = "natsping-quickstart"
}

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  # Checked while planning: a signer this operator's servers would refuse fails the plan.
  operator_jwt = natsping_operator.main.jwt

  jetstream = {
    memory_storage = 64 * 1024 * 1024
    disk_storage   = 256 * 1024 * 1024
    max_streams    = 10
    max_consumers  = 100
  }

  # Roles are scoped signing keys: their permission templates live in this account's JWT and
  # nats-server enforces them, whatever the callout returns.
  roles = [
    {
      name        = "reader"
      description = "Reads orders; may not publish them."
      permissions = {
        sub_allow = ["orders.>", "_INBOX.>"]
        pub_allow = ["_INBOX.>", "$JS.API.CONSUMER.INFO.ORDERS.>"]
      }
    },
    {
      name        = "writer"
      description = "Publishes and reads orders."
      permissions = {
        pub_allow = ["orders.>", "_INBOX.>"]
        sub_allow = ["orders.>", "_INBOX.>"]
      }
    },
  ]
}

resource "natsping_role_mapping" "readers" {
  name         = "orders-readers"
  signer       = natsping_account.orders.role_signers["reader"]
  account_name = natsping_account.orders.name
  groups       = var.reader_groups
  max_session  = "1h"
}

resource "natsping_role_mapping" "writers" {
  name         = "orders-writers"
  signer       = natsping_account.orders.role_signers["writer"]
  account_name = natsping_account.orders.name
  groups       = var.writer_groups
  priority     = 10
  max_session  = "30m"
}

resource "natsping_trust" "ping" {
  operator_signer           = natsping_operator.main.signer
  operator_jwt              = natsping_operator.main.jwt
  issuer                    = var.ping_issuer
  audiences                 = [var.ping_audience]
  groups_claim              = "groups"
  max_token_lifetime        = "1h"
  jwks_min_refresh_interval = var.jwks_min_refresh_interval
  ca_bundle_pem             = var.ping_ca_bundle_pem
  nats_urls                 = ["nats://${var.nats_host}:${var.nats_port}"]

  role_mappings = [
    natsping_role_mapping.readers.rule,
    natsping_role_mapping.writers.rule,
  ]
}

data "natsping_server_config" "main" {
  operator_jwt   = natsping_operator.main.jwt
  system_account = natsping_operator.main.system_account_public_key
  account_jwts = [
    natsping_operator.main.system_account_jwt,
    natsping_account.orders.jwt,
    natsping_trust.ping.account_jwt,
  ]
  resolver         = { type = "memory" }
  default_sentinel = natsping_trust.ping.sentinel_jwt
  listen           = { host = var.nats_host, port = var.nats_port }
  jetstream        = { store_dir = var.jetstream_store_dir }
}

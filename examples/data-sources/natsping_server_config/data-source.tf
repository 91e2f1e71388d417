# A full resolver: only the system account is preloaded, the other accounts are seeded into
# the resolver directory before the first start and pushed afterwards.
data "natsping_server_config" "main" {
  operator_jwt = natsping_operator.main.jwt
  account_jwts = [
    natsping_operator.main.system_account_jwt,
    natsping_account.orders.jwt,
    natsping_account.callout.jwt,
  ]

  resolver = {
    type = "full"
    dir  = "/var/lib/nats/jwt"
  }

  # Clients holding only a Ping token connect with this bearer JWT of the callout account.
  default_sentinel = var.sentinel_jwt

  listen = {
    host = "0.0.0.0"
    port = 4222
  }
  server_name = "nats-1"
  jetstream = {
    store_dir  = "/var/lib/nats/jetstream"
    max_memory = "1G"
    max_file   = "50G"
  }
}

resource "local_file" "nats_server_conf" {
  filename = "${path.module}/nats-server.conf"
  content  = data.natsping_server_config.main.config
}

# Seed the full resolver directory, one <account public key>.jwt file per account.
resource "local_file" "resolver_seed" {
  for_each = data.natsping_server_config.main.resolver_files
  filename = "/var/lib/nats/jwt/${each.key}"
  content  = each.value
}

# The simplest server for a laptop: every account preloaded in the config.
data "natsping_server_config" "dev" {
  operator_jwt = natsping_operator.main.jwt
  account_jwts = [natsping_operator.main.system_account_jwt, natsping_account.orders.jwt]
}

# A full resolver: only the system account is preloaded, the other accounts are seeded into
# the resolver directory before the first start and pushed afterwards.
data "natsping_server_config" "main" {
  operator_jwt   = natsping_operator.main.jwt
  system_account = natsping_operator.main.system_account_public_key
  account_jwts = [
    natsping_operator.main.system_account_jwt,
    natsping_account.orders.jwt,
    # The auth-callout account, created by natsping_trust.
    natsping_trust.ping.account_jwt,
  ]

  resolver = {
    type = "full"
    dir  = "/var/lib/nats/jwt"
  }

  # Clients holding only a Ping token are given this bearer JWT of the callout account, so
  # the server hands their connection to the callout.
  default_sentinel = natsping_trust.ping.sentinel_jwt

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

  # The whole Ping token travels in the client's CONNECT line, which nats-server limits to
  # 4 KiB by default: a token listing about 95 twenty-character group names (or 55 group
  # ids) is refused before the callout sees it. The callout's answer must arrive within
  # auth_timeout.
  limits = {
    max_control_line = 16384
    auth_timeout     = "5s"
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
  operator_jwt     = natsping_operator.main.jwt
  account_jwts     = [natsping_operator.main.system_account_jwt, natsping_account.orders.jwt, natsping_trust.ping.account_jwt]
  default_sentinel = natsping_trust.ping.sentinel_jwt
}

# A three-node cluster: node_configs holds one whole config per server_name, each with its
# routes to the two others; config holds the part they share.
data "natsping_server_config" "cluster" {
  operator_jwt     = natsping_operator.main.jwt
  account_jwts     = [natsping_operator.main.system_account_jwt, natsping_account.orders.jwt, natsping_trust.ping.account_jwt]
  resolver         = { type = "full", dir = "/var/lib/nats/jwt" }
  default_sentinel = natsping_trust.ping.sentinel_jwt

  cluster = {
    name = "east"
    port = 6222
    tls = {
      cert_file = "/etc/nats/tls/route.crt"
      key_file  = "/etc/nats/tls/route.key"
      ca_file   = "/etc/nats/tls/ca.crt"
      verify    = true
    }
  }
  monitoring = { http_port = 8222 }
  jetstream  = { store_dir = "/var/lib/nats/js" }
  nodes = [
    { server_name = "nats-0", host = "nats-0.example.internal" },
    { server_name = "nats-1", host = "nats-1.example.internal" },
    { server_name = "nats-2", host = "nats-2.example.internal" },
  ]
}

# Only what natsping owns, for an include from a config that owns the listeners: the NATS Helm
# chart's, which also renders the resolver block (config.resolver) and owns its volume, so the
# fragment leaves the block out and preloads the system account for the chart's full resolver.
# deploy/kubernetes/nats-values.yaml includes the output from the chart's ConfigMap.
data "natsping_server_config" "helm" {
  operator_jwt     = natsping_operator.main.jwt
  account_jwts     = [natsping_operator.main.system_account_jwt, natsping_account.orders.jwt, natsping_trust.ping.account_jwt]
  resolver         = { type = "full", external = true }
  default_sentinel = natsping_trust.ping.sentinel_jwt
  fragment         = true
}

output "nats_fragment" {
  value = data.natsping_server_config.helm.config
}

resource "natsping_operator" "main" {
  name = "acme"
}

# An application account with JetStream, an export, and roles. The auth callout signs
# users with a role's key; nats-server then applies the role's template, so a user from
# the "orders-readers" Ping group can subscribe but never publish.
resource "natsping_account" "orders" {
  name            = "ORDERS"
  description     = "Order processing"
  operator_signer = natsping_operator.main.signer
  # Lets the plan refuse a signer nats-server would refuse (e.g. the operator's seed).
  operator_jwt = natsping_operator.main.jwt
  tags         = ["team:orders"]

  limits = {
    max_connections = 1000
    max_payload     = 1048576
  }

  jetstream = {
    tiers = {
      R1 = { disk_storage = 10737418240, memory_storage = 0 }
      R3 = { disk_storage = 53687091200, max_streams = 20 }
    }
  }

  exports = [
    { type = "stream", subject = "orders.events.>", name = "order events" },
    {
      type               = "service"
      subject            = "orders.get"
      token_required     = true
      response_threshold = "2s"
      # An account that imported this service and must stop: its activations issued up to
      # this time are refused (activations of private exports only).
      revoked_activations = { "ABBZYUMSSFESYMJJPL7IUO45GBF6T3YG4ZVYOI6GC6QN4K7X4UMYRD4O" = "2026-11-30T00:00:00Z" }
    },
  ]

  # Offboarded static users (the key of a destroyed natsping_user, as its destroy plan prints
  # it): their JWTs issued up to the time are refused and their live connections closed once
  # the account JWT reaches the servers.
  revoked_users = {
    "UCGWIWBJVZ3UKJ6XOKVBUPGDRNZVLUGM65GFRZQI2FYV4R6OX66ND3YF" = "2026-11-30T09:15:00Z"
  }

  # The unscoped signing key (signer, for natsping_user) rotates on demand: change the keeper.
  signing_key_rotation = {
    keepers      = { generation = "1" }
    grace_period = "72h" # time to hand the re-signed creds to every static user
  }

  roles = [
    {
      name        = "reader"
      description = "Read-only: may subscribe to order events of the user's team"
      permissions = {
        sub_allow = ["orders.events.{{tag(team)}}.>", "_INBOX.>"]
        pub_deny  = [">"]
      }
      max_payload = 65536
      # The role's key rotates every 30 days. Its successor is listed in the JWT one apply
      # ahead; the old key stays (same template) for 24 h, which must cover the longest
      # max_session of the mappings granting this role. Set emergency = true (and change a
      # keeper) to drop the old key at once if it leaked.
      key_rotation = {
        period       = "720h"
        grace_period = "24h"
        keepers      = { generation = "1" }
      }
    },
    {
      name        = "writer"
      description = "May publish orders for the user's team"
      permissions = {
        pub_allow = ["orders.{{tag(team)}}.>"]
        sub_allow = ["_INBOX.>"]
        response  = { max_msgs = 1, ttl = "5s" }
      }
    },
  ]
}

# A second account importing the public stream and the private service. The private import
# carries the exporter's signer: the activation token is issued for this account at apply.
resource "natsping_account" "shop" {
  name            = "SHOP"
  operator_signer = natsping_operator.main.signer

  imports = [
    {
      type          = "stream"
      subject       = "orders.events.>"
      account       = natsping_account.orders.public_key
      local_subject = "orders.>"
    },
    {
      type              = "service"
      subject           = "orders.get"
      account           = natsping_account.orders.public_key
      activation_signer = natsping_account.orders.signer
    },
  ]
}

# The auth-callout account is not declared here: natsping_trust creates it, with the callout
# service's user in auth_users, the mapped accounts in allowed_accounts and the xkey. Pass its
# natsping_trust.<name>.account_jwt to the server configuration beside the accounts above, and
# natsping_trust.<name>.sentinel_jwt as default_sentinel (see natsping_server_config).
# The authorization attribute exists for a callout service natsping does not manage.

output "orders_role_keys" {
  value = natsping_account.orders.role_keys
}

# When each role key rotates next, and which old key is still listed until when.
output "orders_key_rotations" {
  value = natsping_account.orders.role_key_rotations
}

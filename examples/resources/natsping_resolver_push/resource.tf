resource "natsping_operator" "main" {
  name = "acme"
}

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
}

resource "natsping_account" "billing" {
  name            = "BILLING"
  operator_signer = natsping_operator.main.signer
}

# The servers run `resolver { type: full }` (natsping_server_config with
# resolver = { type = "full" }). One URL is enough: every full resolver of the
# cluster answers through it. A refresh reads back what the servers hold, so an
# account pushed by hand or missing on the servers shows up as an update here.
resource "natsping_resolver_push" "prod" {
  servers           = ["tls://nats-1.example.com:4222", "tls://nats-2.example.com:4222"]
  system_user_creds = natsping_operator.main.system_user_creds
  ca_bundle_pem     = file("${path.module}/nats-ca.pem")
  timeout           = "10s"

  # Optional: delete accounts removed from `accounts` (and all of them on
  # destroy) from the servers. They must run the full resolver with
  # allow_delete (resolver = { type = "full", allow_delete = true }).
  # Without it, removed accounts stay on the servers.
  operator_signer = natsping_operator.main.signer

  # The operator JWT the servers should run (never pushed: servers read it from
  # their config at start). During an operator signing-key rotation the push
  # then names the servers to restart and this JWT, and the plan warns about
  # accounts servers restarted with it would refuse. See the guide "Rolling out
  # changes".
  operator_jwt = natsping_operator.main.jwt

  accounts = {
    (natsping_account.orders.public_key)  = natsping_account.orders.jwt
    (natsping_account.billing.public_key) = natsping_account.billing.jwt
  }
}

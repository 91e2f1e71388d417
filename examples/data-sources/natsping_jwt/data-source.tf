# Review what a JWT grants before it ships, or assert on it.
data "natsping_jwt" "orders" {
  token = natsping_account.orders.jwt
}

output "orders_account" {
  value = {
    subject         = data.natsping_jwt.orders.subject
    issuer          = data.natsping_jwt.orders.issuer
    expires_at      = data.natsping_jwt.orders.expires_at
    signature_valid = data.natsping_jwt.orders.signature_valid
    signing_keys    = jsondecode(data.natsping_jwt.orders.claims_json).nats.signing_keys
  }
}

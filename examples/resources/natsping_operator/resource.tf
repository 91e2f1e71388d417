resource "natsping_operator" "main" {
  name                  = "acme"
  operator_service_urls = ["tls://nats.example.com:4222"]
  tags                  = ["env:prod"]

  # Change the value to rotate the operator signing key. The plan shows the new
  # signing_key, and accounts that use natsping_operator.main.signer are re-signed
  # with it in the same apply; the old key stays valid for signing_key_grace_period
  # so pushed account JWTs keep working until the new ones are deployed.
  signing_key_rotation     = { generation = "1" }
  signing_key_grace_period = "24h"
}

# Scheduled rotation: pair the keepers with a time_rotating resource. Its id is only
# known at apply when it rotates, so such a plan shows the new key as known after apply.
resource "time_rotating" "operator_signing_key" {
  rotation_days = 90
}

resource "natsping_operator" "rotated" {
  name                 = "acme-rotated"
  signing_key_rotation = { rotated_at = time_rotating.operator_signing_key.id }
}

output "operator_jwt" {
  value = natsping_operator.main.jwt
}

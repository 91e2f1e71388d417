resource "natsping_operator" "main" {
  name                  = "acme"
  operator_service_urls = ["tls://nats.example.com:4222"]
  tags                  = ["env:prod"]

  # Change the value to rotate the operator signing key. Accounts that use
  # natsping_operator.main.signer are re-signed in the same apply; the old key
  # stays valid for signing_key_grace_period so pushed account JWTs keep working
  # until the new ones are deployed.
  signing_key_rotation     = { generation = "1" }
  signing_key_grace_period = "24h"
}

# Scheduled rotation: pair the keepers with a time_rotating resource.
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

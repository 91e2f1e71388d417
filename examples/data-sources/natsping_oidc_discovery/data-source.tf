# Review what a PingOne environment publishes before trusting it.
data "natsping_oidc_discovery" "pingone" {
  issuer = "https://auth.pingone.com/${var.pingone_environment_id}/as"
}

output "pingone_signing_keys" {
  value = data.natsping_oidc_discovery.pingone.jwks_keys
}

# PingFederate behind a private CA: keys are published at /pf/JWKS.
data "natsping_oidc_discovery" "pingfederate" {
  issuer        = "https://sso.example.internal"
  ca_bundle_pem = file("${path.module}/corporate-ca.pem")
}

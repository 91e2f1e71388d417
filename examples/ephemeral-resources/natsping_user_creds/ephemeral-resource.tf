# Short-lived credentials for a CI job: a fresh user key and a JWT valid for 15
# minutes on every plan/apply, never stored in the state.
ephemeral "natsping_user_creds" "deployer" {
  name   = "ci-deployer"
  signer = natsping_account.orders.role_signers["deployers"]
  tags   = ["pipeline:release"]
  ttl    = "15m"
}

# Hand them to something that accepts ephemeral values, e.g. a provider
# configuration or a write-only attribute of a secret store.
provider "jetstream" {
  servers         = "tls://nats.example.com:4222"
  credential_data = ephemeral.natsping_user_creds.deployer.creds
}

# The quickstart's access policy. `make test` runs this with OpenTofu
# (and Terraform when present) against a freshly built provider. The trust would fetch the
# issuer's discovery document and JWKS while planning and the server config reads the trust's
# outputs, so both are overridden; the operator, the account and the mappings, where the
# policy lives, are applied for real (keys are generated locally, nothing leaves the machine).
# The run applies rather than plans because a new account's role keys, and so the mappings'
# roles, exist only after apply. The assertions read outputs and checks rather than calling
# provider functions here: OpenTofu 1.12.6 panics on a provider function inside a test
# file's assert.

variables {
  ping_issuer = "https://auth.example.com/as"
}

override_resource {
  target = natsping_trust.ping
}

override_data {
  target = data.natsping_server_config.main
}

run "policy_holds" {
  # A failing assert in check "orders_policy" fails this run.

  assert {
    condition     = natsping_role_mapping.readers.role == "reader" && natsping_role_mapping.writers.role == "writer"
    error_message = "Readers get the reader role, writers the writer role."
  }

  assert {
    condition     = output.access_review == file("${path.module}/tests/access-review.md")
    error_message = "The access review differs from tests/access-review.md: review the change and update the file."
  }
}

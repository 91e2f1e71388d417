resource "natsping_operator" "main" {
  name = "acme"
}

resource "natsping_account" "orders" {
  name            = "ORDERS"
  operator_signer = natsping_operator.main.signer
  roles = [{
    name        = "readers"
    permissions = { sub_allow = ["orders.{{tag(team)}}.>"] }
  }]
}

# A scoped user: the role's template applies, so no permissions here. The strict
# operator (the default) requires users to be signed by a role or signing key.
resource "natsping_user" "reporter" {
  name   = "reporter"
  signer = natsping_account.orders.role_signers["readers"]
  tags   = ["team:blue"]
}

# A user with its own permissions, signed by a raw account signing-key seed kept
# outside Terraform (nsc users): the account must then be named.
variable "orders_signing_key_seed" {
  type      = string
  sensitive = true
}

resource "natsping_user" "ingest" {
  name    = "ingest"
  signer  = var.orders_signing_key_seed
  account = natsping_account.orders.public_key
  permissions = {
    pub_allow = ["orders.>"]
    sub_allow = ["_INBOX.>"]
  }
  max_payload = 1048576
  expires_at  = "2030-01-01T00:00:00Z"
}

output "reporter_creds" {
  value     = natsping_user.reporter.creds
  sensitive = true
}

locals {
  # Non-secret inputs only: the account's configuration (its JWT works too, but a changed
  # account's JWT is known only after apply) and the mappings' plain attributes, never
  # signer or rule.
  review_accounts = [{
    name                = natsping_account.orders.name
    public_key          = natsping_account.orders.public_key
    tags                = natsping_account.orders.tags
    roles               = natsping_account.orders.roles
    default_permissions = natsping_account.orders.default_permissions
  }]
  review_mappings = [for m in [natsping_role_mapping.readers, natsping_role_mapping.writers] : {
    name        = m.name
    account     = m.account
    role        = m.role
    groups      = m.groups
    client_ids  = m.client_ids
    scopes      = m.scopes
    claims      = m.claims
    tags        = m.tags
    priority    = m.priority
    max_session = m.max_session
  }]
}

data "natsping_access_view" "orders" {
  accounts = local.review_accounts
  mappings = local.review_mappings
}

# Paste into the pull request; the plan shows how it changes.
output "access_review" {
  value = data.natsping_access_view.orders.markdown
}

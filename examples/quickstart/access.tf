# The access policy, stated where a plan checks it. The account's configuration and the
# mappings' plain attributes are known while planning (the signed JWT of a changed account
# is not) and hold no secret, so neither the checks nor the review table are sensitive.

locals {
  review_accounts = [{
    name  = natsping_account.orders.name
    roles = natsping_account.orders.roles
  }]
  review_mappings = [for m in [natsping_role_mapping.readers, natsping_role_mapping.writers] : {
    name         = m.name
    account_name = m.account_name
    role         = m.role
    groups       = m.groups
    priority     = m.priority
    max_session  = m.max_session
  }]
  # A person as the callout's user JWT names them; the quickstart's templates use no tags.
  reviewer = { name = "alice" }
}

check "orders_policy" {
  assert {
    condition     = !provider::natsping::role_allows(local.review_accounts[0], "reader", local.reviewer, "pub", "orders.created")
    error_message = "Readers must not publish orders.created."
  }
  assert {
    condition     = provider::natsping::role_allows(local.review_accounts[0], "reader", local.reviewer, "sub", "orders.>")
    error_message = "Readers must receive every order subject."
  }
  assert {
    condition     = !provider::natsping::role_allows(local.review_accounts[0], "reader", local.reviewer, "pub", "$JS.API.STREAM.DELETE.ORDERS")
    error_message = "Readers must not delete the ORDERS stream."
  }
  assert {
    condition     = provider::natsping::role_allows(local.review_accounts[0], "writer", local.reviewer, "pub", "orders.created")
    error_message = "Writers must publish orders.created."
  }
  assert {
    condition     = !provider::natsping::role_allows(local.review_accounts[0], "writer", local.reviewer, "pub", "payments.created")
    error_message = "Writers must publish nothing outside orders and their inboxes."
  }
}

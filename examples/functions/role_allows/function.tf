locals {
  # The attributes of natsping_account that decide access; never the whole resource (it
  # holds seeds). Unlike the JWT, they are known while planning.
  orders = {
    name                = natsping_account.orders.name
    tags                = natsping_account.orders.tags
    roles               = natsping_account.orders.roles
    default_permissions = natsping_account.orders.default_permissions
  }
  # A person as the callout's user JWT names and tags them.
  alice = { name = "alice", tags = ["role:writer", "mapping:orders-writers"] }
}

resource "terraform_data" "orders_policy" {
  lifecycle {
    precondition {
      condition     = !provider::natsping::role_allows(local.orders, "reader", local.alice, "pub", "orders.created")
      error_message = "readers cannot publish orders.created"
    }
    precondition {
      # With a template such as "orders.{{name()}}.>", the answer depends on the person.
      condition     = provider::natsping::role_allows(local.orders, "writer", local.alice, "pub", "orders.alice.created")
      error_message = "writers publish their own orders"
    }
  }
}

# After apply, the same question against the signed account JWT that nats-server enforces.
check "signed_orders_policy" {
  assert {
    condition     = !provider::natsping::role_allows(natsping_account.orders.jwt, "reader", local.alice, "pub", "orders.created")
    error_message = "the signed ORDERS account lets readers publish orders.created"
  }
}

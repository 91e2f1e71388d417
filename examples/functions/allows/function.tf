# The reader role's permissions straight from the account's configuration: known while
# planning, so a change that lets readers publish orders fails the plan.
resource "terraform_data" "reader_policy" {
  lifecycle {
    precondition {
      condition     = !provider::natsping::allows(natsping_account.orders.roles[0].permissions, "pub", "orders.created")
      error_message = "readers cannot publish orders.created"
    }
    precondition {
      # A queue subscription: the optional fourth argument is the queue group.
      condition     = provider::natsping::allows(natsping_account.orders.roles[0].permissions, "sub", "orders.created", "readers")
      error_message = "readers consume orders in the readers queue group"
    }
  }
}

# A static user's JWT, decoded: its claims.nats carries pub, sub and resp.
output "service_may_publish_orders" {
  value = provider::natsping::allows(jsondecode(provider::natsping::decode_jwt(natsping_user.service.jwt)).claims.nats, "pub", "orders.created")
}

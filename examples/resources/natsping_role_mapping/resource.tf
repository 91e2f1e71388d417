# Members of the PingOne group "Engineering Read-Only" get the ORDERS account's "reader"
# role; members of "Order Managers" (or of the group with the given id) get "writer", which
# wins when a person is in both because of its higher priority.
resource "natsping_role_mapping" "readers" {
  name         = "orders-readers"
  signer       = natsping_account.orders.role_signers["reader"]
  account_name = natsping_account.orders.name
  groups       = ["Engineering Read-Only"]
  max_session  = "1h"
}

resource "natsping_role_mapping" "writers" {
  name         = "orders-writers"
  signer       = natsping_account.orders.role_signers["writer"]
  account_name = natsping_account.orders.name
  groups       = ["Order Managers", "5f8e1c2a-0d4b-4c1e-9a7f-3b2d6e8f1a90"]
  priority     = 10
  max_session  = "30m"

  # Only plain NATS and WebSocket clients; role templates can read {{tag(team)}}.
  allowed_connection_types = ["STANDARD", "WEBSOCKET"]
  tags                     = ["team:orders"]
}

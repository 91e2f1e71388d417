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

# A service: a PingOne worker application with a client-credentials token (no sub, no
# groups) gets "writer" only with its client id and the nats:publish scope. Role templates
# can use {{tag(ping-client)}} for per-service subjects.
resource "natsping_role_mapping" "order_service" {
  name         = "order-service"
  signer       = natsping_account.orders.role_signers["writer"]
  account_name = natsping_account.orders.name
  client_ids   = ["8f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"]
  scopes       = ["nats:publish"]
  max_session  = "15m"
}

# Step-up: members of "Order Managers" whose token says they signed in with multi-factor
# authentication (acr) get the team:admins tag; without it they fall back to "writers".
resource "natsping_role_mapping" "admins" {
  name         = "orders-admins"
  signer       = natsping_account.orders.role_signers["writer"]
  account_name = natsping_account.orders.name
  groups       = ["Order Managers"]
  claims       = { acr = ["Multi_Factor"] }
  priority     = 20
  tags         = ["team:admins"]
}

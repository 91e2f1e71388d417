# The same import as a reviewable plan (an expression as id needs Terraform 1.6+ or OpenTofu;
# on Terraform 1.5 write the expanded path): `plan` shows the account
# being imported and, when the resource block differs from the JWT, exactly which claims the
# first apply changes.
import {
  to = natsping_account.orders
  id = pathexpand("~/.local/share/nats/nsc/stores/acme/accounts/ORDERS/ORDERS.jwt")
}

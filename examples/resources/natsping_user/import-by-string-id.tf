# Import the user together with its account, so `signer = natsping_account.orders.signer`
# (or a role signer) is known in the same plan.
import {
  to = natsping_user.svc
  id = pathexpand("~/.local/share/nats/nsc/stores/acme/accounts/ORDERS/users/svc.jwt")
}

# The same import as a reviewable plan (an expression as id needs Terraform 1.6+ or OpenTofu;
# on Terraform 1.5 write the expanded path): `plan` shows the operator being imported and, when
# the resource block differs from the JWT, exactly which attributes the first apply changes.
import {
  to = natsping_operator.main
  id = pathexpand("~/.local/share/nats/nsc/stores/acme/acme.jwt")
}

# Adopt an account made with nsc by the path of its JWT in the nsc store. The seeds (identity,
# signing keys, role keys and, when present, the operator key that signed it) are read from
# the nsc keystore by public key: $NKEYS_PATH, else ~/.local/share/nats/nsc/keys. The ID holds
# no secret. The state is the JWT's claims and the JWT is kept: the next plan is empty when the
# configuration says what the JWT says.
terraform import natsping_account.orders ~/.local/share/nats/nsc/stores/acme/accounts/ORDERS/ORDERS.jwt

# Adopt a user made with nsc by the path of its .creds file (the JWT and seed inside it), or of
# its user JWT in the nsc store (the seed then comes from the nsc keystore, $NKEYS_PATH or
# ~/.local/share/nats/nsc/keys). The ID is a path, never a secret. For a user of a role, the
# role is read from the account JWT beside it in the store, so import such users by a path in
# the store or in the keystore's creds directory.
terraform import natsping_user.svc ~/.local/share/nats/nsc/keys/creds/acme/ORDERS/svc.creds

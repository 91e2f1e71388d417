# Adopt an operator made with nsc by the path of its JWT in the nsc store. The operator's
# system account and system user are read from the same store (nsc keeps them under
# accounts/SYS/SYS.jwt and accounts/SYS/users/sys.jwt), and every seed (operator identity,
# operator signing key, system account identity and signing key, system user) from the nsc
# keystore by public key: $NKEYS_PATH, else ~/.local/share/nats/nsc/keys. The ID holds no
# secret. The state is the JWTs' claims and the JWTs are kept: the next plan is empty when the
# configuration says what they say. Import the operator first, then its accounts and users.
terraform import natsping_operator.main ~/.local/share/nats/nsc/stores/acme/acme.jwt

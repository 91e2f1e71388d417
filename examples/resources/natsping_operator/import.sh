# Adopt an existing operator, e.g. one made with nsc, by its seeds (from nsc's keystore,
# `nsc export keys`): the operator identity seed, then optionally the operator signing key
# seed (SO…), the system account seed and its signing key seed (SA…, in that order) and the
# system user seed (SU…), separated by commas. Keys not given are generated. The next apply
# signs the JWTs with the configured values (an in-place update, never a replacement).
#
# The ID contains secrets: keep it out of shell history (e.g. read it from a file).
terraform import natsping_operator.main "$(cat operator-import-id.txt)"

package provider

import "testing"

// TestAccUpgrade_beforeKeyRotation starts from ab4a61f, the last commit before key rotation
// (roles[*].key_rotation, signing_key_rotation, role_key_rotations and
// signing_key_rotation_status on natsping_account, the trust's key rotations, the rule's
// role_key_rotation and the callout document's xkey_seeds). Nothing rotates unless it is
// declared, and a role signer carries a rotation only when its role rotates, so an existing
// state plans no change at all: no account JWT, signer, rule or callout config moves.
func TestAccUpgrade_beforeKeyRotation(t *testing.T) {
	testAccUpgrade(t, upgradeCase{commit: "ab4a61f", operatorJWT: true,
		oldStateLacks: [2]string{"natsping_account.orders", "role_key_rotations"}})
}

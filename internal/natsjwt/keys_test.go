package natsjwt

import (
	"strings"
	"testing"
)

// A secret pasted into a public-key attribute (a signer output, a seed with a typo) must not
// come back in the error: Terraform prints diagnostics verbatim, unredacted, in CI logs.
func TestValidatePublicKeyNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	owner, _, err := NewKey(KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	_, seed, err := NewKey(KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	secret := seed[2:]
	typo := seed[:len(seed)-3] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, seed[len(seed)-3:])
	tests := []struct {
		name, value, want string
	}{
		{"account signer output", EncodeSigner(&Signer{Owner: owner, Seed: seed}), "signer"},
		{"role signer output", EncodeSigner(&Signer{Owner: owner, Role: "reader", Seed: seed}), "signer"},
		{"seed", seed, "seed"},
		{"mistyped seed", typo, "seed"},
		{"seed with spaces", " " + seed + " ", "seed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePublicKey(tc.value, KindAccount)
			if err == nil {
				t.Fatal("accepted a secret as a public key")
			}
			msg := err.Error()
			if strings.Contains(msg, secret[:12]) || strings.Contains(msg, typo[2:14]) {
				t.Fatalf("the error shows the secret: %s", msg)
			}
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "A…") {
				t.Fatalf("the error should say it got a %s and that an account public key (A…) is expected: %s", tc.want, msg)
			}
		})
	}
}

func TestValidatePublicKeyNamesBadPublicValues(t *testing.T) {
	t.Parallel()
	user, _, err := NewKey(KindUser)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, value, want string }{
		{"user key for account", user, user},
		{"garbage", "not-a-key", `"not-a-key"`},
		{"empty", "", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePublicKey(tc.value, KindAccount)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v should contain %q", err, tc.want)
			}
		})
	}
}

package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// The next operator signing key is generated one apply ahead and kept in the resource's
// private state, so a rotation plan can show the key it rotates to. It cannot be generated
// while planning: Terraform plans again at apply with the prior state, and a key made then
// would differ from the one the reviewed plan showed ("inconsistent final plan"). The prior
// state's private data is the same in both plans, so a key stored there is shown and kept.
const nextSigningKeyPrivateKey = "next_signing_key"

type nextSigningKey struct {
	Seed string `json:"seed"`
}

// storeNextSigningKey prepares the key the next rotation will use.
func storeNextSigningKey(ctx context.Context, private privateData, diags *diag.Diagnostics) {
	_, seed, err := natsjwt.NewKey(natsjwt.KindOperator)
	if err != nil {
		diags.AddError("Cannot generate the next operator signing key", err.Error())
		return
	}
	storePrivateJSON(ctx, private, nextSigningKeyPrivateKey, nextSigningKey{Seed: seed}, diags)
}

// loadNextSigningKey returns the prepared key as a signer of operator owner, or nil when the
// state has none (an operator imported or created by a provider version without it).
func loadNextSigningKey(ctx context.Context, private privateData, owner string, diags *diag.Diagnostics) *natsjwt.Signer {
	var next nextSigningKey
	if !loadPrivateJSON(ctx, private, nextSigningKeyPrivateKey, &next, diags) {
		return nil
	}
	s, err := natsjwt.NewSigner(owner, "", next.Seed, natsjwt.KindOperator)
	if err != nil {
		diags.AddError("Corrupt next signing key in private state", err.Error()+". This is always a bug in the provider.")
		return nil
	}
	return s
}

// planRotationKey sets the planned signing key to the prepared one when there is one, so
// the plan shows the new public key (the seed and signer are sensitive), and leaves it
// unknown otherwise; Update then generates it.
func planRotationKey(ctx context.Context, plan *operatorModel, private privateData, diags *diag.Diagnostics) {
	next := loadNextSigningKey(ctx, private, plan.PublicKey.ValueString(), diags)
	if next == nil {
		plan.SigningKey, plan.SigningKeySeed, plan.Signer = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		return
	}
	plan.SigningKey = types.StringValue(next.PublicKey)
	plan.SigningKeySeed = types.StringValue(next.Seed)
	plan.Signer = types.StringValue(natsjwt.EncodeSigner(next))
}

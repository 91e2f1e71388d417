package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Keys prepared one apply ahead live in a resource's private state: a plan cannot generate
// them (Terraform plans again at apply with the prior state, and a key made then would differ
// from the reviewed one), but both plans read the same prior private state, so a key stored
// there by the last apply is shown by the plan and used by the apply. The operator keeps one
// (next_signing_key); an account one per rotating key, by slot.

// privateData is what create, update, plan and import responses offer as Private (the
// framework's type is internal).
type privateData interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// loadPrivateJSON decodes the private value under key into v; false when there is none.
func loadPrivateJSON(ctx context.Context, private privateData, key string, v any, diags *diag.Diagnostics) bool {
	if private == nil {
		return false
	}
	raw, d := private.GetKey(ctx, key)
	diags.Append(d...)
	if len(raw) == 0 {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		diags.AddError("Corrupt private state", key+": "+err.Error()+". This is always a bug in the provider.")
		return false
	}
	return true
}

func storePrivateJSON(ctx context.Context, private privateData, key string, v any, diags *diag.Diagnostics) {
	raw, err := json.Marshal(v)
	if err != nil {
		diags.AddError("Cannot store private state", key+": "+err.Error()+". This is always a bug in the provider.")
		return
	}
	diags.Append(private.SetKey(ctx, key, raw)...)
}

// preparedKeys are the seeds of successor keys by slot.
type preparedKeys map[string]string

const preparedAccountKeys = "next_keys"

func loadPreparedKeys(ctx context.Context, private privateData, key string, diags *diag.Diagnostics) preparedKeys {
	out := preparedKeys{}
	loadPrivateJSON(ctx, private, key, &out, diags)
	return out
}

// signer returns the prepared key of slot as a signer of owner, or nil when none is prepared.
func (p preparedKeys) signer(slot, owner, role string, kind natsjwt.KeyKind, diags *diag.Diagnostics) *natsjwt.Signer {
	seed, ok := p[slot]
	if !ok {
		return nil
	}
	s, err := natsjwt.NewSigner(owner, role, seed, kind)
	if err != nil {
		diags.AddError("Corrupt prepared key in private state", slot+": "+err.Error()+". This is always a bug in the provider.")
		return nil
	}
	return s
}

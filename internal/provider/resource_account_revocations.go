package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// The revocation attributes of natsping_account. Keys and times are checked by natsjwt
// (Revocations.validate) in ValidateConfig and, with the provider's clock, in ModifyPlan, so
// the rules have one home and errors name the entry.

var revocationTimeDoc = "The cutoff is RFC 3339 (`2026-11-30T00:00:00Z`); nats-server refuses the JWTs it covers issued at or before it. " +
	"It may lie at most " + natsjwt.MaxRevocationLead.String() + " ahead: a cutoff never schedules anything, it " +
	"revokes at once and also refuses JWTs re-issued until then."

func accountRevokedUsersAttribute() schema.MapAttribute {
	return schema.MapAttribute{
		ElementType: types.StringType,
		Optional:    true,
		MarkdownDescription: "Revoked users, as `nsc revocations add-user` keeps them: user public key (`U…`) → cutoff, " +
			revocationTimeDoc + " Applying it (and pushing the account JWT to the servers) disconnects the user's live " +
			"connections and refuses its reconnects; a JWT issued for the key after the cutoff is valid again, so re-signing " +
			"a revoked `natsping_user` (any input change) restores it. Destroying a `natsping_user` does not revoke it: " +
			"its destroy plan prints the entry to add here (see the design notes).",
		Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
	}
}

func accountRevokeAllUsersBeforeAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "Revokes every user of the account whose JWT was issued at or before this time (`*` in the " +
			"JWT's revocations), " + revocationTimeDoc + " Users issued after it, such as every user the auth callout " +
			"issues from then on, are unaffected.",
		Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
	}
}

func accountExportRevocationAttributes(attrs map[string]schema.Attribute) {
	attrs["revoked_activations"] = schema.MapAttribute{
		ElementType: types.StringType,
		Optional:    true,
		MarkdownDescription: "Private exports only: importing account public key (`A…`) → cutoff; activation tokens this " +
			"account issued to it at or before the cutoff are refused, so the import stops working. " + revocationTimeDoc +
			" An importer whose JWT is re-signed with `activation_signer` gets a new token and imports again.",
		Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
	}
	attrs["revoke_all_activations_before"] = schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "Private exports only: refuses every activation token of this export issued at or before " +
			"this time, whoever holds it. " + revocationTimeDoc,
		Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
	}
}

// revocations reads a map attribute and an "all" attribute into natsjwt.Revocations; unknown
// values are recorded as such, so validation skips them until they are known.
func (b *accountSpecBuilder) revocations(top string, keys types.Map, all types.String) natsjwt.Revocations {
	out := natsjwt.Revocations{AllBefore: b.str(top, all)}
	if !b.known(top, keys) {
		return out
	}
	out.Keys = make(map[string]string, len(keys.Elements()))
	for k, v := range keys.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			b.unknown[top] = true
			continue
		}
		out.Keys[k] = s.ValueString()
	}
	return out
}

// exportRevocations reads an export's activation revocations; whether they are allowed depends
// on token_required, so an unknown token_required defers the export's checks.
func (b *accountSpecBuilder) exportRevocations(e accountExportModel) natsjwt.Revocations {
	b.known("exports", e.TokenRequired)
	return b.revocations("exports", e.RevokedActivations, e.RevokeAllActivations)
}

// revocationsToModel is the reverse of revocations, for state derived from a JWT (import).
func revocationsToModel(r natsjwt.Revocations) (types.Map, types.String) {
	keys := types.MapNull(types.StringType)
	if len(r.Keys) > 0 {
		keys = types.MapValueMust(types.StringType, stringAttrMap(r.Keys))
	}
	return keys, stringOrNull(r.AllBefore)
}

func stringAttrMap(in map[string]string) map[string]attr.Value {
	out := make(map[string]attr.Value, len(in))
	for k, v := range in {
		out[k] = types.StringValue(v)
	}
	return out
}

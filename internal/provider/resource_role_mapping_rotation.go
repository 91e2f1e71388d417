package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// A role whose key rotates hands its period and grace to the mapping through its signer
// (natsping_account cannot see the mappings, which sit downstream of it). The mapping writes
// them into its rule, where calloutconfig.Mapping.Validate refuses a max_session that could
// outlive a retired key: here while planning, in the trust again, and in the callout at start.

// ruleKeyRotation is the rule's copy of the role's rotation, nil when the key does not rotate.
func ruleKeyRotation(s *natsjwt.Signer) *calloutconfig.KeyRotation {
	if s == nil || s.Rotation == nil {
		return nil
	}
	return &calloutconfig.KeyRotation{Period: calloutconfig.Duration(s.Rotation.Period), Grace: calloutconfig.Duration(s.Rotation.Grace)}
}

// checkMappingSessionCoversRotation reports the rule on max_session, where the fix is.
func checkMappingSessionCoversRotation(m *roleMappingModel, diags *diag.Diagnostics) {
	if m.Signer.IsUnknown() || m.Signer.IsNull() || m.MaxSession.IsUnknown() {
		return
	}
	s, err := natsjwt.ParseSigner(m.Signer.ValueString(), natsjwt.KindAccount)
	if err != nil || s.Rotation == nil {
		return
	}
	session, err := time.ParseDuration(m.MaxSession.ValueString())
	if err != nil {
		return
	}
	if err := natsjwt.CheckSessionCoversRotation(session, s.Rotation.WithRole(s.Role)); err != nil {
		diags.AddAttributeError(path.Root("max_session"), "Session outlives the role's key rotation", err.Error())
	}
}

package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// An outage at Ping must not block every plan. A trust reads its issuer whenever the
// configuration is planned, so failing there would hold every other resource of the
// configuration hostage to Ping. For an existing trust the keys in state were reviewed at the
// last apply and the callout service keeps its own key cache, so planning on with them loses
// nothing and trusts nothing new; the plan only cannot show a rotation until Ping answers again.

// strictIssuerChecksDoc describes strict_issuer_checks; it lives beside the behaviour it names.
const strictIssuerChecksDoc = "Fail the plan of an existing trust when the issuer's discovery document or JWKS " +
	"cannot be read. By default (`false`) such a plan warns, naming the issuer and the error, and keeps `jwks_uri`, " +
	"`jwks_keys` and an `introspection_endpoint` read from discovery as last applied, so a Ping outage does not " +
	"block planning the rest of the configuration; the callout service keeps its own cache of the issuer's keys. " +
	"Creating a trust, or changing `issuer`, `ca_bundle_pem` or `allow_insecure_http`, always needs the issuer's " +
	"keys and fails while it is unreachable. Default `false`."

// issuerUnavailable handles a failed read of the issuer's keys while planning: it keeps the
// reviewed keys of state with a warning when that is safe, and otherwise reports the error.
// state is nil on create and during apply, which therefore always fail closed.
func issuerUnavailable(plan, state *trustModel, err error, diags *diag.Diagnostics) {
	issuer := plan.Issuer.ValueString()
	cause := err.Error()
	if !strings.Contains(cause, issuer) {
		cause = fmt.Sprintf("issuer %q: %s", issuer, cause)
	}
	const summary = "Cannot read the Ping issuer's keys"
	switch {
	case state == nil:
		diags.AddAttributeError(path.Root("issuer"), summary, cause+"\n\nA new trust fails closed: the issuer's "+
			"keys are read and shown in the plan before the trust exists. Fix the issuer or its reachability, or set "+
			"pinned_jwks for an air-gapped setup.")
	case plan.StrictIssuerChecks.IsUnknown() || plan.StrictIssuerChecks.ValueBool():
		diags.AddAttributeError(path.Root("issuer"), summary, cause+"\n\nstrict_issuer_checks is true, so an issuer "+
			"that cannot be read fails the plan. Fix the issuer or its reachability, or set strict_issuer_checks = "+
			"false to plan with the keys reviewed at the last apply while the issuer is unreachable.")
	case !reviewedKeysStillApply(plan, state):
		diags.AddAttributeError(path.Root("issuer"), summary, cause+"\n\nThe keys reviewed at the last apply cannot "+
			"stand in: issuer, ca_bundle_pem or allow_insecure_http changed since then, or the trust used pinned_jwks. "+
			"Apply the change once the issuer answers, or revert it to plan with the reviewed keys.")
	default:
		plan.JWKSURI, plan.JWKSKeys = state.JWKSURI, state.JWKSKeys
		diags.AddAttributeWarning(path.Root("issuer"), "Ping issuer unreachable: planning with the reviewed keys",
			cause+"\n\nThis plan keeps jwks_uri, jwks_keys and an introspection_endpoint read from discovery as last "+
				"applied, so a key rotation at Ping shows only in a plan made once the issuer answers again. The callout service is not affected by this plan: it "+
				"keeps its own cache of the issuer's keys. Set strict_issuer_checks = true to make this an error.")
	}
}

// reviewedKeysStillApply reports whether the keys in state were read from the same issuer over
// the same trust settings as the plan would read them now.
func reviewedKeysStillApply(plan, state *trustModel) bool {
	return state.PinnedJWKS.IsNull() && !state.JWKSURI.IsNull() && !state.JWKSURI.IsUnknown() &&
		!state.JWKSKeys.IsNull() && !state.JWKSKeys.IsUnknown() &&
		plan.Issuer.Equal(state.Issuer) && plan.CABundlePEM.Equal(state.CABundlePEM) &&
		plan.AllowInsecureHTTP.Equal(state.AllowInsecureHTTP)
}

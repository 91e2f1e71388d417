package provider

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// accountOperatorJWTDescription is the schema description of natsping_account.operator_jwt.
const accountOperatorJWTDescription = "JWT of the operator `operator_signer` signs for, usually " +
	"`natsping_operator.<name>.jwt`. When set, the plan refuses a signer nats-server would refuse: the operator's " +
	"identity seed (`natsping_operator.<name>.seed`) under `strict_signing_keys`, or a key of another operator. " +
	"Without it a raw operator seed cannot be told apart from a signing key seed, and such a mistake shows only in " +
	"`natsping_server_config`, after the account was re-signed. It is checked, never signed into the account: a " +
	"change of `operator_jwt` alone updates this attribute and leaves `jwt` as it is."

// checkAccountOperatorSigner refuses, while planning, an operator_signer that nats-server
// would refuse under the operator in operator_jwt. Unknown or unset values are left alone:
// the check runs again once they are known (at the latest in the final plan at apply).
func checkAccountOperatorSigner(signerValue, operatorJWT types.String, diags *diag.Diagnostics) {
	if operatorJWT.IsNull() || operatorJWT.IsUnknown() || signerValue.IsNull() || signerValue.IsUnknown() {
		return
	}
	op, err := jwt.DecodeOperatorClaims(strings.TrimSpace(operatorJWT.ValueString()))
	if err != nil {
		diags.AddAttributeError(path.Root("operator_jwt"), "Invalid operator JWT",
			fmt.Sprintf("operator_jwt is not a valid operator JWT (%v); pass natsping_operator.<name>.jwt unchanged.", err))
		return
	}
	signer, err := natsjwt.ParseSigner(signerValue.ValueString(), natsjwt.KindOperator)
	if err != nil {
		return // validSigner reports it with the attribute path
	}
	switch err := natsjwt.CheckAccountIssuer(op, signer.PublicKey); {
	case errors.Is(err, natsjwt.ErrIdentityUnderStrict):
		diags.AddAttributeError(path.Root("operator_signer"), "Operator identity key under strict signing keys",
			fmt.Sprintf("operator_signer is the identity key of operator %q (%s), but the operator requires signing keys "+
				"(strict_signing_keys), so nats-server would refuse this account. Use the operator's signing key: "+
				"operator_signer = natsping_operator.<name>.signer instead of its seed.", op.Name, op.Subject))
	case err != nil:
		diags.AddAttributeError(path.Root("operator_signer"), "Signer of another operator",
			fmt.Sprintf("operator_signer signs with %s, which is neither operator %q (%s) nor one of its signing keys (%s), "+
				"so nats-server would refuse this account. Use operator_signer = natsping_operator.<name>.signer of the "+
				"operator in operator_jwt, or set operator_jwt to the operator this signer belongs to.",
				signer.PublicKey, op.Name, op.Subject, strings.Join(slices.Sorted(slices.Values(op.SigningKeys)), ", ")))
	}
}

// onlyOperatorJWTChanged reports whether the plan differs from the state in operator_jwt
// alone. The account JWT does not contain the operator JWT, so such a plan must not re-sign it.
func onlyOperatorJWTChanged(req resource.ModifyPlanRequest) bool {
	return onlyAttributeChanged(req, "operator_jwt")
}

// onlyAttributeChanged reports whether the plan differs from the state in the named
// attribute alone (computed attributes aside, which the framework marks unknown on any change).
func onlyAttributeChanged(req resource.ModifyPlanRequest, attribute string) bool {
	var planned, prior map[string]tftypes.Value
	if req.Plan.Raw.As(&planned) != nil || req.State.Raw.As(&prior) != nil {
		return false
	}
	for name, a := range req.Plan.Schema.GetAttributes() {
		if name == attribute || (a.IsComputed() && !a.IsOptional()) {
			continue
		}
		if !planned[name].Equal(prior[name]) {
			return false
		}
	}
	return true
}

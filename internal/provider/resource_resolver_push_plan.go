package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// ValidateConfig checks every known JWT at plan time, so a JWT listed under another account's
// key or a user JWT fails `plan`, naming the key, instead of the apply.
func (r *resolverPushResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var accounts types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("accounts"), &accounts)...)
	if resp.Diagnostics.HasError() || accounts.IsNull() || accounts.IsUnknown() {
		return
	}
	for key, v := range accounts.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			continue // signed during this apply; checked once known
		}
		p := path.Root("accounts").AtMapKey(key)
		if s.IsNull() {
			resp.Diagnostics.AddAttributeError(p, "Missing account JWT", fmt.Sprintf("accounts[%q] is null; give the account's JWT.", key))
			continue
		}
		if problem := accountJWTProblem(key, s.ValueString()); problem != "" {
			resp.Diagnostics.AddAttributeError(p, "Invalid account JWT", problem)
		}
	}
}

// accountJWTProblem returns the diagnostic for a JWT that is not key's account JWT, or "".
func accountJWTProblem(key, token string) string {
	claims, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		kind := ""
		if d, derr := natsjwt.DecodeAny(token); derr == nil && d.Kind != "" && d.Kind != string(jwt.AccountClaim) {
			kind = fmt.Sprintf(" It is a %s JWT.", d.Kind)
		}
		return fmt.Sprintf("accounts[%q] is not a valid account JWT: %v.%s Pass the account's jwt output, e.g. natsping_account.<name>.jwt.", key, err, kind)
	}
	if claims.Subject != key {
		return fmt.Sprintf("accounts[%q] holds the JWT of account %s (%q). List each JWT under its own account's public key, "+
			"e.g. (natsping_account.<name>.public_key) = natsping_account.<name>.jwt.", key, claims.Subject, claims.Name)
	}
	return ""
}

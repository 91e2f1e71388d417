package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// A user is downstream of its account (it consumes the account's signer), so destroying one
// cannot change the account JWT without a write into another resource's state that no plan
// shows, and natsping_resolver_push would push the unrevoked JWT back. The destroy plan
// therefore says what a destroy does not do and prints the revocation entry to add to the
// account in the same change (DESIGN.md, "Revoking a destroyed user").

// warnUserDestroyKeepsAccess adds that warning to the destroy plan of a user whose JWT is still
// valid; an expired user needs no revocation.
func warnUserDestroyKeepsAccess(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, now time.Time) {
	var state userModel
	if diags := req.State.Get(ctx, &state); diags.HasError() || state.PublicKey.IsNull() {
		return
	}
	var expires time.Time
	if !state.ExpiresAt.IsNull() && !state.ExpiresAt.IsUnknown() {
		expires, _ = state.ExpiresAt.ValueRFC3339Time()
	}
	summary, detail, ok := userDestroyRevocationHint(state.Name.ValueString(), state.PublicKey.ValueString(), state.Account.ValueString(), expires, now)
	if ok {
		resp.Diagnostics.AddWarning(summary, detail)
	}
}

// userDestroyRevocationHint is the warning's text; ok is false when the user has expired. The
// cutoff is now: the user's JWT was issued before it, and any JWT re-issued for the key later
// (a new user never reuses it) would be admitted again.
func userDestroyRevocationHint(name, userKey, account string, expires, now time.Time) (summary, detail string, ok bool) {
	if !expires.IsZero() && !expires.After(now) {
		return "", "", false
	}
	validity := "it never expires"
	if !expires.IsZero() {
		validity = "until it expires at " + expires.UTC().Format(time.RFC3339)
	}
	cutoff := natsjwt.FormatRevocationTime(now.Unix())
	return "Destroying a user does not revoke it",
		fmt.Sprintf("User %q (%s) has a JWT that nats-server accepts %s: destroying natsping_user forgets it, the servers do not. "+
			"To refuse it now, revoke it in the same apply in the natsping_account whose public_key is %s:\n\n"+
			"  revoked_users = {\n    %q = %q\n  }\n\n"+
			"and deliver the account JWT to the servers (natsping_resolver_push, or the server config for a memory resolver). "+
			"Live connections of the user are closed then, and its reconnects refused.", name, userKey, validity, account, userKey, cutoff), true
}

package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// userDestroyPlan runs natsping_user's ModifyPlan for a destroy of a user with the given state
// attributes (the rest null) at the provider time now.
func userDestroyPlan(t *testing.T, attrs map[string]string, now time.Time) *resource.ModifyPlanResponse {
	t.Helper()
	ctx := context.Background()
	s := userResourceSchema()
	typ := s.Type().TerraformType(ctx).(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
		if v, ok := attrs[name]; ok {
			vals[name] = tftypes.NewValue(tftypes.String, v)
		}
	}
	r := &userResource{data: &ProviderData{Now: func() time.Time { return now }}}
	req := resource.ModifyPlanRequest{
		State: tfsdk.State{Schema: s, Raw: tftypes.NewValue(typ, vals)},
		Plan:  tfsdk.Plan{Schema: s, Raw: tftypes.NewValue(typ, nil)},
	}
	resp := &resource.ModifyPlanResponse{Plan: req.Plan}
	r.ModifyPlan(ctx, req, resp)
	return resp
}

// TestUserDestroy_warnsWithTheRevocation: the destroy plan of a user that is still valid says
// that destroying does not revoke, and prints the revoked_users entry (key and a cutoff that
// covers the JWT) for the user's account; an expired user plans its destroy silently.
func TestUserDestroy_warnsWithTheRevocation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 14, 3, 5, 0, time.UTC)
	user := testAccPub(t, natsjwt.KindUser)
	account := testAccPub(t, natsjwt.KindAccount)
	base := map[string]string{"name": "bob", "public_key": user, "account": account}

	resp := userDestroyPlan(t, base, now)
	if resp.Diagnostics.HasError() || resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("want one warning, got %v", resp.Diagnostics)
	}
	w := resp.Diagnostics.Warnings()[0]
	for _, want := range []string{
		"Destroying a user does not revoke it",
		`"` + user + `" = "2026-12-01T14:03:05Z"`,
		"public_key is " + account,
		"it never expires",
	} {
		if !strings.Contains(w.Summary()+w.Detail(), want) {
			t.Errorf("warning lacks %q:\n%s\n%s", want, w.Summary(), w.Detail())
		}
	}

	withExpiry := map[string]string{"expires_at": "2026-12-31T00:00:00Z"}
	for k, v := range base {
		withExpiry[k] = v
	}
	if w := userDestroyPlan(t, withExpiry, now).Diagnostics.Warnings(); len(w) != 1 || !strings.Contains(w[0].Detail(), "until it expires at 2026-12-31T00:00:00Z") {
		t.Errorf("a user with an expiry: %v", w)
	}
	withExpiry["expires_at"] = "2026-11-30T00:00:00Z"
	if d := userDestroyPlan(t, withExpiry, now).Diagnostics; len(d) != 0 {
		t.Errorf("an expired user needs no revocation, got %v", d)
	}

	// The cutoff the warning suggests is accepted by the account's rules and revokes the JWT.
	if err := natsjwt.CheckRevocationTime("2026-12-01T14:03:05Z", now); err != nil {
		t.Fatal(err)
	}
}

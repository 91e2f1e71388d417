package provider

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/liveimpact"
)

// warnOperatorLiveImpact adds a plan warning for every consequence a re-signed operator JWT
// has for running servers (internal/liveimpact): they must be restarted, and keys it adds or
// drops decide which accounts they accept afterwards. Plans that keep the JWT warn nothing.
func warnOperatorLiveImpact(ctx context.Context, plan, state *operatorModel, diags *diag.Diagnostics) {
	if state == nil || !plan.JWT.IsUnknown() || state.JWT.IsNull() || state.JWT.IsUnknown() {
		return
	}
	old, err := jwt.DecodeOperatorClaims(state.JWT.ValueString())
	if err != nil {
		return // an imported or corrupt JWT: nothing reliable to compare with
	}
	planned := plannedOperatorClaims(ctx, old, plan)
	addFindings(diags, liveimpact.Operator(old, planned))
}

// plannedOperatorClaims is the operator JWT the plan will sign, as far as it is known: an
// input known only at apply keeps its old value, a signing key generated at apply is
// liveimpact.PendingKey.
func plannedOperatorClaims(ctx context.Context, old *jwt.OperatorClaims, plan *operatorModel) *jwt.OperatorClaims {
	c := *old
	if !plan.Name.IsUnknown() {
		c.Name = plan.Name.ValueString()
	}
	if !plan.StrictSigningKeys.IsUnknown() {
		c.StrictSigningKeyUsage = plan.StrictSigningKeys.ValueBool()
	}
	if !plan.AccountServerURL.IsUnknown() {
		c.AccountServerURL = plan.AccountServerURL.ValueString()
	}
	var discard diag.Diagnostics
	if valueFullyKnown(ctx, plan.OperatorServiceURLs) {
		urls := stringElements(ctx, plan.OperatorServiceURLs, &discard)
		for i, u := range urls {
			urls[i] = strings.TrimSuffix(u, "/") // as natsjwt.BuildOperatorJWT writes them
		}
		c.OperatorServiceURLs = jwt.StringList(urls)
		slices.Sort(c.OperatorServiceURLs)
	}
	if valueFullyKnown(ctx, plan.Tags) {
		tags := stringElements(ctx, plan.Tags, &discard)
		slices.Sort(tags)
		c.Tags = jwt.TagList(tags)
	}
	if !plan.ExpiresAt.IsUnknown() {
		c.Expires = 0
		if t, d := plan.ExpiresAt.ValueRFC3339Time(); !plan.ExpiresAt.IsNull() && !d.HasError() {
			c.Expires = t.Unix()
		}
	}
	if !plan.SystemAccountPublicKey.IsUnknown() {
		c.SystemAccount = plan.SystemAccountPublicKey.ValueString()
	}
	c.SigningKeys = nil
	c.SigningKeys = append(c.SigningKeys, knownOrPending(plan.SigningKey))
	switch {
	case plan.PreviousSigningKey.IsUnknown():
		// The grace period decides at apply whether the previous key stays: assume it does, so
		// no key is reported as dropped before it is.
		c.SigningKeys = append(c.SigningKeys, old.SigningKeys...)
	case !plan.PreviousSigningKey.IsNull():
		c.SigningKeys = append(c.SigningKeys, plan.PreviousSigningKey.ValueString())
	}
	slices.Sort(c.SigningKeys)
	c.SigningKeys = slices.Compact(c.SigningKeys)
	return &c
}

func knownOrPending(v types.String) string {
	if v.IsUnknown() || v.IsNull() {
		return liveimpact.PendingKey
	}
	return v.ValueString()
}

// addFindings turns findings into plan warnings. Findings name keys and accounts only, never
// seeds or creds.
func addFindings(diags *diag.Diagnostics, findings []liveimpact.Finding) {
	for _, f := range findings {
		diags.AddWarning(f.Summary(), f.Detail())
	}
}

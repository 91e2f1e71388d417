package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// ValidateConfig reports every problem that needs only the configuration, so `validate`
// already shows it; nothing here touches the network.
func (r *trustResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m trustModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.AllowInsecureHTTP.IsUnknown() {
		checkIssuerURL(m.Issuer, m.AllowInsecureHTTP, &resp.Diagnostics)
	}
	// The callout account is signed like any account, so the account's rule applies as it is.
	checkAccountOperatorSigner(m.OperatorSigner, m.OperatorJWT, &resp.Diagnostics)
	required, reqKnown := sortedKnownStrings(ctx, m.RequiredScopes, &resp.Diagnostics)
	forbidden, forbKnown := sortedKnownStrings(ctx, m.ForbiddenScopes, &resp.Diagnostics)
	if reqKnown && forbKnown {
		if both := calloutconfig.ScopesBothRequiredAndForbidden(required, forbidden); len(both) > 0 {
			resp.Diagnostics.AddAttributeError(path.Root("forbidden_scopes"), "Scope both required and forbidden",
				fmt.Sprintf("%s appear in both required_scopes and forbidden_scopes, so no token could ever be "+
					"accepted. Remove them from one of the two.", strings.Join(quoteAll(both), ", ")))
		}
	}
	if !m.PinnedJWKS.IsNull() && !m.PinnedJWKS.IsUnknown() {
		if _, err := pinnedKeys(m.PinnedJWKS.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("pinned_jwks"), "Invalid pinned JWKS", err.Error())
		}
	}
	validateIntrospection(ctx, &m, &resp.Diagnostics)
	if mappings, known := knownStrings(m.RoleMappings); known {
		parseMappingRules(mappings, &resp.Diagnostics)
	}
}

// checkIssuerURL applies the https-only rule with the attribute path of issuer.
func checkIssuerURL(issuer types.String, allowInsecure types.Bool, diags *diag.Diagnostics) {
	if issuer.IsNull() || issuer.IsUnknown() {
		return
	}
	if err := calloutconfig.CheckIssuerURL(issuer.ValueString(), allowInsecure.ValueBool()); err != nil {
		diags.AddAttributeError(path.Root("issuer"), "Issuer URL refused", err.Error())
	}
}

// ModifyPlan computes at plan time everything that can be known then: the signing operator
// key, the allowed accounts, the issuer's current keys (so a rotation at Ping is a visible
// update), the introspection endpoint and, for an existing trust, the whole callout config.
// JWTs are re-signed only when their own inputs change.
func (r *trustResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	plan, state := planAndPriorState[trustModel](ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	plan.IssuerPublicKey = types.StringUnknown()
	if !plan.OperatorSigner.IsUnknown() {
		signer, err := natsjwt.ParseSigner(plan.OperatorSigner.ValueString(), natsjwt.KindOperator)
		if err != nil {
			return // validSigner reported it with the attribute path
		}
		plan.IssuerPublicKey = types.StringValue(signer.PublicKey)
	}

	var mappings []calloutconfig.Mapping
	plan.AllowedAccounts = types.ListUnknown(types.StringType)
	if rules, known := knownStrings(plan.RoleMappings); known {
		if mappings = parseMappingRules(rules, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
		plan.AllowedAccounts = allowedAccountsValue(mappings)
	}

	found := r.planKeys(ctx, &plan, state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	planIntrospectionEndpoint(ctx, &plan, state, found, &resp.Diagnostics)
	if r.planTrustRotations(ctx, req, &plan, state, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}

	plan.AccountJWT = types.StringUnknown()
	if state != nil && accountJWTInputsEqual(&plan, state) && !plan.rotation.changed {
		plan.AccountJWT = state.AccountJWT
	}

	plan.CalloutConfig = types.StringUnknown()
	if state != nil && mappings != nil && plan.inputsKnown(ctx) && !plan.JWKSURI.IsUnknown() && !plan.IntrospectionEndpoint.IsUnknown() && !plan.rotation.pending {
		doc, err := plan.document(mappings)
		if err != nil {
			resp.Diagnostics.AddError("Invalid callout configuration", err.Error())
			return
		}
		plan.CalloutConfig = types.StringValue(doc)
	} else if mappings != nil && plan.inputsKnown(ctx) {
		// Before the keys exist, validate the document with stand-in keys so that every
		// problem shows at plan time rather than during apply.
		if err := validateWithStandInKeys(plan, mappings); err != nil {
			resp.Diagnostics.AddError("Invalid callout configuration", err.Error())
			return
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// planKeys sets jwks_uri and jwks_keys from pinned_jwks, or from the issuer right now; when
// the issuer cannot be read, from state (nil on create) as issuerUnavailable decides. It
// returns the discovery document when it read one.
func (r *trustResource) planKeys(ctx context.Context, m, state *trustModel, diags *diag.Diagnostics) *oidc.DiscoveryDocument {
	keysType := types.ObjectType{AttrTypes: jwksKeyAttrTypes}
	switch {
	case m.PinnedJWKS.IsUnknown():
		m.JWKSURI, m.JWKSKeys = types.StringUnknown(), types.ListUnknown(keysType)
	case !m.PinnedJWKS.IsNull():
		keys, err := pinnedKeys(m.PinnedJWKS.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("pinned_jwks"), "Invalid pinned JWKS", err.Error())
			return nil
		}
		m.JWKSURI, m.JWKSKeys = types.StringNull(), jwksKeysValue(keys)
	case m.Issuer.IsUnknown() || m.CABundlePEM.IsUnknown() || m.AllowInsecureHTTP.IsUnknown():
		m.JWKSURI, m.JWKSKeys = types.StringUnknown(), types.ListUnknown(keysType)
	default:
		found, err := discoverIssuer(ctx, m.Issuer.ValueString(), m.CABundlePEM.ValueString(), m.AllowInsecureHTTP.ValueBool())
		if err != nil {
			issuerUnavailable(m, state, err, diags)
			return nil
		}
		m.JWKSURI, m.JWKSKeys = types.StringValue(found.doc.JWKSURI), jwksKeysValue(found.keys)
		return found.doc
	}
	return nil
}

// accountJWTInputsEqual reports whether the callout account JWT would say the same as the one
// in state: then it is kept rather than re-signed.
func accountJWTInputsEqual(plan, state *trustModel) bool {
	if plan.Name.IsUnknown() || plan.IssuerPublicKey.IsUnknown() || plan.AllowedAccounts.IsUnknown() || plan.XKey.IsUnknown() ||
		plan.Offboarding.IsUnknown() {
		return false
	}
	// Only whether offboarding is on reaches the JWT (its JetStream limits), not the bucket.
	return !state.AccountJWT.IsNull() && plan.Name.Equal(state.Name) && plan.IssuerPublicKey.Equal(state.IssuerPublicKey) &&
		plan.AllowedAccounts.Equal(state.AllowedAccounts) && plan.XKey.Equal(state.XKey) &&
		plan.Offboarding.IsNull() == state.Offboarding.IsNull()
}

// inputsKnown reports whether every configuration value that goes into the callout config is known.
func (m *trustModel) inputsKnown(ctx context.Context) bool {
	values := []attr.Value{m.Name, m.Issuer, m.Audiences, m.Algorithms, m.MaxTokenLifetime, m.ClockSkew,
		m.RequiredScopes, m.ForbiddenScopes, m.GroupsClaim, m.NameClaims, m.CABundlePEM, m.AllowInsecureHTTP,
		m.PinnedJWKS, m.JWKSMinRefreshInterval, m.RoleMappings, m.NATSURLs, m.QueueGroup, m.AuditSubject, m.XKey,
		m.Introspection, m.ExpirySpreadPercent, m.Offboarding}
	for _, v := range values {
		if !valueFullyKnown(ctx, v) {
			return false
		}
	}
	return true
}

// parseMappingRules decodes the rule outputs strictly and refuses duplicate names. Messages
// name the list index and the mapping, never the rule (it holds a seed).
func parseMappingRules(rules []string, diags *diag.Diagnostics) []calloutconfig.Mapping {
	out := make([]calloutconfig.Mapping, 0, len(rules))
	seen := map[string]int{}
	for i, raw := range rules {
		at := path.Root("role_mappings").AtListIndex(i)
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		var m calloutconfig.Mapping
		if err := dec.Decode(&m); err != nil {
			diags.AddAttributeError(at, "Not a role mapping rule",
				"Each element must be the `rule` output of a natsping_role_mapping, passed unchanged; this one does not "+
					"decode as one. Use natsping_role_mapping.<name>.rule.")
			continue
		}
		if first, dup := seen[m.Name]; dup {
			diags.AddAttributeError(at, "Duplicate role mapping name",
				fmt.Sprintf("role_mappings[%d] and role_mappings[%d] are both named %q; mapping names must be unique "+
					"within a trust (rename one of the natsping_role_mapping resources, or list it once).", first, i, m.Name))
			continue
		}
		seen[m.Name] = i
		// A rule edited by hand, or rendered by an older provider, must not reach the callout
		// config: the service would refuse the whole document at start.
		if err := m.Validate(); err != nil {
			diags.AddAttributeError(at, "Role mapping rule refused",
				fmt.Sprintf("role_mappings[%d] (%q) breaks a callout rule: %v. Pass natsping_role_mapping.<name>.rule "+
					"unchanged, and apply the role mappings with this provider version first.", i, m.Name, err))
			continue
		}
		out = append(out, m)
	}
	return out
}

func allowedAccountsValue(mappings []calloutconfig.Mapping) types.List {
	set := map[string]bool{}
	for _, m := range mappings {
		set[m.Account] = true
	}
	accounts := make([]string, 0, len(set))
	for a := range set {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	return stringList(accounts)
}

// pinnedKeys checks a pinned JWK Set: it must hold verification keys and nothing private.
func pinnedKeys(raw string) ([]oidc.KeyFingerprint, error) {
	if err := calloutconfig.CheckPinnedJWKS([]byte(raw)); err != nil {
		return nil, err
	}
	if _, err := oidc.NewStaticKeySet([]byte(raw)); err != nil {
		return nil, err
	}
	return oidc.KeyFingerprints([]byte(raw))
}

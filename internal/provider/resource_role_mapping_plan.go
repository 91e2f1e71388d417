package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// ValidateConfig refuses signers that carry no role and mappings without a condition, so
// `validate` already reports them.
func (r *roleMappingResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m roleMappingModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Signer.IsNull() && !m.Signer.IsUnknown() {
		roleSigner(m.Signer.ValueString(), &resp.Diagnostics)
	}
	conditions := []attr.Value{m.Groups, m.ClientIDs, m.Scopes, m.Claims}
	if !slices.ContainsFunc(conditions, func(v attr.Value) bool { return !v.IsNull() }) {
		resp.Diagnostics.AddAttributeError(path.Root("groups"), "No condition",
			"A role mapping needs at least one condition: groups, client_ids, scopes or claims. A mapping without one "+
				"would grant the role to every token the trust accepts.")
	}
}

// roleSigner parses a signer and insists that it is a role. The message describes what was
// given by kind and owner, never by value.
func roleSigner(value string, diags *diag.Diagnostics) *natsjwt.Signer {
	s, err := natsjwt.ParseSigner(value, natsjwt.KindAccount)
	if err != nil {
		return nil // validSigner reports it with the attribute path
	}
	if s.Role != "" {
		return s
	}
	var given string
	switch {
	case s.Owner == "":
		given = fmt.Sprintf("a raw account seed (SA…, public key %s), which names no role", s.PublicKey)
	case s.IsIdentity():
		given = fmt.Sprintf("the account signer of account %s (its identity key)", s.Owner)
	default:
		given = fmt.Sprintf("an unscoped signing key (%s) of account %s", s.PublicKey, s.Owner)
	}
	diags.AddAttributeError(path.Root("signer"), "Not a role signer",
		"signer must be a role signer, such as natsping_account.<name>.role_signers[\"<role>\"]; the value given is "+
			given+". Users it signed would carry no role template, so the mapping could grant anything the key can sign.")
	return nil
}

// ModifyPlan computes everything while planning: the account and role from the signer, the
// groups as PingOne currently knows them, and the rule. Drift in PingOne (a renamed or deleted
// group) therefore shows as a planned update, not as a surprise during apply.
func (r *roleMappingResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	plan, state := planAndPriorState[roleMappingModel](ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if checkMappingSessionCoversRotation(&plan, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	r.compute(ctx, &plan, state, true, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// compute fills account, role, resolved_groups and rule. Values already known in m (planned
// while planning) are kept during apply, so apply produces exactly what was reviewed.
func (r *roleMappingResource) compute(ctx context.Context, m, state *roleMappingModel, planning bool, diags *diag.Diagnostics) {
	var signer *natsjwt.Signer
	if m.Signer.IsUnknown() {
		m.Account, m.Role = types.StringUnknown(), types.StringUnknown()
	} else if signer = roleSigner(m.Signer.ValueString(), diags); signer != nil {
		m.Account, m.Role = types.StringValue(signer.Owner), types.StringValue(signer.Role)
	} else {
		return
	}

	if planning || m.ResolvedGroups.IsUnknown() || m.ResolvedGroups.IsNull() {
		groups, known := sortedKnownStrings(ctx, m.Groups, diags)
		if !known {
			m.ResolvedGroups = types.ListUnknown(types.ObjectType{AttrTypes: resolvedGroupAttrTypes})
		} else {
			var prior []resolvedGroup
			if state != nil {
				prior = resolvedGroupsFrom(state.ResolvedGroups)
			}
			resolved := r.resolveGroups(ctx, groups, prior, diags)
			if diags.HasError() {
				return
			}
			m.ResolvedGroups = resolvedGroupsValue(resolved)
		}
	}

	clientType := types.ObjectType{AttrTypes: resolvedClientAttrTypes}
	switch {
	case m.ClientIDs.IsNull():
		m.ResolvedClients = types.ListNull(clientType)
	case planning || m.ResolvedClients.IsUnknown() || m.ResolvedClients.IsNull():
		ids, known := sortedKnownStrings(ctx, m.ClientIDs, diags)
		if !known {
			m.ResolvedClients = types.ListUnknown(clientType)
			break
		}
		var prior []resolvedClient
		if state != nil {
			prior = resolvedClientsFrom(state.ResolvedClients)
		}
		resolved := r.resolveClients(ctx, ids, prior, diags)
		if diags.HasError() {
			return
		}
		m.ResolvedClients = resolvedClientsValue(resolved)
	}

	if signer == nil || m.ResolvedGroups.IsUnknown() || m.ResolvedClients.IsUnknown() || m.Name.IsUnknown() ||
		m.AccountName.IsUnknown() || m.Priority.IsUnknown() || m.MaxSession.IsUnknown() ||
		!valueFullyKnown(ctx, m.AllowedConnectionTypes) || !valueFullyKnown(ctx, m.Tags) || !valueFullyKnown(ctx, m.Scopes) ||
		!valueFullyKnown(ctx, m.Claims) {
		m.Rule = types.StringUnknown()
		return
	}
	rule, err := m.rule(ctx, signer)
	if err != nil {
		diags.AddError("Cannot render the mapping rule", err.Error())
		return
	}
	m.Rule = types.StringValue(rule)
}

// rule renders the mapping as one compact calloutconfig.Mapping. Every list is sorted, so the
// same configuration always renders the same bytes and a second plan is empty.
func (m *roleMappingModel) rule(ctx context.Context, signer *natsjwt.Signer) (string, error) {
	session, err := time.ParseDuration(m.MaxSession.ValueString())
	if err != nil {
		return "", fmt.Errorf("max_session: %w", err)
	}
	var diags diag.Diagnostics
	conn, _ := sortedKnownStrings(ctx, m.AllowedConnectionTypes, &diags)
	tags, _ := sortedKnownStrings(ctx, m.Tags, &diags)
	if diags.HasError() {
		return "", fmt.Errorf("reading sets: %v", diags)
	}
	mapping := calloutconfig.Mapping{
		Name:                   m.Name.ValueString(),
		Priority:               int(m.Priority.ValueInt64()),
		Account:                signer.Owner,
		AccountName:            m.AccountName.ValueString(),
		Role:                   signer.Role,
		RoleSigningKey:         signer.PublicKey,
		RoleSigningKeySeed:     signer.Seed,
		MaxSession:             calloutconfig.Duration(session),
		AllowedConnectionTypes: conn,
		Tags:                   tags,
		RoleKeyRotation:        ruleKeyRotation(signer),
	}
	for _, g := range resolvedGroupsFrom(m.ResolvedGroups) {
		mapping.Groups = append(mapping.Groups, calloutconfig.Group{Name: g.Name, ID: g.ID})
	}
	ids := map[string]bool{}
	for _, c := range resolvedClientsFrom(m.ResolvedClients) {
		ids[c.ID] = true
	}
	for id := range ids {
		mapping.ClientIDs = append(mapping.ClientIDs, id)
	}
	slices.Sort(mapping.ClientIDs)
	mapping.Scopes, _ = sortedKnownStrings(ctx, m.Scopes, &diags)
	if !m.Claims.IsNull() {
		var claims map[string][]string
		diags.Append(m.Claims.ElementsAs(ctx, &claims, false)...)
		for _, p := range slices.Sorted(maps.Keys(claims)) {
			values := slices.Clone(claims[p])
			slices.Sort(values)
			mapping.Claims = append(mapping.Claims, calloutconfig.ClaimCondition{Path: p, Values: slices.Compact(values)})
		}
	}
	if diags.HasError() {
		return "", fmt.Errorf("reading conditions: %v", diags)
	}
	// The callout refuses a document with a mapping that breaks a rule, so refuse it here first.
	if err := mapping.Validate(); err != nil {
		return "", err
	}
	out, err := json.Marshal(mapping)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

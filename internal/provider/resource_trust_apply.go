package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// Create generates the callout account's keys, signs its JWT and its two users, and renders
// the callout config. Discovery runs here only when the plan could not (an issuer unknown
// while planning); otherwise the keys reviewed in the plan are the ones stored.
func (r *trustResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m trustModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := generateTrustKeys(&m); err != nil {
		resp.Diagnostics.AddError("Cannot create the callout account", err.Error())
		return
	}
	r.applyTrustRotations(ctx, nil, resp.Private, req.Plan, &m, &resp.Diagnostics)
	r.apply(ctx, &m, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// Read returns the state unchanged and makes no network calls: the issuer's keys are compared
// while planning, so a rotation shows as a planned update instead of a silent state rewrite,
// and everything else is derived from configuration and keys this provider generated.
func (r *trustResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *trustResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, state trustModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Keys are kept; the plan modifiers already carry them, this guards against an unknown.
	m.AccountPublicKey, m.AccountSeed, m.AccountSigningKey = state.AccountPublicKey, state.AccountSeed, state.AccountSigningKey
	m.CalloutUserPublicKey, m.CalloutUserCreds = state.CalloutUserPublicKey, state.CalloutUserCreds
	m.XKeyPublicKey, m.XKeySeed = state.XKeyPublicKey, state.XKeySeed
	m.SentinelPublicKey, m.SentinelJWT = state.SentinelPublicKey, state.SentinelJWT
	r.applyTrustRotations(ctx, req.Private, resp.Private, req.Plan, &m, &resp.Diagnostics)
	r.apply(ctx, &m, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// Delete has nothing to remove: the callout account exists only as keys and JWTs in this state.
func (r *trustResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// generateTrustKeys creates every key of a new trust and signs the two users of the callout
// account with a fresh signing key whose seed is then dropped: those JWTs never change, so
// keeping a seed that can mint callout-account users would only add risk.
func generateTrustKeys(m *trustModel) error {
	accPub, accSeed, err := natsjwt.NewKey(natsjwt.KindAccount)
	if err != nil {
		return err
	}
	skPub, skSeed, err := natsjwt.NewKey(natsjwt.KindAccount)
	if err != nil {
		return err
	}
	userPub, userSeed, err := natsjwt.NewKey(natsjwt.KindUser)
	if err != nil {
		return err
	}
	sentinelPub, _, err := natsjwt.NewKey(natsjwt.KindUser)
	if err != nil {
		return err
	}
	xPub, xSeed, err := natsjwt.NewKey(natsjwt.KindCurve)
	if err != nil {
		return err
	}
	sk, err := natsjwt.NewSigner(accPub, "", skSeed, natsjwt.KindAccount)
	if err != nil {
		return err
	}
	userJWT, err := natsjwt.BuildCalloutServiceUserJWT(accPub, sk, userPub)
	if err != nil {
		return fmt.Errorf("signing the callout service user: %w", err)
	}
	creds, err := natsjwt.FormatCreds(userJWT, userSeed)
	if err != nil {
		return err
	}
	sentinel, err := natsjwt.BuildSentinelJWT(accPub, sk, sentinelPub)
	if err != nil {
		return fmt.Errorf("signing the sentinel: %w", err)
	}
	m.AccountPublicKey, m.AccountSeed = types.StringValue(accPub), types.StringValue(accSeed)
	m.AccountSigningKey = types.StringValue(skPub)
	m.CalloutUserPublicKey, m.CalloutUserCreds = types.StringValue(userPub), types.StringValue(creds)
	m.SentinelPublicKey, m.SentinelJWT = types.StringValue(sentinelPub), types.StringValue(sentinel)
	m.XKeyPublicKey, m.XKeySeed = types.StringValue(xPub), types.StringValue(xSeed)
	return nil
}

// apply fills every value the plan left unknown: issuer keys, allowed accounts, the account
// JWT and the callout config. Known planned values are kept as reviewed.
func (r *trustResource) apply(ctx context.Context, m *trustModel, diags *diag.Diagnostics) {
	operator, err := natsjwt.ParseSigner(m.OperatorSigner.ValueString(), natsjwt.KindOperator)
	if err != nil {
		diags.AddAttributeError(path.Root("operator_signer"), "Invalid signer", err.Error())
		return
	}
	m.IssuerPublicKey = types.StringValue(operator.PublicKey)
	rules, _ := knownStrings(m.RoleMappings)
	mappings := parseMappingRules(rules, diags)
	if diags.HasError() {
		return
	}
	m.AllowedAccounts = allowedAccountsValue(mappings)
	var found *oidc.DiscoveryDocument
	if m.JWKSURI.IsUnknown() || m.JWKSKeys.IsUnknown() {
		if found = r.planKeys(ctx, m, nil, diags); diags.HasError() {
			return
		}
	}
	if m.IntrospectionEndpoint.IsUnknown() {
		// The keys may have been reviewed while the introspection block was still unknown;
		// discovery is then read once more for the endpoint alone.
		if found == nil && introspectionNeedsDiscovery(ctx, m) {
			if found = discoverDocument(ctx, m, diags); diags.HasError() {
				return
			}
		}
		if planIntrospectionEndpoint(ctx, m, nil, found, diags); diags.HasError() {
			return
		}
	}
	if m.AccountJWT.IsUnknown() {
		spec := natsjwt.CalloutAccountSpec{
			Name:        m.Name.ValueString(),
			PublicKey:   m.AccountPublicKey.ValueString(),
			SigningKey:  m.AccountSigningKey.ValueString(),
			ServiceUser: m.CalloutUserPublicKey.ValueString(),
			JetStream:   m.offboardingJetStream(),
		}
		spec.AllowedAccounts = stringElements(ctx, m.AllowedAccounts, diags)
		spec.OverlapSigningKeys = m.signingOverlap(ctx, diags)
		if m.XKey.ValueBool() {
			spec.XKey = m.XKeyPublicKey.ValueString()
		}
		token, err := natsjwt.SignCalloutAccount(spec, operator)
		if err != nil {
			diags.AddError("Cannot sign the callout account", err.Error())
			return
		}
		m.AccountJWT = types.StringValue(token)
	}
	doc, err := m.document(mappings)
	if err != nil {
		diags.AddError("Invalid callout configuration", err.Error())
		return
	}
	if !m.CalloutConfig.IsUnknown() && m.CalloutConfig.ValueString() != doc {
		diags.AddError("Callout configuration changed during apply",
			"The callout configuration rendered during apply differs from the planned one. This is always a bug in the provider.")
		return
	}
	m.CalloutConfig = types.StringValue(doc)
}

// document renders the callout config for the model's keys and the given mappings, validated
// with calloutconfig's own rules. Every collection is sorted, so the same inputs always
// render the same bytes.
func (m *trustModel) document(mappings []calloutconfig.Mapping) (string, error) {
	ctx := context.Background()
	var diags diag.Diagnostics
	audiences, _ := sortedKnownStrings(ctx, m.Audiences, &diags)
	algorithms, _ := sortedKnownStrings(ctx, m.Algorithms, &diags)
	required, _ := sortedKnownStrings(ctx, m.RequiredScopes, &diags)
	forbidden, _ := sortedKnownStrings(ctx, m.ForbiddenScopes, &diags)
	nameClaims, _ := knownStrings(m.NameClaims)
	urls, _ := knownStrings(m.NATSURLs)
	if diags.HasError() {
		return "", fmt.Errorf("reading the configuration: %v", diags)
	}
	durations := map[string]time.Duration{}
	for name, v := range map[string]types.String{"max_token_lifetime": m.MaxTokenLifetime, "clock_skew": m.ClockSkew,
		"jwks_min_refresh_interval": m.JWKSMinRefreshInterval} {
		d, err := time.ParseDuration(v.ValueString())
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		durations[name] = d
	}
	sorted := append([]calloutconfig.Mapping(nil), mappings...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	doc := calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer: calloutconfig.Issuer{
			URL:                    m.Issuer.ValueString(),
			Audiences:              audiences,
			Algorithms:             algorithms,
			MaxTokenLifetime:       calloutconfig.Duration(durations["max_token_lifetime"]),
			ClockSkew:              calloutconfig.Duration(durations["clock_skew"]),
			RequiredScopes:         required,
			ForbiddenScopes:        forbidden,
			GroupsClaim:            m.GroupsClaim.ValueString(),
			NameClaims:             nameClaims,
			CABundlePEM:            m.CABundlePEM.ValueString(),
			AllowInsecureHTTP:      m.AllowInsecureHTTP.ValueBool(),
			JWKSMinRefreshInterval: calloutconfig.Duration(durations["jwks_min_refresh_interval"]),
		},
		NATS: calloutconfig.NATS{
			URLs:               urls,
			CalloutAccount:     m.AccountPublicKey.ValueString(),
			CalloutAccountSeed: m.AccountSeed.ValueString(),
			Creds:              m.CalloutUserCreds.ValueString(),
			QueueGroup:         m.QueueGroup.ValueString(),
			AuditSubject:       m.AuditSubject.ValueString(),
		},
		Mappings:            sorted,
		ExpirySpreadPercent: expirySpreadDocument(m.ExpirySpreadPercent),
	}
	if m.XKey.ValueBool() {
		doc.NATS.XKeySeed = m.XKeySeed.ValueString()
		doc.NATS.XKeySeeds = m.rotation.extraXKeySeeds
	}
	doc.Issuer.Introspection = m.introspectionDocument(ctx)
	doc.Offboarding = m.offboardingDocument(ctx)
	if m.PinnedJWKS.IsNull() {
		doc.Issuer.JWKSURL = m.JWKSURI.ValueString()
	} else {
		canonical, err := canonicalJSON(m.PinnedJWKS.ValueString())
		if err != nil {
			return "", fmt.Errorf("pinned_jwks: %w", err)
		}
		doc.Issuer.PinnedJWKS = canonical
	}
	if err := doc.Validate(); err != nil {
		return "", fmt.Errorf("the callout would refuse this configuration:\n%s", indentLines(err.Error()))
	}
	out, err := doc.Marshal()
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// validateWithStandInKeys renders the document with throwaway keys before the real ones
// exist, so a create fails while planning rather than halfway through apply.
func validateWithStandInKeys(m trustModel, mappings []calloutconfig.Mapping) error {
	if err := generateTrustKeys(&m); err != nil {
		return err
	}
	if m.JWKSURI.IsUnknown() {
		m.JWKSURI = types.StringValue(m.Issuer.ValueString() + "/jwks")
	}
	if m.IntrospectionEndpoint.IsUnknown() {
		m.IntrospectionEndpoint = types.StringValue(m.Issuer.ValueString() + "/introspect")
	}
	_, err := m.document(mappings)
	return err
}

// canonicalJSON re-encodes JSON with sorted object keys, so a reformatted pinned_jwks that
// says the same renders the same callout config.
func canonicalJSON(raw string) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func indentLines(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

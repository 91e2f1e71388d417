package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// nscImportedOperatorKey marks, in private state, an operator imported from an nsc store whose
// state natsping has not yet applied: its system account name is the store's, and renaming it
// would replace every key instead of re-signing.
const nscImportedOperatorKey = "nsc_import"

// ImportState adopts an operator made with nsc by the path of its JWT in the nsc store; every
// seed comes from the nsc keystore by public key, so the import ID holds no secret. The JWTs are
// kept: the next plan is empty when the configuration says what they say. The older ID made of
// seeds still works, with a warning, so existing scripts keep running.
func (r *operatorResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m, warnings, fromNSC, err := operatorFromImport(req.ID, natsjwt.NSCDefaultKeystore(), r.now())
	if err != nil {
		resp.Diagnostics.AddError("Cannot import the operator", err.Error())
		return
	}
	for _, w := range warnings {
		resp.Diagnostics.AddWarning(w.summary, w.detail)
	}
	storeNextSigningKey(ctx, resp.Private, &resp.Diagnostics)
	if fromNSC {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, nscImportedOperatorKey, []byte("true"))...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

type importWarning struct{ summary, detail string }

// operatorFromImport reads either import ID: the path of an nsc operator JWT, or the older list
// of seeds (fromNSC false), which it accepts with a warning.
func operatorFromImport(id string, ks natsjwt.NSCKeystore, now time.Time) (m *operatorModel, warnings []importWarning, fromNSC bool, err error) {
	if isSeedImportID(id) {
		m, err = operatorFromImportID(id, now)
		if err != nil {
			return nil, nil, false, fmt.Errorf("invalid import ID: %w", err)
		}
		return m, []importWarning{{"The import ID holds secrets", seedImportIDWarning}}, false, nil
	}
	m, notes, err := operatorFromNSC(id, ks, now)
	if err != nil {
		return nil, nil, false, err
	}
	for _, n := range notes {
		warnings = append(warnings, importWarning{"Imported operator", n})
	}
	return m, warnings, true, nil
}

const seedImportIDWarning = "This import ID is a list of seeds: an import block shows its ID in plan output, and " +
	"`terraform import` leaves it in shell history. Import by the path of the operator JWT in the nsc store instead " +
	"(e.g. ~/.local/share/nats/nsc/stores/<operator>/<operator>.jwt); the seeds are then read from the nsc keystore. " +
	"The seed list is still accepted so existing scripts keep working."

// isSeedImportID tells the old seed-list ID from a path: seeds are base32 and begin with "S",
// a JWT path has a dot. Anything seed-like goes to the seed parser, whose errors never repeat
// the ID, rather than to the path reader, whose errors name the path.
func isSeedImportID(id string) bool {
	id = strings.TrimSpace(id)
	return strings.HasPrefix(id, "S") && !strings.ContainsAny(id, `/\.`)
}

// nscImportPending tells whether the state is an nsc import that natsping has not applied yet.
func nscImportPending(ctx context.Context, private privateData) bool {
	if private == nil {
		return false
	}
	raw, d := private.GetKey(ctx, nscImportedOperatorKey)
	return len(raw) > 0 && !d.HasError()
}

// onlyKeepersDiffer: the configuration differs from the state in signing_key_rotation alone,
// which the JWT does not record.
func onlyKeepersDiffer(req resource.ModifyPlanRequest) bool {
	return onlyAttributeChanged(req, "signing_key_rotation")
}

// clearNSCImport ends the import's special rules once natsping has applied the operator.
func clearNSCImport(ctx context.Context, private privateData, diags *diag.Diagnostics) {
	diags.Append(private.SetKey(ctx, nscImportedOperatorKey, nil)...)
}

// operatorFromNSC reads the operator JWT at jwtPath, its system account and system user from
// the same store and every seed from ks into a model.
func operatorFromNSC(jwtPath string, ks natsjwt.NSCKeystore, now time.Time) (*operatorModel, []string, error) {
	if strings.TrimSpace(jwtPath) == "" {
		return nil, nil, errors.New("the import ID is empty; give the path of the operator JWT, e.g. ~/.local/share/nats/nsc/stores/<operator>/<operator>.jwt")
	}
	st, err := natsjwt.ReadNSCOperatorStore(jwtPath)
	if err != nil {
		return nil, nil, err
	}
	op, sys, usr := st.Operator, st.SystemAccount, st.SystemUser
	read := natsjwt.OperatorSpecFromClaims(op)
	var warnings []string
	if len(read.Ignored) > 0 {
		warnings = append(warnings, fmt.Sprintf("Operator %q carries %s, which natsping does not model: they stay in the imported JWT, "+
			"but the first change that re-signs the operator drops them.", op.Name, strings.Join(read.Ignored, ", ")))
	}
	seedOf := func(pub, what string) (string, error) {
		seed, err := ks.Seed(pub)
		if err != nil {
			return "", fmt.Errorf("operator %q: the %s: %w", op.Name, what, err)
		}
		return seed, nil
	}
	idSeed, err := seedOf(op.Subject, "operator identity key "+op.Subject)
	if err != nil {
		return nil, nil, err
	}
	current, currentSeed, previous, err := operatorSigningKeys(st, ks)
	if err != nil {
		return nil, nil, err
	}
	if previous != "" {
		warnings = append(warnings, fmt.Sprintf("Operator %q lists two signing keys. natsping signs with %s (signing_key) and keeps %s "+
			"as previous_signing_key for signing_key_grace_period after this import; then a plan drops it from the operator JWT. "+
			"Re-sign the accounts it signed before that: pass this operator's signer as their operator_signer.", op.Name, current, previous))
	}
	sysSeed, err := seedOf(sys.Subject, fmt.Sprintf("identity key %s of system account %q", sys.Subject, sys.Name))
	if err != nil {
		return nil, nil, err
	}
	sysSK, sysSKSeed, err := systemAccountSigningKey(st, ks)
	if err != nil {
		return nil, nil, err
	}
	usrSeed, err := st.SystemUserSeed(ks)
	if err != nil {
		return nil, nil, fmt.Errorf("operator %q: the key %s of system user %q: %w", op.Name, usr.Subject, usr.Name, err)
	}
	creds, err := natsjwt.FormatCreds(st.SystemUserJWT, usrSeed)
	if err != nil {
		return nil, nil, err
	}
	sk, err := natsjwt.NewSigner(op.Subject, "", currentSeed, natsjwt.KindOperator)
	if err != nil {
		return nil, nil, err
	}

	spec := read.Spec
	m := &operatorModel{
		ID: types.StringValue(op.Subject), Name: types.StringValue(spec.Name), StrictSigningKeys: types.BoolValue(spec.StrictSigningKeys),
		AccountServerURL: stringOrNull(spec.AccountServerURL), OperatorServiceURLs: types.ListNull(types.StringType),
		Tags: setOrNull(spec.Tags), ExpiresAt: timetypes.NewRFC3339Null(),
		SystemAccountName: types.StringValue(sys.Name), SystemUserName: types.StringValue(usr.Name),
		SigningKeyRotation: types.MapNull(types.StringType), SigningKeyGracePeriod: types.StringValue(defaultSigningKeyGracePeriod),
		PublicKey: types.StringValue(op.Subject), Seed: types.StringValue(idSeed), JWT: types.StringValue(st.OperatorJWT),
		SigningKey: types.StringValue(current), SigningKeySeed: types.StringValue(currentSeed),
		SigningKeyCreatedAt: timetypes.NewRFC3339TimeValue(now.UTC().Truncate(time.Second)),
		PreviousSigningKey:  stringOrNull(previous), Signer: types.StringValue(natsjwt.EncodeSigner(sk)),
		SystemAccountPublicKey: types.StringValue(sys.Subject), SystemAccountSeed: types.StringValue(sysSeed),
		SystemAccountSigningKey: types.StringValue(sysSK),
		SystemAccountSigner:     types.StringValue(natsjwt.EncodeSigner(&natsjwt.Signer{Owner: sys.Subject, Seed: sysSKSeed})),
		SystemAccountJWT:        types.StringValue(st.SystemAccountJWT),
		SystemUserPublicKey:     types.StringValue(usr.Subject), SystemUserSeed: types.StringValue(usrSeed), SystemUserCreds: types.StringValue(creds),
	}
	if len(spec.OperatorServiceURLs) > 0 {
		m.OperatorServiceURLs = stringList(spec.OperatorServiceURLs)
	}
	if !spec.Expires.IsZero() {
		m.ExpiresAt = timetypes.NewRFC3339TimeValue(spec.Expires)
	}
	return m, warnings, nil
}

// operatorSigningKeys picks the key natsping signs accounts with: the one that signed the system
// account when its seed is at hand, else the first listed whose seed is. natsping keeps one
// signing key plus the previous one during a rotation, so a second listed key becomes previous.
func operatorSigningKeys(st *natsjwt.NSCOperatorStore, ks natsjwt.NSCKeystore) (current, seed, previous string, err error) {
	op := st.Operator
	keys := []string(op.SigningKeys)
	switch {
	case len(keys) == 0:
		return "", "", "", fmt.Errorf("operator %q has no signing key; natsping signs accounts with an operator signing key, so the "+
			"identity seed can stay offline. Add one with `nsc edit operator --sk generate` and import again", op.Name)
	case len(keys) > 2:
		return "", "", "", fmt.Errorf("operator %q lists %d signing keys (%s); natsping keeps one, and the previous one during a "+
			"rotation's grace period. Remove the keys no account needs with `nsc edit operator --rm-sk <key>` and import again",
			op.Name, len(keys), strings.Join(keys, ", "))
	}
	order := keys
	if slices.Contains(keys, st.SystemAccount.Issuer) {
		order = append([]string{st.SystemAccount.Issuer}, keys...)
	}
	var looked []string
	for _, k := range order {
		s, err := ks.Seed(k)
		if errors.Is(err, natsjwt.ErrSeedNotInKeystore) {
			looked = append(looked, ks.KeyPath(k))
			continue
		}
		if err != nil {
			return "", "", "", err
		}
		for _, other := range keys {
			if other != k {
				previous = other
			}
		}
		return k, s, previous, nil
	}
	return "", "", "", fmt.Errorf("operator %q: %w: no signing key's seed is in the keystore (looked at %s); point %s at the "+
		"keystore nsc uses (`nsc env` shows it)", op.Name, natsjwt.ErrSeedNotInKeystore, strings.Join(slices.Compact(looked), ", "), natsjwt.NSCKeystoreEnv)
}

// systemAccountSigningKey picks the system account's signing key: the one that signed the system
// user when its seed is at hand, else the first whose seed is. Servers with strict signing keys
// refuse system users signed by the account identity, so natsping always signs them with one.
func systemAccountSigningKey(st *natsjwt.NSCOperatorStore, ks natsjwt.NSCKeystore) (string, string, error) {
	sys := st.SystemAccount
	keys := sys.SigningKeys.Keys()
	sort.Strings(keys)
	if len(keys) == 0 {
		return "", "", fmt.Errorf("system account %q has no signing key; natsping signs system users with one, because operators "+
			"with strict signing keys refuse users signed by an account identity. Add one with `nsc edit account %s --sk generate` "+
			"and import again", sys.Name, sys.Name)
	}
	order := keys
	if slices.Contains(keys, st.SystemUser.Issuer) {
		order = append([]string{st.SystemUser.Issuer}, keys...)
	}
	var looked []string
	for _, k := range order {
		s, err := ks.Seed(k)
		if errors.Is(err, natsjwt.ErrSeedNotInKeystore) {
			looked = append(looked, ks.KeyPath(k))
			continue
		}
		return k, s, err
	}
	return "", "", fmt.Errorf("system account %q: %w: no signing key's seed is in the keystore (looked at %s); point %s at the "+
		"keystore nsc uses (`nsc env` shows it)", sys.Name, natsjwt.ErrSeedNotInKeystore, strings.Join(slices.Compact(looked), ", "), natsjwt.NSCKeystoreEnv)
}

// planSystemJWTs re-signs the system account JWT and the system user's creds when the planned
// operator would make servers refuse the ones in the state: nsc signs them with identity keys,
// which an operator that now requires signing keys no longer accepts. It also refuses renaming
// the system account of a freshly imported operator, which would replace every key.
func planSystemJWTs(ctx context.Context, req resource.ModifyPlanRequest, plan, state *operatorModel, diags *diag.Diagnostics) {
	pending := nscImportPending(ctx, req.Private)
	if pending && onlyKeepersDiffer(req) {
		plan.JWT = state.JWT // the keepers are recorded (see ModifyPlan); no claim changes
	}
	if pending && !plan.SystemAccountName.IsUnknown() && !plan.SystemAccountName.Equal(state.SystemAccountName) {
		diags.AddAttributeError(path.Root("system_account_name"), "System account name differs from the imported one",
			fmt.Sprintf("The imported system account is named %s, and changing system_account_name replaces the operator with all its "+
				"keys, which would leave every server and account trusting the old ones. Set system_account_name = %s.",
				state.SystemAccountName, state.SystemAccountName))
		return
	}
	resignRefusedSystemJWTs(plan)
}

// resignRefusedSystemJWTs marks the system account JWT and the system user's creds unknown (to
// be re-signed) when servers trusting the planned operator would refuse their issuer.
func resignRefusedSystemJWTs(plan *operatorModel) {
	strict := plan.StrictSigningKeys.IsUnknown() || plan.StrictSigningKeys.ValueBool()
	if !plan.SystemAccountJWT.IsUnknown() && !plan.SystemAccountJWT.IsNull() {
		c, err := jwt.DecodeAccountClaims(plan.SystemAccountJWT.ValueString())
		listed := c != nil && (c.Issuer == plan.SigningKey.ValueString() || c.Issuer == plan.PreviousSigningKey.ValueString())
		if err != nil || plan.SigningKey.IsUnknown() || (!listed && (strict || c.Issuer != plan.PublicKey.ValueString())) {
			plan.SystemAccountJWT = types.StringUnknown()
		}
	}
	if plan.SystemUserCreds.IsUnknown() || plan.SystemUserCreds.IsNull() {
		return
	}
	token, err := jwt.ParseDecoratedJWT([]byte(plan.SystemUserCreds.ValueString()))
	uc, decodeErr := jwt.DecodeUserClaims(token)
	if err != nil || decodeErr != nil {
		plan.SystemUserCreds = types.StringUnknown()
		return
	}
	// A re-signed system account lists only system_account_signing_key, so a user signed by any
	// other key would be refused, as would one signed by the identity under strict signing keys.
	identitySigned := uc.Issuer == plan.SystemAccountPublicKey.ValueString()
	if (plan.SystemAccountJWT.IsUnknown() && uc.Issuer != plan.SystemAccountSigningKey.ValueString()) || (identitySigned && strict) {
		plan.SystemUserCreds = types.StringUnknown()
	}
}

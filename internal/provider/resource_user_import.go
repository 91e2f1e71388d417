package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

var _ resource.ResourceWithImportState = (*userResource)(nil)

// ImportState adopts a user made elsewhere (nsc) by the path of its .creds file or of its JWT
// (the seed then comes from the nsc keystore): no secret is part of the ID. The JWT is kept.
func (r *userResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m, warnings, err := userFromNSC(ctx, req.ID, natsjwt.NSCDefaultKeystore(), natsjwt.NSCDefaultStores())
	if err != nil {
		resp.Diagnostics.AddError("Cannot import the user", err.Error())
		return
	}
	for _, w := range warnings {
		resp.Diagnostics.AddWarning("Imported user", w)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func userFromNSC(ctx context.Context, id string, ks natsjwt.NSCKeystore, stores string) (*userModel, []string, error) {
	if strings.TrimSpace(id) == "" {
		return nil, nil, errors.New("the import ID is empty; give the path of the user's .creds file or of its JWT in the nsc store")
	}
	var token, seed string
	var err error
	if strings.HasSuffix(id, ".creds") {
		if token, seed, err = natsjwt.ReadCreds(id); err != nil {
			return nil, nil, err
		}
	} else if token, err = natsjwt.ReadJWTFile(id); err != nil {
		return nil, nil, err
	}
	c, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a valid user JWT (%v); import users by the path of their .creds file or user JWT", id, err)
	}
	if seed == "" {
		if seed, err = ks.Seed(c.Subject); err != nil {
			return nil, nil, fmt.Errorf("user %q: %w; or import the user by the path of its .creds file", c.Name, err)
		}
	} else if kp, err := natsjwt.ParseSeed(seed, natsjwt.KindUser); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", id, err)
	} else if pub, _ := kp.PublicKey(); pub != c.Subject {
		return nil, nil, fmt.Errorf("%s holds the seed of %s but the JWT of %s; the creds file is damaged", id, pub, c.Subject)
	}
	read := natsjwt.UserSpecFromClaims(c)
	account := read.Spec.Account

	var warnings []string
	role := ""
	if accPath := natsjwt.NSCUserAccountJWT(id, stores); accPath != "" {
		accToken, err := natsjwt.ReadJWTFile(accPath)
		if err != nil {
			return nil, nil, err
		}
		ac, err := jwt.DecodeAccountClaims(accToken)
		if err != nil {
			return nil, nil, fmt.Errorf("%s is not a valid account JWT: %v", accPath, err)
		}
		if ac.Subject != account || !ac.DidSign(c) {
			return nil, nil, fmt.Errorf("user %q was signed by %s, which account %q (%s) of the store does not list as its key", c.Name, c.Issuer, ac.Name, ac.Subject)
		}
		role = natsjwt.RoleOfKey(ac, c.Issuer)
	} else if read.Scoped && c.Issuer != account {
		warnings = append(warnings, fmt.Sprintf("User %q carries no permissions of its own, as users of a role do, but no account JWT "+
			"was found beside it, so its role is not known: if its signer is a role signer, the first plan re-signs it. Import it "+
			"by the path of its JWT in the nsc store to keep its JWT.", c.Name))
	}

	m := &userModel{}
	m.Name, m.Account = types.StringValue(c.Name), types.StringValue(account)
	m.Issuer, m.IssuerAccount, m.Role = types.StringValue(c.Issuer), stringOrNull(c.IssuerAccount), stringOrNull(role)
	m.ID, m.PublicKey, m.Seed, m.JWT = types.StringValue(c.Subject), types.StringValue(c.Subject), types.StringValue(seed), types.StringValue(token)
	creds, err := natsjwt.FormatCreds(token, seed)
	if err != nil {
		return nil, nil, err
	}
	m.Creds = types.StringValue(creds)
	m.Tags = setOrNull(read.Spec.Tags)
	m.ExpiresAt = timetypes.NewRFC3339Null()
	if !read.Spec.Expires.IsZero() {
		m.ExpiresAt = timetypes.NewRFC3339TimeValue(read.Spec.Expires)
	}
	permType := userResourceSchema().Attributes["permissions"].GetType().(basetypes.ObjectType).AttrTypes
	m.Permissions = types.ObjectNull(permType)
	if p := permissionsToModel(read.Spec.Permissions); p != nil {
		var diags diag.Diagnostics
		m.Permissions, diags = types.ObjectValueFrom(ctx, permType, p)
		if diags.HasError() {
			return nil, nil, fmt.Errorf("user %q: %v", c.Name, diags.Errors())
		}
	}
	m.userLimitsModel = limitsToModel(read.Spec.Limits)

	// The signer as the account resource hands it out: its identity seed, its signer output for
	// an unscoped signing key, a role signer for a role key. Without the seed the first plan
	// sets signer and, when it is the same key, keeps the JWT.
	m.Signer = types.StringNull()
	if s, err := ks.Seed(c.Issuer); err == nil {
		value := s
		if c.Issuer != account {
			signer, err := natsjwt.NewSigner(account, role, s, natsjwt.KindAccount)
			if err != nil {
				return nil, nil, err
			}
			value = natsjwt.EncodeSigner(signer)
		}
		m.Signer = types.StringValue(value)
	}
	return m, warnings, nil
}

// keepUserJWTIfOnlySignerForm keeps the JWT and creds when the plan differs from the state only
// in signer and the signer resolves to the same issuer, account and role: an imported user
// whose signer is passed in another form than the import found, or was not found at all.
func keepUserJWTIfOnlySignerForm(ctx context.Context, req resource.ModifyPlanRequest, plan *userModel) {
	var state userModel
	if d := req.State.Get(ctx, &state); d.HasError() || state.JWT.IsNull() {
		return
	}
	if !plan.Issuer.Equal(state.Issuer) || !plan.IssuerAccount.Equal(state.IssuerAccount) || !plan.Role.Equal(state.Role) || !plan.Account.Equal(state.Account) {
		return
	}
	var planned, prior map[string]tftypes.Value
	if req.Plan.Raw.As(&planned) != nil || req.State.Raw.As(&prior) != nil {
		return
	}
	for name, a := range req.Plan.Schema.GetAttributes() {
		if name == "signer" || (a.IsComputed() && !a.IsOptional()) {
			continue
		}
		if name == "account" {
			continue // compared resolved, above
		}
		if !planned[name].Equal(prior[name]) {
			return
		}
	}
	plan.JWT, plan.Creds = state.JWT, state.Creds
}

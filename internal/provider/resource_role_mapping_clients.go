package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/pingone"
)

// resolvedClient is one entry of resolved_clients: the configured value, the client id tokens
// carry for it and, with PingOne, the application's name. Empty strings are nulls.
type resolvedClient struct {
	Value, ID, Name string
}

var resolvedClientAttrTypes = map[string]attr.Type{
	"value": types.StringType,
	"id":    types.StringType,
	"name":  types.StringType,
}

// clientLookup is the slice of the PingOne client that client id resolution needs.
type clientLookup interface {
	GetApplication(ctx context.Context, id string) (*pingone.Application, error)
	ResolveClientID(ctx context.Context, value string) (*pingone.Application, error)
}

// resolveClients turns configured client ids into what tokens carry. Offline a value is used
// as given; with PingOne each one is looked up (see resolveClientsWithPingOne).
func (r *roleMappingResource) resolveClients(ctx context.Context, values []string, prior []resolvedClient, diags *diag.Diagnostics) []resolvedClient {
	if r.data == nil || r.data.PingOne == nil {
		out := make([]resolvedClient, 0, len(values))
		for _, v := range values {
			out = append(out, resolvedClient{Value: v, ID: v})
		}
		return out
	}
	return lookUpInPingOne(r.data.PingOne, "client_ids", "application", diags, func(client *pingone.Client) ([]resolvedClient, []groupWarning, []error) {
		return resolveClientsWithPingOne(ctx, client, values, prior)
	})
}

// resolveClientsWithPingOne is the decision table of client id drift, like groups':
//   - an entry resolved before is read by its id: found → follow it (a rename warns);
//     gone (404) → keep only the old id, which no token can carry any more, and warn;
//   - a new entry is resolved by id or application name; not found is an error, since the
//     mapping would never match; a name warns that the configuration should say the id;
//   - an application PingOne gives no OAuth tokens (SAML, WS-Fed) is an error; a disabled
//     one warns, because it admits nobody until it is enabled.
//
// Other errors (network, credentials, rate limits) are errors: the plan must not guess.
func resolveClientsWithPingOne(ctx context.Context, client clientLookup, values []string, prior []resolvedClient) (out []resolvedClient, warnings []groupWarning, errs []error) {
	before := map[string]resolvedClient{}
	for _, c := range prior {
		before[c.Value] = c
	}
	for _, v := range values {
		prev, seen := before[v]
		var app *pingone.Application
		var err error
		if seen && prev.ID != "" {
			app, err = client.GetApplication(ctx, prev.ID)
		} else {
			app, err = client.ResolveClientID(ctx, v)
		}
		switch {
		case err == nil && !app.IsOIDC():
			errs = append(errs, fmt.Errorf("client_ids entry %q is PingOne application %q (%s), which is not an "+
				"OpenID Connect application: PingOne issues it no OAuth tokens, so no token can carry its client id", v, app.Name, app.ID))
			continue
		case err == nil:
			now := resolvedClient{Value: v, ID: app.ID, Name: app.Name}
			out = append(out, now)
			if !app.Enabled {
				warnings = append(warnings, groupWarning{summary: "Mapped PingOne application is disabled",
					detail: fmt.Sprintf("PingOne application %q (%s) is disabled: PingOne issues it no tokens, so the "+
						"mapping admits no one through it until it is enabled.", app.Name, app.ID)})
			}
			switch {
			case seen && prev.Name != "" && prev.Name != now.Name:
				warnings = append(warnings, groupWarning{summary: "Mapped PingOne application was renamed",
					detail: fmt.Sprintf("The application for client_ids entry %q was renamed in PingOne: was %q, now %q "+
						"(id %s). Its client id is unchanged, so the mapping still matches its tokens.", v, prev.Name, now.Name, now.ID)})
			case !seen && app.ID != v:
				warnings = append(warnings, groupWarning{summary: "Client id given by application name",
					detail: fmt.Sprintf("client_ids entry %q is the name of PingOne application %s; tokens carry the id. "+
						"Write %q in client_ids so the configuration says what is matched.", v, app.ID, app.ID)})
			}
		case errors.Is(err, pingone.ErrNotFound) && seen && prev.ID != "":
			out = append(out, resolvedClient{Value: v, ID: prev.ID})
			warnings = append(warnings, groupWarning{summary: "Mapped PingOne application was deleted",
				detail: fmt.Sprintf("The application for client_ids entry %q (was %q, id %s) no longer exists in PingOne; "+
					"this plan keeps only the old id, which no token can carry: nobody gets the role through it. Remove "+
					"the entry or map another application.", v, prev.Name, prev.ID)})
		case seen && prev.ID != "" && pingone.IsUnavailable(err):
			out = append(out, prev)
			warnings = append(warnings, groupWarning{summary: "PingOne unreachable: application not re-checked",
				detail: fmt.Sprintf("client_ids entry %q could not be checked (%v). The plan keeps the application as "+
					"last applied (id %s); a deletion in PingOne will show once PingOne answers.", v, err, prev.ID)})
		default:
			errs = append(errs, fmt.Errorf("client_ids entry %q: %w. Create the application in PingOne or correct the "+
				"entry; a mapping to a client that does not exist would never match", v, err))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out, warnings, errs
}

func resolvedClientsFrom(list types.List) []resolvedClient {
	var out []resolvedClient
	for _, a := range objectStrings(list) {
		out = append(out, resolvedClient{Value: a["value"], ID: a["id"], Name: a["name"]})
	}
	return out
}

func resolvedClientsValue(cs []resolvedClient) types.List {
	elems := make([]attr.Value, 0, len(cs))
	for _, c := range cs {
		elems = append(elems, types.ObjectValueMust(resolvedClientAttrTypes, map[string]attr.Value{
			"value": types.StringValue(c.Value),
			"id":    stringOrNull(c.ID),
			"name":  stringOrNull(c.Name),
		}))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: resolvedClientAttrTypes}, elems)
}

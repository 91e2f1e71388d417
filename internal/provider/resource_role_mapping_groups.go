package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/pingone"
)

// resolvedGroup is one entry of resolved_groups: the configured value and what the callout
// matches in tokens for it. Empty strings are nulls.
type resolvedGroup struct {
	Value, Name, ID string
}

// groupLookup is the slice of the PingOne client that resolution needs.
type groupLookup interface {
	GetGroup(ctx context.Context, id string) (*pingone.Group, error)
	FindGroupByName(ctx context.Context, name string) (*pingone.Group, error)
}

// resolveGroups turns configured group values into what tokens carry. Offline (no PingOne
// connection) a value is used as given. With PingOne each value is looked up; prior is the
// resolution in state, used to recognise a renamed or deleted group and to say what changed.
func (r *roleMappingResource) resolveGroups(ctx context.Context, values []string, prior []resolvedGroup, diags *diag.Diagnostics) []resolvedGroup {
	if r.data == nil || r.data.PingOne == nil {
		out := make([]resolvedGroup, 0, len(values))
		for _, v := range values {
			if pingone.IsID(v) {
				out = append(out, resolvedGroup{Value: v, ID: v})
			} else {
				out = append(out, resolvedGroup{Value: v, Name: v})
			}
		}
		return out
	}
	return lookUpInPingOne(r.data.PingOne, "groups", "group", diags, func(client *pingone.Client) ([]resolvedGroup, []groupWarning, []error) {
		return resolveWithPingOne(ctx, client, values, prior)
	})
}

// lookUpInPingOne runs one PingOne resolution for the attribute attr and reports its warnings
// and errors there; kind names what was looked up ("group", "application") in the summaries.
func lookUpInPingOne[T any](settings *PingOneSettings, attr, kind string, diags *diag.Diagnostics,
	resolve func(*pingone.Client) ([]T, []groupWarning, []error)) []T {
	client, err := newPingOneClient(settings)
	if err != nil {
		diags.AddAttributeError(path.Root(attr), fmt.Sprintf("Cannot check %s in PingOne", attr), err.Error())
		return nil
	}
	out, warnings, errs := resolve(client)
	for _, w := range warnings {
		diags.AddAttributeWarning(path.Root(attr), w.summary, w.detail)
	}
	for _, e := range errs {
		diags.AddAttributeError(path.Root(attr), "PingOne "+kind+" not found", e.Error())
	}
	return out
}

type groupWarning struct{ summary, detail string }

// resolveWithPingOne is the decision table of group drift:
//   - found as configured, same as before: nothing to say;
//   - an id whose group now has another name, or a name found via its previous id (renamed):
//     follow the group (its id is its identity) and warn, so the plan shows the new name;
//   - a name that now belongs to a different id (deleted and re-created): follow the name, warn;
//   - gone (404): keep only the old id, which no token can carry, so the mapping fails closed; warn;
//   - never resolved before and not found: an error, because the mapping would never match.
//
// Errors other than "not found" (network, credentials, rate limits) are errors too: the plan
// must not go ahead on a guess.
func resolveWithPingOne(ctx context.Context, client groupLookup, values []string, prior []resolvedGroup) (out []resolvedGroup, warnings []groupWarning, errs []error) {
	before := map[string]resolvedGroup{}
	for _, g := range prior {
		before[g.Value] = g
	}
	for _, v := range values {
		prev, seen := before[v]
		var g *pingone.Group
		var err error
		byID := pingone.IsID(v)
		if byID {
			g, err = client.GetGroup(ctx, v)
		} else {
			g, err = client.FindGroupByName(ctx, v)
			if errors.Is(err, pingone.ErrNotFound) && seen && prev.ID != "" {
				// The name is gone; the group it meant may still exist under another name.
				g, err = client.GetGroup(ctx, prev.ID)
			}
		}
		switch {
		case err == nil:
			now := resolvedGroup{Value: v, Name: g.Name, ID: g.ID}
			out = append(out, now)
			if seen && (prev.Name != now.Name || prev.ID != now.ID) {
				warnings = append(warnings, driftWarning(v, prev, now))
			} else if !byID && g.Name != v {
				warnings = append(warnings, groupWarning{
					summary: "Mapped PingOne group was renamed",
					detail: fmt.Sprintf("groups lists %q, but that group (id %s) is now named %q in PingOne. The mapping "+
						"follows the group; write %q or the id %s in groups to make the configuration say so.",
						v, g.ID, g.Name, g.Name, g.ID),
				})
			}
		case errors.Is(err, pingone.ErrNotFound) && seen && prev.ID != "":
			gone := resolvedGroup{Value: v, ID: prev.ID}
			out = append(out, gone)
			if prev != gone {
				warnings = append(warnings, driftWarning(v, prev, gone))
			} else {
				warnings = append(warnings, groupWarning{
					summary: "Mapped PingOne group no longer exists",
					detail: fmt.Sprintf("The group %q (id %s) was deleted in PingOne; the mapping still lists it but can no "+
						"longer match anyone through it. Remove it from groups or map another group.", v, prev.ID),
				})
			}
		case seen && pingone.IsUnavailable(err):
			// An outage at PingOne must not block every plan: keep what was reviewed, which
			// grants nothing new, and say so. A new entry still fails below.
			out = append(out, prev)
			warnings = append(warnings, groupWarning{summary: "PingOne unreachable: group not re-checked",
				detail: fmt.Sprintf("groups entry %q could not be checked (%v). The plan keeps the group as last applied "+
					"(name %q, id %s); a rename or deletion in PingOne will show once PingOne answers.", v, err, prev.Name, prev.ID)})
		default:
			errs = append(errs, fmt.Errorf("groups entry %q: %w. Create the group in PingOne or correct the entry; "+
				"a mapping to a group that does not exist would never match", v, err))
		}
	}
	sortResolvedGroups(out)
	return out, warnings, errs
}

func driftWarning(value string, was, now resolvedGroup) groupWarning {
	describe := func(g resolvedGroup) string {
		if g.Name == "" {
			return fmt.Sprintf("deleted (id %s)", g.ID)
		}
		return fmt.Sprintf("name %q, id %s", g.Name, g.ID)
	}
	switch {
	case now.Name == "":
		return groupWarning{
			summary: "Mapped PingOne group was deleted",
			detail: fmt.Sprintf("The group for groups entry %q (was %s) no longer exists in PingOne. This plan updates "+
				"the mapping to match only the old id %s, which no token can carry: nobody gets the role through it. "+
				"Remove the entry or map another group.", value, describe(was), was.ID),
		}
	case was.ID != now.ID:
		return groupWarning{
			summary: "Mapped PingOne group was replaced",
			detail: fmt.Sprintf("groups entry %q now resolves to a different PingOne group: was %s, now %s. The old "+
				"group was deleted or renamed and another one has this name. This plan updates the mapping to the new "+
				"group; check that its members should get the role.", value, describe(was), describe(now)),
		}
	default:
		return groupWarning{
			summary: "Mapped PingOne group was renamed",
			detail: fmt.Sprintf("The group for groups entry %q was renamed in PingOne: was %s, now %s. This plan "+
				"updates the mapping to match the new name; write %q in groups (or its id) to make the configuration "+
				"say so.", value, describe(was), describe(now), now.Name),
		}
	}
}

func sortResolvedGroups(gs []resolvedGroup) {
	sort.Slice(gs, func(i, j int) bool { return gs[i].Value < gs[j].Value })
}

func resolvedGroupsFrom(list types.List) []resolvedGroup {
	var out []resolvedGroup
	for _, a := range objectStrings(list) {
		out = append(out, resolvedGroup{Value: a["value"], Name: a["name"], ID: a["id"]})
	}
	return out
}

func resolvedGroupsValue(gs []resolvedGroup) types.List {
	elemType := types.ObjectType{AttrTypes: resolvedGroupAttrTypes}
	elems := make([]attr.Value, 0, len(gs))
	for _, g := range gs {
		elems = append(elems, types.ObjectValueMust(resolvedGroupAttrTypes, map[string]attr.Value{
			"value": types.StringValue(g.Value),
			"name":  stringOrNull(g.Name),
			"id":    stringOrNull(g.ID),
		}))
	}
	return types.ListValueMust(elemType, elems)
}

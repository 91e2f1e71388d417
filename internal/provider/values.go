package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The provider's helpers between Terraform values and Go strings. There are two ways to read a
// collection because plan and apply need different things: while planning a value may still
// be unknown and the caller must be told (knownStrings, sortedKnownStrings), while applying
// every value is known and a conversion problem is a diagnostic (stringElements, stringMap).

// stringCollection is a set or a list of strings.
type stringCollection interface {
	attr.Value
	Elements() []attr.Value
	ElementsAs(ctx context.Context, target any, allowUnhandled bool) diag.Diagnostics
}

// knownStrings reads a set or list of strings in its own order while planning. known is
// false, and out nil, while the collection or an element is unknown; null reads as no strings.
func knownStrings(c stringCollection) (out []string, known bool) {
	if c.IsNull() || c.IsUnknown() {
		return nil, !c.IsUnknown()
	}
	out = make([]string, 0, len(c.Elements()))
	for _, e := range c.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsUnknown() {
			return nil, false
		}
		out = append(out, s.ValueString())
	}
	return out, true
}

// sortedKnownStrings is knownStrings for a set whose strings are rendered into output that must
// not depend on element order; a null element is reported in diags.
func sortedKnownStrings(ctx context.Context, set types.Set, diags *diag.Diagnostics) (out []string, known bool) {
	if _, known := knownStrings(set); !known {
		return nil, false
	}
	out = stringElements(ctx, set, diags)
	sort.Strings(out)
	return out, true
}

// stringElements reads a set or list of strings whose elements are known (at apply, or after a
// plan-time check); null and unknown read as no strings, a null element is reported in diags.
func stringElements(ctx context.Context, c stringCollection, diags *diag.Diagnostics) []string {
	if c.IsNull() || c.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(c.ElementsAs(ctx, &out, false)...)
	return out
}

// stringMap reads a map of strings like stringElements; null and unknown read as an empty map.
func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out
	}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

// valueFullyKnown reports whether v and everything nested in it are known.
func valueFullyKnown(ctx context.Context, v attr.Value) bool {
	tv, err := v.ToTerraformValue(ctx)
	return err == nil && tv.IsFullyKnown()
}

// stringOrNull maps "" to null, the way optional values appear in state.
func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func stringList(values []string) types.List {
	return types.ListValueMust(types.StringType, stringValues(values))
}

func stringSet(values []string) types.Set {
	return types.SetValueMust(types.StringType, stringValues(values))
}

func stringValues(values []string) []attr.Value {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return elems
}

// quoteAll quotes each string, for messages that list values.
func quoteAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// objectStrings reads a list of objects whose attributes are strings, one map per element
// (nulls read as ""), so list-of-object computed attributes share one decoder.
func objectStrings(list types.List) []map[string]string {
	if list.IsNull() || list.IsUnknown() {
		return nil
	}
	out := make([]map[string]string, 0, len(list.Elements()))
	for _, e := range list.Elements() {
		obj, ok := e.(types.Object)
		if !ok {
			continue
		}
		m := map[string]string{}
		for k, v := range obj.Attributes() {
			if s, ok := v.(types.String); ok {
				m[k] = s.ValueString()
			}
		}
		out = append(out, m)
	}
	return out
}

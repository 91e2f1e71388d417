package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// withNestedTypes gives every nested attribute its value type up front, as CustomType, so
// the framework stops rebuilding it. Without one, a nested attribute's GetType builds the
// object type of everything under it, maps and all, on every call; and the framework calls
// it for every value it visits, on every prefix of the value's path, several times per
// request (decoding, defaults, plan modification, encoding). The types set here are the
// very types the framework would build (types.ObjectType / ListType / MapType / SetType of
// the same attributes), so values, state and the protocol schema are unchanged.
func withNestedTypes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	for name, a := range attrs {
		switch a := a.(type) {
		case schema.SingleNestedAttribute:
			a.Attributes = withNestedTypes(a.Attributes)
			if a.CustomType == nil {
				a.CustomType = objectTypeOf(a.Attributes)
			}
			attrs[name] = a
		case schema.ListNestedAttribute:
			a.NestedObject = withNestedObjectType(a.NestedObject)
			if a.CustomType == nil {
				a.CustomType = types.ListType{ElemType: a.NestedObject.Type()}
			}
			attrs[name] = a
		case schema.MapNestedAttribute:
			a.NestedObject = withNestedObjectType(a.NestedObject)
			if a.CustomType == nil {
				a.CustomType = types.MapType{ElemType: a.NestedObject.Type()}
			}
			attrs[name] = a
		case schema.SetNestedAttribute:
			a.NestedObject = withNestedObjectType(a.NestedObject)
			if a.CustomType == nil {
				a.CustomType = types.SetType{ElemType: a.NestedObject.Type()}
			}
			attrs[name] = a
		}
	}
	return attrs
}

func withNestedObjectType(o schema.NestedAttributeObject) schema.NestedAttributeObject {
	o.Attributes = withNestedTypes(o.Attributes)
	if o.CustomType == nil {
		o.CustomType = objectTypeOf(o.Attributes)
	}
	return o
}

func objectTypeOf(attrs map[string]schema.Attribute) types.ObjectType {
	t := types.ObjectType{AttrTypes: make(map[string]attr.Type, len(attrs))}
	for name, a := range attrs {
		t.AttrTypes[name] = a.GetType()
	}
	return t
}

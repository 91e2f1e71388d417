package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// withNestedTypes must not change a schema's type: states written before it must decode
// exactly as they did, and plans must carry the same types.
func TestWithNestedTypesKeepsTheSchemaType(t *testing.T) {
	ctx := context.Background()
	plain := accountResourceSchema()
	var served resource.SchemaResponse
	NewAccountResource().Schema(ctx, resource.SchemaRequest{}, &served)
	if !served.Schema.Type().Equal(plain.Type()) {
		t.Fatalf("natsping_account's type changed:\n%v\nwas\n%v", served.Schema.Type(), plain.Type())
	}
	if !served.Schema.Type().TerraformType(ctx).Equal(plain.Type().TerraformType(ctx)) {
		t.Fatal("natsping_account's Terraform type changed")
	}
	for name, a := range served.Schema.Attributes {
		if !a.GetType().Equal(plain.Attributes[name].GetType()) {
			t.Errorf("%s: type %v, was %v", name, a.GetType(), plain.Attributes[name].GetType())
		}
	}
	if diags := served.Schema.ValidateImplementation(ctx); diags.HasError() {
		t.Fatalf("schema with nested types is invalid: %v", diags)
	}
}

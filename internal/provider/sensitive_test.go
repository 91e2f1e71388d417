package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// secretAttribute names attributes that hold key material or credentials. Whatever resource
// adds one later, it must be Sensitive so it never appears in plan output.
var secretAttribute = regexp.MustCompile(`(^|_)(seed|creds|signers?|secret|callout_config|rule)$`)

func TestSecretsAreSensitive(t *testing.T) {
	t.Parallel()
	server := providerserver.NewProtocol6(New("test")())()
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	var walk func(owner, prefix string, block *tfprotov6.SchemaBlock)
	walkAttrs := func(owner, prefix string, attrs []*tfprotov6.SchemaAttribute) {
		for _, a := range attrs {
			name := prefix + a.Name
			if secretAttribute.MatchString(a.Name) {
				checked++
				if !a.Sensitive {
					t.Errorf("%s: attribute %s holds secrets but is not Sensitive", owner, name)
				}
			}
			if a.NestedType != nil {
				for _, nested := range a.NestedType.Attributes {
					if secretAttribute.MatchString(nested.Name) && !nested.Sensitive && !a.Sensitive {
						t.Errorf("%s: attribute %s.%s holds secrets but is not Sensitive", owner, name, nested.Name)
					}
				}
			}
		}
	}
	walk = func(owner, prefix string, block *tfprotov6.SchemaBlock) {
		if block == nil {
			return
		}
		walkAttrs(owner, prefix, block.Attributes)
		for _, nb := range block.BlockTypes {
			walk(owner, prefix+nb.TypeName+".", nb.Block)
		}
	}
	walk("provider", "", resp.Provider.Block)
	for name, s := range resp.ResourceSchemas {
		walk(name, "", s.Block)
	}
	for name, s := range resp.DataSourceSchemas {
		walk("data."+name, "", s.Block)
	}
	for name, s := range resp.EphemeralResourceSchemas {
		walk("ephemeral."+name, "", s.Block)
	}
	if checked < 15 {
		t.Fatalf("only %d secret attributes found; the name pattern no longer matches the schemas", checked)
	}
}

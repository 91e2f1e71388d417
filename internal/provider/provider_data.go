package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// providerDataFrom unpacks what Configure handed over. It returns nil without error while
// the provider is not yet configured (Terraform validates some configs before Configure).
func providerDataFrom(raw any, diags *diag.Diagnostics) *ProviderData {
	if raw == nil {
		return nil
	}
	data, ok := raw.(*ProviderData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *provider.ProviderData, got %T. This is always a bug in the provider.", raw))
		return nil
	}
	return data
}

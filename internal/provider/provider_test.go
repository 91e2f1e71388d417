package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"

	"github.com/natsping/terraform-provider-natsping/internal/acctest"
)

// testAccProtoV6ProviderFactories starts the provider in-process for every test step.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"natsping": func() (tfprotov6.ProviderServer, error) { return NewProviderServer("test")(), nil },
}

// testAccProtoV6ProviderFactoriesWithEcho adds the echo provider, which is how ephemeral
// values are made observable in a test without ever writing them to state.
var testAccProtoV6ProviderFactoriesWithEcho = map[string]func() (tfprotov6.ProviderServer, error){
	"natsping": providerserver.NewProtocol6WithError(New("test")()),
	"echo":     echoprovider.NewProviderServer(),
}

// TestMain fails the whole package before any test runs when make test (NATSPING_REQUIRE_ACC)
// finds no CLI: the framework's own TF_ACC skip happens before testAccPreCheck could object.
func TestMain(m *testing.M) { acctest.Main(m) }

// testAccPreCheck skips a test that runs the CLI, saying what to set, when TF_ACC or a CLI is
// missing, so `go test ./...` on a fresh clone runs the unit tests and passes; under `make
// test` the same condition fails instead.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	acctest.PreCheck(t)
}

package main

import (
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/natsping/terraform-provider-natsping/internal/provider"
)

// version is set by the release build (goreleaser ldflags).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	provider.TuneGC()
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	// What providerserver.Serve does for protocol 6, with the framework's server wrapped in
	// provider.NewProviderServer's fast paths.
	err := tf6server.Serve("registry.terraform.io/natsping/natsping", provider.NewProviderServer(version), opts...)
	if err != nil {
		log.Fatal(err)
	}
}

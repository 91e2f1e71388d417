package provider

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/cabundle"
	"github.com/natsping/terraform-provider-natsping/internal/pingone"
)

// pingOneCABundleEnv names a PEM file of extra certificate authorities trusted for the PingOne
// endpoints, on top of the system roots: for private endpoints behind a corporate CA or a
// TLS-inspecting proxy, and for the acceptance tests' local PingOne fixture.
const pingOneCABundleEnv = "PINGONE_CA_BUNDLE_FILE"

// pingOneNotConfigured is the diagnostic detail for features that need PingOne when the
// provider has no PingOne connection.
func pingOneNotConfigured(feature string) string {
	return feature + " reads from the PingOne Management API, but the provider has no PingOne connection. " +
		"Configure the provider's `pingone` block (environment_id, client_id, client_secret and, outside North " +
		"America, region_code) or set PINGONE_ENVIRONMENT_ID, PINGONE_CLIENT_ID, PINGONE_CLIENT_SECRET and " +
		"PINGONE_REGION_CODE. The client must be a worker application with a role that can read groups."
}

// pingOneClients shares one client, and so one cached access token, between all resources and
// data sources of a run that use the same settings; otherwise every read would fetch a token.
var pingOneClients sync.Map // pingOneClientKey -> *pingone.Client

type pingOneClientKey struct {
	settings PingOneSettings
	caFile   string
}

// newPingOneClient builds the Management API client for settings. Its errors name the setting
// at fault and are meant as the detail of a diagnostic.
func newPingOneClient(settings *PingOneSettings) (*pingone.Client, error) {
	if settings == nil {
		return nil, errors.New(pingOneNotConfigured("This configuration"))
	}
	key := pingOneClientKey{settings: *settings, caFile: os.Getenv(pingOneCABundleEnv)}
	if c, ok := pingOneClients.Load(key); ok {
		return c.(*pingone.Client), nil
	}
	hc, err := pingOneHTTPClient(key.caFile)
	if err != nil {
		return nil, err
	}
	c, err := pingone.New(pingone.Config{
		Region:        settings.Region,
		EnvironmentID: settings.EnvironmentID,
		ClientID:      settings.ClientID,
		ClientSecret:  settings.ClientSecret,
		AuthHostname:  settings.AuthHostname,
		APIHostname:   settings.APIHostname,
		HTTPClient:    hc,
	})
	if err != nil {
		return nil, fmt.Errorf("invalid PingOne settings in the provider's `pingone` block or PINGONE_* environment "+
			"variables: %w", err)
	}
	actual, _ := pingOneClients.LoadOrStore(key, c)
	return actual.(*pingone.Client), nil
}

// pingOneHTTPClient returns an HTTP client that trusts the system roots plus the certificates in
// caFile, when set.
func pingOneHTTPClient(caFile string) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pemBytes, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot read the CA bundle: %w", pingOneCABundleEnv, err)
		}
		pool, err := cabundle.ExtendSystem(string(pemBytes))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", pingOneCABundleEnv, caFile, err)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}

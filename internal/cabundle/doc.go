// Package cabundle is the one parser of PEM CA bundles (the trust's and the resolver's
// ca_bundle_pem, the PingOne API's CA file). Every user parses with Parse, so a bundle the
// provider accepts at plan time is exactly what the callout and the resolver push trust.
// Which pool a bundle goes into differs by design and is explained on ExtendSystem and Only.
package cabundle

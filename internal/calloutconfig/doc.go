// Package calloutconfig is the versioned document that the natsping_trust resource renders
// and the natsping-callout service runs on. One Go type has both users, so the provider can
// never emit a document the service does not understand, and one set of rules (rules.go,
// applied by Validate) has both users, so the service refuses any document the provider
// would have refused at plan time.
package calloutconfig

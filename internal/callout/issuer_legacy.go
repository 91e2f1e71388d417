package callout

import (
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// newIssuerRuntime is how service.go builds an issuer runtime until it holds a jwksKeys: the
// key set is taken over from prev when the key source is unchanged, and service.go's release
// stops the one it replaces. This file goes when service.go switches to jwksKeys, which then
// decides alone when a key set lives.
func newIssuerRuntime(iss calloutconfig.Issuer, now func() time.Time, cacheSize int, prev *issuerRuntime) (*issuerRuntime, error) {
	source, err := keySourceKey(iss)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.keys != nil && prev.keySource == source {
		v, err := newIssuerVerifier(iss, prev.keys, now, cacheSize)
		if err != nil {
			return nil, err
		}
		return &issuerRuntime{keySource: source, verifier: v, keys: prev.keys, stop: prev.stop}, nil
	}
	ks, err := newKeySource(iss, now)
	if err != nil {
		return nil, err
	}
	v, err := newIssuerVerifier(iss, ks.keys, now, cacheSize)
	if err != nil {
		return nil, err
	}
	ks.start()
	return &issuerRuntime{keySource: source, verifier: v, keys: ks.remote, stop: ks.close}, nil
}

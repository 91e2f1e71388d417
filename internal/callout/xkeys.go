package callout

import (
	"errors"
	"fmt"
)

// xkeyRing is the callout's xkeys while the callout account's xkey rotates: the current key
// first, then the successor prepared one apply ahead and the previous key in its grace
// (calloutconfig NATS.XKeySeeds). The server seals each request to whichever key the account
// JWT it holds names, so the callout opens with each key in turn and seals the reply with the
// key that opened the request: the server opens replies with the key it sealed to. Deploying
// the account JWT before or after the callout document then never breaks a connect.
type xkeyRing struct {
	boxes []*xkeyBox
}

func newXKeyRing(current string, extra []string) (*xkeyRing, error) {
	r := &xkeyRing{}
	for i, seed := range append([]string{current}, extra...) {
		b, err := newXKeyBox(seed)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("nats.xkey_seed: %w", err)
			}
			return nil, fmt.Errorf("nats.xkey_seeds[%d]: %w", i-1, err)
		}
		r.boxes = append(r.boxes, b)
	}
	return r, nil
}

// open returns the plain request and the key that opened it. A shared key is cached per
// server, so a request sealed to the second key costs one failed authentication check more.
func (r *xkeyRing) open(sealed []byte, sender string) ([]byte, *xkeyBox, error) {
	var last error
	for _, b := range r.boxes {
		out, err := b.open(sealed, sender)
		if err == nil {
			return out, b, nil
		}
		if !errors.Is(err, errXKeyOpen) {
			return nil, nil, err // framing or a bad server key: no other key can do better
		}
		last = err
	}
	if len(r.boxes) > 1 {
		return nil, nil, fmt.Errorf("sealed request could not be decrypted with any of the %d configured xkeys", len(r.boxes))
	}
	return nil, nil, last
}

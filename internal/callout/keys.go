package callout

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/nacl/box"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// signingKey is an nkeys.KeyPair whose public key and expanded ed25519 private key are
// computed once. nkeys derives both from the seed on every PublicKey and Sign call, and
// jwt's encoder calls PublicKey twice per token, so a plain key pair pays three scalar
// multiplications per signed JWT; this one pays none. Signatures are byte-identical.
type signingKey struct {
	nkeys.KeyPair
	pub  string
	priv ed25519.PrivateKey
}

func newSigningKey(seed string, kind natsjwt.KeyKind) (*signingKey, error) {
	kp, err := natsjwt.ParseSeed(seed, kind)
	if err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, err
	}
	_, raw, err := nkeys.DecodeSeed([]byte(seed))
	if err != nil {
		return nil, err
	}
	return &signingKey{KeyPair: kp, pub: pub, priv: ed25519.NewKeyFromSeed(raw)}, nil
}

func (k *signingKey) PublicKey() (string, error) { return k.pub, nil }

func (k *signingKey) Sign(input []byte) ([]byte, error) { return ed25519.Sign(k.priv, input), nil }

// xkeyVersion and the nonce length are nkeys' sealed-box framing ("xkv1" || nonce || box),
// which nats-server speaks; tests check interoperability with nkeys' own Seal and Open.
const (
	xkeyVersion  = nkeys.XKeyVersionV1
	xkeyNonceLen = 24
	xkeyMaxPeers = 1024
)

var (
	errXKeyFraming = errors.New("sealed request is not in xkv1 framing")
	errXKeyOpen    = errors.New("sealed request could not be decrypted with the configured xkey")
)

// xkeyBox seals and opens messages exchanged with servers. nkeys runs a full curve25519
// scalar multiplication on every Seal and Open; the shared key only depends on the two key
// pairs, and a deployment has a handful of servers, so it is computed once per server xkey
// and reused (nacl/box's precomputation API exists for exactly this).
type xkeyBox struct {
	pub  string
	priv [32]byte

	mu     sync.RWMutex
	shared map[string]*[32]byte
}

func newXKeyBox(seed string) (*xkeyBox, error) {
	kp, err := natsjwt.ParseSeed(seed, natsjwt.KindCurve)
	if err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, err
	}
	_, raw, err := nkeys.DecodeSeed([]byte(seed))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("the xkey seed cannot be decoded")
	}
	b := &xkeyBox{pub: pub, shared: map[string]*[32]byte{}}
	copy(b.priv[:], raw)
	return b, nil
}

func (b *xkeyBox) sharedKey(peer string) (*[32]byte, error) {
	b.mu.RLock()
	k, ok := b.shared[peer]
	b.mu.RUnlock()
	if ok {
		return k, nil
	}
	raw, err := nkeys.Decode(nkeys.PrefixByteCurve, []byte(peer))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%q is not a curve public key (X…)", peer)
	}
	var peerPub [32]byte
	copy(peerPub[:], raw)
	k = new([32]byte)
	box.Precompute(k, &peerPub, &b.priv)
	b.mu.Lock()
	// Server xkeys are per process, so the map only grows with restarts; a bound keeps a
	// stream of forged headers from growing it without limit.
	if len(b.shared) >= xkeyMaxPeers {
		clear(b.shared)
	}
	b.shared[peer] = k
	b.mu.Unlock()
	return k, nil
}

func (b *xkeyBox) open(sealed []byte, sender string) ([]byte, error) {
	if len(sealed) <= len(xkeyVersion)+xkeyNonceLen || !bytes.HasPrefix(sealed, []byte(xkeyVersion)) {
		return nil, errXKeyFraming
	}
	k, err := b.sharedKey(sender)
	if err != nil {
		return nil, err
	}
	var nonce [xkeyNonceLen]byte
	copy(nonce[:], sealed[len(xkeyVersion):])
	out, ok := box.OpenAfterPrecomputation(nil, sealed[len(xkeyVersion)+xkeyNonceLen:], &nonce, k)
	if !ok {
		return nil, errXKeyOpen
	}
	return out, nil
}

func (b *xkeyBox) seal(msg []byte, recipient string) ([]byte, error) {
	k, err := b.sharedKey(recipient)
	if err != nil {
		return nil, err
	}
	var nonce [xkeyNonceLen]byte
	if _, err := io.ReadFull(rand.Reader, nonce[:]); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(xkeyVersion)+xkeyNonceLen+len(msg)+box.Overhead)
	out = append(out, xkeyVersion...)
	out = append(out, nonce[:]...)
	return box.SealAfterPrecomputation(out, msg, &nonce, k), nil
}

package pingonetest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7517 §4.8); nothing relies on it for security.
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is one RSA key of the environment. PingOne publishes a certificate chain with every
// key, so the fixture does too: verifiers that (wrongly) prefer x5c over n/e are then exercised.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
	// public is the JWKS entry: no alg, like PingOne, so verifiers must not rely on it.
	public jose.JSONWebKey
}

// rsaBits matches PingOne's signing keys; smaller keys would make go-jose and go-oidc tests
// pass against something PingOne never serves.
const rsaBits = 2048

func newSigningKey(now time.Time) (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	kid := newUUID()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "PingOne test signing key " + kid},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("self-sign key certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse key certificate: %w", err)
	}
	thumb := sha1.Sum(der) //nolint:gosec // see import comment
	return &signingKey{
		kid:  kid,
		priv: priv,
		public: jose.JSONWebKey{
			Key:                       &priv.PublicKey,
			KeyID:                     kid,
			Use:                       "sig",
			Certificates:              []*x509.Certificate{cert},
			CertificateThumbprintSHA1: thumb[:],
		},
	}, nil
}

// publicKeyPEM is what an attacker can download: the PKIX public key in PEM. Algorithm-confusion
// attacks use exactly these bytes as an HMAC secret.
func (k *signingKey) publicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		panic("pingonetest: marshal RSA public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// RotateKey makes the next key the one that signs new tokens and returns its kid: the key
// [Server.PublishNextKey] announced, or else a fresh key nobody has seen yet. The previous keys
// stay in the JWKS, as PingOne keeps every policy key published, until [Server.RetireOldKeys].
func (s *Server) RotateKey() string {
	s.mu.Lock()
	k := s.next
	s.next = nil
	s.mu.Unlock()
	if k == nil {
		var err error
		if k, err = newSigningKey(s.now()); err != nil {
			panic("pingonetest: " + err.Error())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
	return k.kid
}

// PublishNextKey adds the key of the next rotation to the JWKS without signing with it, as
// PingOne publishes its rotation keys and PingFederate its pending key ahead of use, and returns
// its kid; [Server.RotateKey] makes it the signing key. Calling it again before the rotation
// returns the same kid.
func (s *Server) PublishNextKey() string {
	s.mu.Lock()
	if s.next != nil {
		defer s.mu.Unlock()
		return s.next.kid
	}
	s.mu.Unlock()
	k, err := newSigningKey(s.now())
	if err != nil {
		panic("pingonetest: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == nil {
		s.next = k
	}
	return s.next.kid
}

// RetireOldKeys removes every key but the active one (and an announced next key) from the JWKS,
// so tokens signed before the last rotation no longer verify once a verifier refreshes its key
// set.
func (s *Server) RetireOldKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[len(s.keys)-1:]
}

// ActiveKeyID is the kid that new tokens carry.
func (s *Server) ActiveKeyID() string {
	return s.activeKey().kid
}

// PublishedKeyIDs lists the kids currently in the JWKS, oldest first; an announced next key
// comes last.
func (s *Server) PublishedKeyIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.keys)+1)
	for _, k := range s.keys {
		ids = append(ids, k.kid)
	}
	if s.next != nil {
		ids = append(ids, s.next.kid)
	}
	return ids
}

// PublicKeyPEM is the active key's public half in PEM, as anyone could derive it from the JWKS.
func (s *Server) PublicKeyPEM() []byte {
	return s.activeKey().publicKeyPEM()
}

// SetJWKSAvailable switches the JWKS endpoint between normal service and a 503 outage, to test
// that verifiers keep using cached keys and fail closed on unknown ones.
func (s *Server) SetJWKSAvailable(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwksDown = !up
}

func (s *Server) activeKey() *signingKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[len(s.keys)-1]
}

// publishedKey returns the key with kid if it is still in the JWKS.
func (s *Server) publishedKey(kid string) (*signingKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.kid == kid {
			return k, true
		}
	}
	return nil, false
}

func (s *Server) jwks() jose.JSONWebKeySet {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(s.keys)+1)}
	for _, k := range s.keys {
		set.Keys = append(set.Keys, k.public)
	}
	if s.next != nil {
		set.Keys = append(set.Keys, s.next.public)
	}
	return set
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("pingonetest: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

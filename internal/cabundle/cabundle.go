package cabundle

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Parse reads a bundle of PEM CERTIFICATE blocks and nothing else, so a pasted private key,
// a truncated bundle or stray text is an error instead of a silently smaller trust set.
func Parse(bundle string) ([]*x509.Certificate, error) {
	rest := []byte(bundle)
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n := len(certs) + 1
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE; the bundle must hold only CA certificates", n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("the CA bundle holds no certificate; give one or more \"-----BEGIN CERTIFICATE-----\" blocks, e.g. file(\"ca.pem\")")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("the CA bundle has text after certificate %d that is not a PEM block; check that it was not truncated", len(certs))
	}
	return certs, nil
}

// ExtendSystem returns the system roots plus the bundle's certificates. It is the pool for
// reaching a Ping issuer or the PingOne API: PingOne sits behind public CAs, and a bundle
// only adds a private CA (PingFederate) or a TLS-inspecting proxy on top.
func ExtendSystem(bundle string) (*x509.CertPool, error) {
	certs, err := Parse(bundle)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		// Minimal containers may have no system pool; the bundle can still make TLS work.
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// Only returns a pool of the bundle's certificates alone. It is the pool for reaching your
// own NATS servers, whose CA you run: replacing the system roots means no public CA can
// vouch for a host that impersonates one of them.
func Only(bundle string) (*x509.CertPool, error) {
	certs, err := Parse(bundle)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

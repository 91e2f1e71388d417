package cabundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testCA(t *testing.T, name string) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert
}

func TestParse(t *testing.T) {
	a, _ := testCA(t, "a")
	b, _ := testCA(t, "b")
	certs, err := Parse(a + "\n" + b + "\n")
	if err != nil || len(certs) != 2 {
		t.Fatalf("two certificates: %d, %v", len(certs), err)
	}
	for bundle, want := range map[string]string{
		"":             "holds no certificate",
		"hello":        "holds no certificate",
		a + "trailing": "text after certificate 1",
		a[:len(a)/2]:   "holds no certificate",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n": `"PRIVATE KEY", not a CERTIFICATE`,
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n": "certificate 1 does not parse",
	} {
		if _, err := Parse(bundle); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.20q) = %v, want %q", bundle, err, want)
		}
	}
}

// TestPools pins the two pool policies: Only trusts the bundle alone, ExtendSystem adds it
// to the system roots. Both verify a leaf of the bundle's CA.
func TestPools(t *testing.T) {
	bundle, ca := testCA(t, "private")
	only, err := Only(bundle)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := ExtendSystem(bundle)
	if err != nil {
		t.Fatal(err)
	}
	for name, pool := range map[string]*x509.CertPool{"only": only, "extend": ext} {
		if _, err := ca.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("%s: the bundle's CA does not verify: %v", name, err)
		}
	}
	if sys, err := x509.SystemCertPool(); err == nil && len(sys.Subjects()) > 0 { //nolint:staticcheck // counting only
		if len(ext.Subjects()) <= len(only.Subjects()) { //nolint:staticcheck // counting only
			t.Fatal("ExtendSystem did not keep the system roots")
		}
	}
	if _, err := Only("junk"); err == nil {
		t.Fatal("Only accepted junk")
	}
	if _, err := ExtendSystem("junk"); err == nil {
		t.Fatal("ExtendSystem accepted junk")
	}
}

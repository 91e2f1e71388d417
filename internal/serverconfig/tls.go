package serverconfig

import (
	"fmt"
	"strings"
	"time"
)

// MaxTLSTimeout bounds a TLS handshake timeout. nats-server counts the handshake into the
// client's authentication time, so a long one keeps unauthenticated connections open as long.
const MaxTLSTimeout = time.Minute

// TLS is one tls { } block. Paths are written as given: nats-server resolves a relative path
// against its working directory, not against the config file.
type TLS struct {
	// CertFile and KeyFile are the PEM certificate (chain) and its private key; they go
	// together. A listener needs them; a leafnode remote may leave both empty and only
	// verify the hub with CAFile.
	CertFile, KeyFile string
	// CAFile is the PEM bundle peers' certificates are checked against (the system roots when
	// empty, for outgoing connections only).
	CAFile string
	// Verify requires and checks the peer's certificate against CAFile (mutual TLS).
	Verify bool
	// Timeout (Go duration) bounds the TLS handshake. Empty leaves the server's (2s for
	// listeners, where it also raises the default auth timeout to match).
	Timeout string
}

// tlsRole says which side of a connection a tls block serves: a listener must present a
// certificate, an outgoing connection (leafnode remote) need not.
type tlsRole int

const (
	tlsListener tlsRole = iota
	tlsOutgoing
)

// validateTLS checks t under field (e.g. "cluster.tls"). A nil block is valid.
func validateTLS(t *TLS, field string, role tlsRole, errs *FieldErrors) {
	if t == nil {
		return
	}
	for name, v := range map[string]string{"cert_file": t.CertFile, "key_file": t.KeyFile, "ca_file": t.CAFile} {
		if v != "" && strings.TrimSpace(v) == "" {
			errs.add(field+"."+name, "is blank; give the path of a PEM file or leave it unset")
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		errs.add(field+".key_file", "is required with cert_file: the server needs the certificate's private key; set both or neither")
	case t.CertFile == "" && t.KeyFile != "":
		errs.add(field+".cert_file", "is required with key_file: set the certificate (chain) the key belongs to, or neither")
	case t.CertFile == "" && role == tlsListener:
		errs.add(field+".cert_file", "is required: a TLS listener must present a certificate; set cert_file and key_file, or remove the tls block")
	}
	if t.Verify && t.CAFile == "" {
		errs.add(field+".ca_file", "is required with verify = true: peers' certificates are checked against it; give the PEM bundle of the CA that issues them")
	}
	if t.Timeout != "" {
		d, err := time.ParseDuration(t.Timeout)
		switch {
		case err != nil || d <= 0:
			errs.add(field+".timeout", "%q is not a positive Go duration; use e.g. \"2s\" (the server default)", t.Timeout)
		case d > MaxTLSTimeout:
			errs.add(field+".timeout", "%q is longer than %s; a handshake that long holds an unauthenticated connection open, use a few seconds", t.Timeout, MaxTLSTimeout)
		}
	}
}

// writeTLS renders t indented by indent, keys in a fixed order.
func writeTLS(b *strings.Builder, t *TLS, indent string) {
	if t == nil {
		return
	}
	fmt.Fprintf(b, "%stls {\n", indent)
	in := indent + "  "
	if t.CertFile != "" {
		fmt.Fprintf(b, "%scert_file: %s\n", in, Quote(t.CertFile))
		fmt.Fprintf(b, "%skey_file: %s\n", in, Quote(t.KeyFile))
	}
	if t.CAFile != "" {
		fmt.Fprintf(b, "%sca_file: %s\n", in, Quote(t.CAFile))
	}
	fmt.Fprintf(b, "%sverify: %t\n", in, t.Verify)
	if t.Timeout != "" {
		fmt.Fprintf(b, "%stimeout: %s\n", in, Quote(t.Timeout))
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

package oidc

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNewHTTPClientCABundle(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	// The untrusted-root case makes the server log a handshake failure; it is expected.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}))

	cases := []struct {
		name       string
		pem        string
		wantNewErr string
		wantGetErr string
	}{
		{name: "private CA bundle trusted", pem: bundle},
		{name: "system roots only", pem: "", wantGetErr: "certificate"},
		{name: "bundle without certificates", pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
			wantNewErr: `ca_bundle_pem: PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`},
		{name: "garbage bundle", pem: "not pem", wantNewErr: "holds no certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewHTTPClient(tc.pem, false, time.Second*5)
			if tc.wantNewErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantNewErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantNewErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = getDocument(context.Background(), c, tlsSrv.URL+"/jwks")
			if tc.wantGetErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantGetErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantGetErr)) {
				t.Fatalf("error = %v, want %q", err, tc.wantGetErr)
			}
		})
	}
}

func TestNewHTTPClientSchemeGuard(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(plain.Close)
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/jwks", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: redirector.Certificate().Raw}))
	localhostURL := strings.Replace(plain.URL, "127.0.0.1", "localhost", 1)

	cases := []struct {
		name    string
		allow   bool
		url     string
		wantErr string
	}{
		{name: "loopback http refused by default", url: plain.URL, wantErr: "uses plain http; use https"},
		{name: "loopback http when allowed", allow: true, url: plain.URL},
		{name: "localhost http when allowed", allow: true, url: localhostURL},
		{name: "remote http refused even when allowed", allow: true, url: "http://auth.pingone.com/env/as/jwks", wantErr: "non-loopback host"},
		{name: "https redirect down to http refused", url: redirector.URL + "/jwks", wantErr: "uses plain http"},
		{name: "https redirect to loopback http when allowed", allow: true, url: redirector.URL + "/jwks"},
		{name: "other scheme", allow: true, url: "ftp://127.0.0.1/jwks", wantErr: `scheme "ftp"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewHTTPClient(bundle, tc.allow, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_, err = getDocument(context.Background(), c, tc.url)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"-5":                            0,
		"soon":                          0,
		"Sun, 01 Mar 2026 12:01:00 GMT": time.Minute,
		"Sun, 01 Mar 2026 11:59:00 GMT": 0,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got := parseRetryAfter(in, now); got != want {
				t.Fatalf("parseRetryAfter(%q) = %s, want %s", in, got, want)
			}
		})
	}
}

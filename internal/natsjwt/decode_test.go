package natsjwt

import (
	"strings"
	"testing"
)

func TestDecodeAny(t *testing.T) {
	t.Parallel()
	opPub, op := mustKey(t, KindOperator)
	valid, err := BuildOperatorJWT(OperatorSpec{Name: "acme"}, op)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	// Swap in the signature of another token: same shape, wrong signature.
	other, _ := BuildOperatorJWT(OperatorSpec{Name: "other"}, op)
	forged := parts[0] + "." + parts[1] + "." + strings.Split(other, ".")[2]

	tests := []struct {
		name      string
		token     string
		wantErr   string
		wantKind  string
		wantValid bool
	}{
		{name: "valid operator", token: valid, wantKind: "operator", wantValid: true},
		{name: "bad signature still decodes", token: forged, wantKind: "operator", wantValid: false},
		{name: "not a jwt", token: "abc", wantErr: "three dot-separated parts"},
		{name: "payload not base64", token: "a.!!.c", wantErr: "not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := DecodeAny(tt.token)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != tt.wantKind || d.SignatureValid != tt.wantValid {
				t.Errorf("kind %q valid %v, want %q %v (verify error: %v)", d.Kind, d.SignatureValid, tt.wantKind, tt.wantValid, d.VerifyError)
			}
			if d.Claims["sub"] != opPub || d.Claims["name"] != "acme" {
				t.Errorf("claims = %v", d.Claims)
			}
		})
	}
}

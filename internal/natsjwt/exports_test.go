package natsjwt

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

func TestSignActivation(t *testing.T) {
	t.Parallel()
	exporter := testSigner(t, KindAccount, "")
	importer := testPub(t, KindAccount)
	signingKey := testSigner(t, KindAccount, exporter.PublicKey)
	expires := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

	cases := []struct {
		name          string
		signer        *Signer
		spec          ActivationSpec
		issuerAccount string
		wantErr       string
	}{
		{name: "by the account", signer: exporter, spec: ActivationSpec{Type: KindService, Subject: "orders.get", Importer: importer, Expires: expires}},
		{name: "by a signing key", signer: signingKey, spec: ActivationSpec{Type: KindStream, Subject: "orders.>", Importer: importer}, issuerAccount: exporter.PublicKey},
		{name: "by a role", signer: func() *Signer {
			s := *signingKey
			s.Role = "reader"
			return &s
		}(), spec: ActivationSpec{Type: KindStream, Subject: "a", Importer: importer}, wantErr: "signs users only"},
		{name: "by an operator", signer: testSigner(t, KindOperator, ""), spec: ActivationSpec{Type: KindStream, Subject: "a", Importer: importer}, wantErr: "signed by the exporting account"},
		{name: "for itself", signer: exporter, spec: ActivationSpec{Type: KindStream, Subject: "a", Importer: exporter.PublicKey}, wantErr: "exporting account itself"},
		{name: "bad subject", signer: exporter, spec: ActivationSpec{Type: KindStream, Subject: "a.>.b", Importer: importer}, wantErr: "subject"},
		{name: "bad kind", signer: exporter, spec: ActivationSpec{Type: "topic", Subject: "a", Importer: importer}, wantErr: "not an export kind"},
		{name: "importer is a user", signer: exporter, spec: ActivationSpec{Type: KindStream, Subject: "a", Importer: testPub(t, KindUser)}, wantErr: "importer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token, err := SignActivation(tc.signer, tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			act, err := jwt.DecodeActivationClaims(token)
			if err != nil {
				t.Fatal(err)
			}
			if act.Issuer != tc.signer.PublicKey || act.Subject != importer || act.IssuerAccount != tc.issuerAccount ||
				string(act.ImportSubject) != tc.spec.Subject || act.ImportType != exportType(tc.spec.Type) {
				t.Errorf("activation claims = %s", act)
			}
			if !tc.spec.Expires.IsZero() && act.Expires != tc.spec.Expires.Unix() {
				t.Errorf("exp = %d, want %d", act.Expires, tc.spec.Expires.Unix())
			}
		})
	}
}

// An import carrying an activation token is checked against the token the way nats-server
// will check it, with a message that says which side to fix.
func TestImportToken(t *testing.T) {
	t.Parallel()
	op := testSigner(t, KindOperator, "")
	exporter := testSigner(t, KindAccount, "")
	importer := testPub(t, KindAccount)
	stranger := testPub(t, KindAccount)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sign := func(spec ActivationSpec) string {
		tok, err := SignActivation(exporter, spec)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(ActivationSpec{Type: KindService, Subject: "orders.>", Importer: importer})
	cases := []struct {
		name    string
		imp     ImportSpec
		pub     string
		wantErr string
	}{
		{name: "valid", imp: ImportSpec{Type: KindService, Subject: "orders.get", Account: exporter.PublicKey, Token: good}, pub: importer},
		{name: "valid before the account exists", imp: ImportSpec{Type: KindService, Subject: "orders.get", Account: exporter.PublicKey, Token: good}},
		{name: "for another account", imp: ImportSpec{Type: KindService, Subject: "orders.get", Account: exporter.PublicKey, Token: good}, pub: stranger, wantErr: "not this account"},
		{name: "from another exporter", imp: ImportSpec{Type: KindService, Subject: "orders.get", Account: stranger, Token: good}, pub: importer, wantErr: "use a token from the exporting account"},
		{name: "wrong kind", imp: ImportSpec{Type: KindStream, Subject: "orders.get", Account: exporter.PublicKey, Token: good}, pub: importer, wantErr: "activates a service import"},
		{name: "subject outside", imp: ImportSpec{Type: KindService, Subject: "billing.get", Account: exporter.PublicKey, Token: good}, pub: importer, wantErr: "does not include the import subject"},
		{name: "expired", imp: ImportSpec{Type: KindService, Subject: "orders.get", Account: exporter.PublicKey,
			Token: sign(ActivationSpec{Type: KindService, Subject: "orders.get", Importer: importer, Expires: now.Add(-time.Minute)})}, pub: importer, wantErr: "expired at"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := AccountSpec{Name: "IMP", Imports: []ImportSpec{tc.imp}}
			err := spec.Validate(ValidateOptions{AccountPublicKey: tc.pub, Now: now})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.pub == "" {
					return
				}
				token, err := SignAccount(spec, tc.pub, op)
				if err != nil {
					t.Fatal(err)
				}
				c, err := jwt.DecodeAccountClaims(token)
				if err != nil {
					t.Fatal(err)
				}
				if c.Imports[0].Token != good {
					t.Error("the activation token is not carried into the account JWT")
				}
				return
			}
			fes := FieldErrors(err)
			if len(fes) == 0 || fes[0].Path.String() != "imports[0].token" || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want imports[0].token: …%s…", err, tc.wantErr)
			}
		})
	}
}

// An import carrying the exporter's signer gets its activation token issued for the account
// being signed, so one configuration needs no token that names a key not yet created.
func TestSignAccount_activationSigner(t *testing.T) {
	t.Parallel()
	op := testSigner(t, KindOperator, "")
	exporter := testSigner(t, KindAccount, "")
	stranger := testSigner(t, KindAccount, "")
	importer := testPub(t, KindAccount)
	role := *testSigner(t, KindAccount, exporter.PublicKey)
	role.Role = "reader"
	imp := func(s *Signer, token string) AccountSpec {
		return AccountSpec{Name: "IMP", Imports: []ImportSpec{{Type: KindService, Subject: "orders.get", Account: exporter.PublicKey, ActivationSigner: s, Token: token}}}
	}
	spec := imp(exporter, "")
	token, err := SignAccount(spec, importer, op)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Imports[0].Token != "" {
		t.Error("SignAccount changed the caller's spec")
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	act, err := jwt.DecodeActivationClaims(c.Imports[0].Token)
	if err != nil {
		t.Fatalf("import token: %v", err)
	}
	if act.Issuer != exporter.PublicKey || act.Subject != importer || act.ImportSubject != "orders.get" || !act.IsService() {
		t.Errorf("activation = %s", act)
	}
	for name, tc := range map[string]struct {
		spec AccountSpec
		want string
	}{
		"signer of another account": {imp(stranger, ""), "belongs to account " + stranger.PublicKey},
		"role signer":               {imp(&role, ""), "roles and other keys cannot issue"},
		"token and signer":          {imp(exporter, "x"), "not both"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := SignAccount(tc.spec, importer, op)
			fes := FieldErrors(err)
			found := false
			for _, fe := range fes {
				found = found || (fe.Path.String() == "imports[0].activation_signer" && strings.Contains(fe.Err.Error(), tc.want))
			}
			if !found {
				t.Errorf("err = %v, want imports[0].activation_signer: …%s…", err, tc.want)
			}
		})
	}
}

package natsjwt

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The provider maps FieldError paths onto Terraform attribute paths step by step, so the
// steps themselves are the contract, and Error must keep rendering them as before.
func TestFieldErrorPaths(t *testing.T) {
	t.Parallel()
	account := testSigner(t, KindAccount, "").PublicKey
	spec := AccountSpec{
		Name:        "ORDERS",
		Limits:      AccountLimits{Conn: Limit(-2)},
		JetStream:   &JetStreamSpec{Tiers: map[string]JetStreamLimits{"R3": {Streams: Limit(-5)}, "R.9": {}}},
		Exports:     []ExportSpec{{Type: KindService, Subject: "ok.>"}, {Type: KindStream, Subject: "orders.*", ResponseType: "Stream"}},
		Imports:     []ImportSpec{{Type: "queue", Subject: "x", Account: account}},
		SigningKeys: []string{account, "not-a-key"},
		Roles:       []RoleSpec{{Name: "bad name", PublicKey: testSigner(t, KindAccount, "").PublicKey}},
	}
	name, index, key := func(n string) PathStep { return PathStep{Kind: StepName, Name: n} },
		func(i int) PathStep { return PathStep{Kind: StepIndex, Index: i} },
		func(k string) PathStep { return PathStep{Kind: StepKey, Name: k} }
	want := map[string]FieldPath{
		"limits.max_connections":            {name("limits"), name("max_connections")},
		`jetstream.tiers["R.9"]`:            {name("jetstream"), name("tiers"), key("R.9")},
		`jetstream.tiers["R3"].max_streams`: {name("jetstream"), name("tiers"), key("R3"), name("max_streams")},
		"exports[1].response_type":          {name("exports"), index(1), name("response_type")},
		"imports[0].type":                   {name("imports"), index(0), name("type")},
		"signing_keys[0]":                   {name("signing_keys"), index(0)},
		"signing_keys[1]":                   {name("signing_keys"), index(1)},
		"roles[0].name":                     {name("roles"), index(0), name("name")},
	}
	err := spec.Validate(ValidateOptions{AccountPublicKey: account})
	got := map[string]FieldPath{}
	for _, fe := range FieldErrors(err) {
		got[fe.Path.String()] = fe.Path
		if text := fe.Error(); !strings.HasPrefix(text, fe.Path.String()+": ") {
			t.Errorf("Error() = %q, want it to start with the path %q", text, fe.Path.String())
		}
		if !strings.Contains(err.Error(), fe.Error()) {
			t.Errorf("the joined error does not contain %q", fe.Error())
		}
	}
	for text, path := range want {
		if !reflect.DeepEqual(got[text], path) {
			t.Errorf("path %s = %#v, want %#v (all: %v)", text, got[text], path, err)
		}
	}
}

func TestFieldPathString(t *testing.T) {
	t.Parallel()
	base := Field("imports").AtIndex(2)
	token, signer := base.AtName("token"), base.AtName("activation_signer")
	for _, tc := range []struct {
		path FieldPath
		want string
	}{
		{nil, ""},
		{Field("name"), "name"},
		{token, "imports[2].token"},
		{signer, "imports[2].activation_signer"},
		{Field("jetstream").AtName("tiers").AtKey(`a"b]`), `jetstream.tiers["a\"b]"]`},
	} {
		if got := tc.path.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	// Extending a path never changes the prefix it was extended from.
	if base.String() != "imports[2]" {
		t.Errorf("base = %q after extending it", base)
	}
	if (&FieldError{Err: errTest}).Error() != errTest.Error() {
		t.Error("a FieldError without a path must read as its error")
	}
}

var errTest = errors.New("the account as a whole")

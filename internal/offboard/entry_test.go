package offboard

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// kvKey is nats.go's rule for key-value keys (jetstream/kv.go validKeyRe).
var kvKey = regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)

const account = "AACBXLZIQ3PXS2L6WAXUC5SLCY42Y4WB7M3LZBB5O7BQEICKHOOPA4AL"

func TestKeysAreValidAndRoundTrip(t *testing.T) {
	for _, e := range []Entry{
		{Kind: KindSubject, Value: "0a1b2c3d-0000-4000-8000-00000000a11c"},
		{Kind: KindSubject, Value: "CN=Jane Doe,OU=Ops/é*>.."},
		{Kind: KindClient, Value: "svc.orders*"},
		{Kind: KindMapping, Value: "orders readers (EU)"},
		{Kind: KindRole, Value: "reader.v2", Account: account},
	} {
		k := e.Key()
		if !kvKey.MatchString(k) || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			t.Errorf("%s: key %q is not a valid key-value key", e, k)
		}
		got, err := ParseKey(k)
		if err != nil || got != e {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", k, got, err, e)
		}
	}
	// A person and a service with the same string never share a key.
	if (Entry{Kind: KindSubject, Value: "x"}).Key() == (Entry{Kind: KindClient, Value: "x"}).Key() {
		t.Fatal("sub and client keys collide")
	}
}

func TestValidateRefusesBadEntries(t *testing.T) {
	for _, e := range []Entry{
		{Kind: KindSubject},
		{Kind: KindClient, Value: "has space"},
		{Kind: KindMapping},
		{Kind: KindRole, Value: "reader"},
		{Kind: KindRole, Value: "bad role", Account: account},
		{Kind: KindSubject, Value: "x", Account: account},
		{Kind: "user", Value: "x"},
	} {
		if err := e.Validate(); err == nil {
			t.Errorf("%+v was accepted", e)
		}
	}
}

func TestCutoffBound(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if err := CheckCutoff(now.Add(MaxFutureCutoff), now); err != nil {
		t.Fatalf("a cutoff at the bound was refused: %v", err)
	}
	if err := CheckCutoff(now.Add(-30*24*time.Hour), now); err != nil {
		t.Fatalf("a past cutoff was refused: %v", err)
	}
	err := CheckCutoff(now.AddDate(1, 0, 0), now)
	if err == nil || !strings.Contains(err.Error(), "in the future") {
		t.Fatalf("a cutoff a year ahead: %v", err)
	}
	if !CutoffOutlived(now.Add(-25*time.Hour), now, 24*time.Hour) || CutoffOutlived(now.Add(-time.Hour), now, 24*time.Hour) {
		t.Fatal("CutoffOutlived")
	}
	if got := DefaultCutoff(now.Add(300 * time.Millisecond)); !got.Equal(now.Add(time.Second)) {
		t.Fatalf("DefaultCutoff rounds %s, want the next whole second", got)
	}
	if got := DefaultCutoff(now); !got.Equal(now) {
		t.Fatalf("DefaultCutoff of a whole second is %s", got)
	}
}

func TestMatch(t *testing.T) {
	cut := time.Unix(1_800_000_000, 0)
	set := NewSet([]Entry{
		{Kind: KindSubject, Value: "Alice", Cutoff: cut.Unix()},
		{Kind: KindClient, Value: "svc", Cutoff: cut.Unix()},
		{Kind: KindMapping, Value: "writers", Cutoff: cut.Unix()},
		{Kind: KindRole, Value: "reader", Account: account, Cutoff: cut.Unix()},
	})
	before, after := cut.Add(-time.Second), cut
	cases := []struct {
		name string
		q    Query
		want bool
	}{
		{"person before cutoff", Query{Subject: "Alice", IssuedAt: before, Mapping: "m"}, true},
		{"person at cutoff", Query{Subject: "Alice", IssuedAt: after, Mapping: "m"}, false},
		{"person without iat", Query{Subject: "Alice", Mapping: "m"}, true},
		{"identity compares exactly", Query{Subject: "alice", IssuedAt: before, Mapping: "m"}, false},
		{"service", Query{ClientID: "svc", IssuedAt: before, Mapping: "m"}, true},
		{"a person's token through the revoked client app", Query{Subject: "bob", ClientID: "svc", IssuedAt: before, Mapping: "m"}, false},
		{"mapping", Query{Subject: "bob", IssuedAt: before, Mapping: "writers"}, true},
		{"role", Query{Subject: "bob", IssuedAt: before, Mapping: "m", Account: account, Role: "reader"}, true},
		{"same role name, other account", Query{Subject: "bob", IssuedAt: before, Mapping: "m", Account: "AOTHER", Role: "reader"}, false},
		{"nobody", Query{Subject: "bob", Mapping: "m"}, false},
	}
	for _, c := range cases {
		if _, got := set.Match(c.q); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
	if _, ok := set.Without((Entry{Kind: KindSubject, Value: "Alice"}).Key()).Match(cases[0].q); ok {
		t.Fatal("a deleted entry still refuses")
	}
	var empty *Set
	if _, ok := empty.Match(cases[0].q); ok {
		t.Fatal("an empty set refuses")
	}
}

func TestDecodeFailsClosed(t *testing.T) {
	e := Entry{Kind: KindSubject, Value: "alice", Cutoff: 100}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(e.Key(), b); err != nil || got != e {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	for _, bad := range []string{"not json", `{"kind":"sub","value":"mallory","cutoff":1}`} {
		got, err := Decode(e.Key(), []byte(bad))
		if err == nil || got.Value != "alice" || !got.Revokes(time.Now().Add(24*time.Hour)) {
			t.Fatalf("Decode(%q) = %+v, %v; want the key's entry refusing every token", bad, got, err)
		}
	}
	if _, err := Decode("nonsense", nil); err == nil {
		t.Fatal("a key without kind decoded")
	}
}

func TestCheckAgainst(t *testing.T) {
	doc := &calloutconfig.Document{Offboarding: &calloutconfig.Offboarding{Bucket: "b", Replicas: 1}, Mappings: []calloutconfig.Mapping{
		{Name: "orders_readers", Account: account, Role: "reader"},
		{Name: "Orders.Readers", Account: account, Role: "Reader"},
		{Name: "orders-writers", Account: account, Role: "writer"},
	}}
	if err := Check(doc, []Entry{{Kind: KindSubject, Value: "a"}, {Kind: KindMapping, Value: "orders-writers"},
		{Kind: KindRole, Value: "writer", Account: account}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e    Entry
		want string
	}{
		{Entry{Kind: KindMapping, Value: "orders-admins"}, "not a mapping"},
		{Entry{Kind: KindRole, Value: "admin", Account: account}, "granted by no mapping"},
		{Entry{Kind: KindMapping, Value: "orders_readers"}, "shares its tag"},
		{Entry{Kind: KindRole, Value: "reader", Account: account}, "shares its tag"},
	} {
		err := Check(doc, []Entry{c.e})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.e, err, c.want)
		}
	}
	doc.Offboarding = nil
	if err := Check(doc, nil); err == nil || !strings.Contains(err.Error(), "no offboarding section") {
		t.Fatalf("a document without offboarding: %v", err)
	}
}

func TestResolveRole(t *testing.T) {
	doc := &calloutconfig.Document{Mappings: []calloutconfig.Mapping{{Name: "m", Account: account, AccountName: "ORDERS", Role: "reader"}}}
	for _, ref := range []string{"ORDERS/reader", "orders/reader", account + "/reader"} {
		e, err := ResolveRole(doc, ref)
		if err != nil || e != (Entry{Kind: KindRole, Value: "reader", Account: account}) {
			t.Errorf("%s: %+v, %v", ref, e, err)
		}
	}
	for ref, want := range map[string]string{"reader": "not <account>/<role>", "BILLING/reader": "no mapping", "ORDERS/bad role": "role"} {
		if _, err := ResolveRole(doc, ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", ref, err, want)
		}
	}
}

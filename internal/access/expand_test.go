package access

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

var alice = Identity{
	Name: "alice", UserKey: "UALICE", AccountName: "APP", AccountKey: "AAPP",
	Tags: []string{"team:red", "team:blue", "region:eu"}, AccountTags: []string{"env:prod"},
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		tpl  Permissions
		want Permissions
	}{
		{"identity functions",
			Permissions{PubAllow: []string{"u.{{name()}}.{{subject()}}", "a.{{account-name()}}.{{account-subject()}}"}},
			Permissions{PubAllow: []string{"u.alice.UALICE", "a.APP.AAPP"}}},
		{"functions ignore case and inner spaces",
			Permissions{SubAllow: []string{"u.{{ NAME() }}"}},
			Permissions{SubAllow: []string{"u.alice"}}},
		{"multi-valued tags give the cross product",
			Permissions{SubAllow: []string{"t.{{tag(team)}}.{{tag(region)}}.{{account-tag(env)}}"}},
			Permissions{SubAllow: []string{"t.red.eu.prod", "t.blue.eu.prod"}}},
		{"a missing tag drops the allow entry, keeping the others",
			Permissions{PubAllow: []string{"t.{{tag(dept)}}", "fixed"}},
			Permissions{PubAllow: []string{"fixed"}}},
		{"an allow list emptied by expansion becomes deny everything",
			Permissions{PubAllow: []string{"t.{{tag(dept)}}"}, SubAllow: []string{"s.{{tag(dept)}}"}, SubDeny: []string{">"}},
			Permissions{PubDeny: []string{">"}, SubDeny: []string{">"}}},
		{"a template in the list drops its queue entries",
			Permissions{SubAllow: []string{"jobs.> workers", "u.{{name()}}"}},
			Permissions{SubAllow: []string{"u.alice"}}},
		{"lists without templates keep queue entries",
			Permissions{SubAllow: []string{"jobs.> workers"}, PubAllow: []string{"u.{{name()}}"}},
			Permissions{SubAllow: []string{"jobs.> workers"}, PubAllow: []string{"u.alice"}}},
		{"tag names are lower-cased, stored labels are not",
			Permissions{PubAllow: []string{"t.{{tag(REGION)}}"}},
			Permissions{PubAllow: []string{"t.eu"}}},
		{"response permission is carried",
			Permissions{Responses: &ResponsePermission{MaxMsgs: 3}},
			Permissions{Responses: &ResponsePermission{MaxMsgs: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.tpl, alice)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tt.want) {
				t.Errorf("Expand = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExpandTagValuesAreVerbatim(t *testing.T) {
	id := Identity{Tags: []string{"team:*", "dept:a.b", "bad:x y", "empty:", "Team:UPPER"}}
	got, err := Expand(Permissions{PubAllow: []string{"t.{{tag(team)}}", "d.{{tag(dept)}}", "b.{{tag(bad)}}", "e.{{tag(empty)}}"}}, id)
	if err != nil {
		t.Fatal(err)
	}
	// "*" widens to a wildcard, "a.b" adds a token, invalid results are dropped, and the
	// upper-case label is not a value of tag(team).
	if want := []string{"t.*", "d.a.b"}; !slices.Equal(got.PubAllow, want) {
		t.Errorf("PubAllow = %q, want %q", got.PubAllow, want)
	}
	if !got.Allows(Publish, "t.anything") {
		t.Error("a tag value of '*' should let the user publish to any t.<token>")
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name string
		tpl  Permissions
		want error
		list string
	}{
		{"missing tag in a deny list", Permissions{SubDeny: []string{"x.{{tag(dept)}}"}}, ErrMissingTag, "sub_deny"},
		{"unknown function, even in an allow list", Permissions{PubAllow: []string{"x.{{user()}}"}}, ErrUnknownFunction, "pub_allow"},
		{"upper-case TAG( is not stripped", Permissions{PubDeny: []string{"x.{{TAG(team)}}"}}, ErrMissingTag, "pub_deny"},
		{"invalid generated deny subject", Permissions{PubDeny: []string{"x.{{name()}}", "x.y"}}, ErrInvalidSubject, "pub_deny"},
		{"queue entry in a templated deny list", Permissions{SubDeny: []string{"jobs.> q", "u.{{subject()}}"}}, ErrInvalidSubject, "sub_deny"},
	}
	id := Identity{UserKey: "U1", Tags: []string{"team:red"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Expand(tt.tpl, id)
			var ee *ExpandError
			if !errors.Is(err, tt.want) || !errors.As(err, &ee) || ee.List != tt.list {
				t.Fatalf("Expand error = %v, want %v in %s", err, tt.want, tt.list)
			}
		})
	}
}

func TestExpandLimit(t *testing.T) {
	var tags []string
	for i := range 65 {
		tags = append(tags, fmt.Sprintf("a:%d", i), fmt.Sprintf("b:%d", i))
	}
	id := Identity{Tags: tags}
	// 64*64 = 4096 fits exactly; 65*65 does not.
	id64 := Identity{Tags: tags[:128]}
	got, err := Expand(Permissions{SubAllow: []string{"x.{{tag(a)}}.{{tag(b)}}"}}, id64)
	if err != nil || len(got.SubAllow) != 4096 {
		t.Fatalf("64x64: %d entries, err %v", len(got.SubAllow), err)
	}
	if _, err := Expand(Permissions{SubAllow: []string{"x.{{tag(a)}}.{{tag(b)}}"}}, id); !errors.Is(err, ErrExpansionLimit) {
		t.Errorf("65x65: err %v, want the expansion limit", err)
	}
	// The limit counts the whole list, not each entry.
	if _, err := Expand(Permissions{SubAllow: []string{"x.{{tag(a)}}.{{tag(b)}}", "y.{{tag(a)}}"}}, id64); !errors.Is(err, ErrExpansionLimit) {
		t.Errorf("4096+64: err %v, want the expansion limit", err)
	}
}

func TestForUser(t *testing.T) {
	def := Permissions{SubAllow: []string{"default.>"}}
	got, err := ForUser(Permissions{}, def, alice)
	if err != nil || !slices.Equal(got.SubAllow, def.SubAllow) {
		t.Errorf("empty template: %+v, %v", got, err)
	}
}

func equal(a, b Permissions) bool {
	if (a.Responses == nil) != (b.Responses == nil) || a.Responses != nil && *a.Responses != *b.Responses {
		return false
	}
	return slices.Equal(a.PubAllow, b.PubAllow) && slices.Equal(a.PubDeny, b.PubDeny) &&
		slices.Equal(a.SubAllow, b.SubAllow) && slices.Equal(a.SubDeny, b.SubDeny)
}

package access

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"orders.created", "orders.created", true},
		{"orders.created", "orders.updated", false},
		{"orders.*", "orders.created", true},
		{"orders.*", "orders", false},
		{"orders.*", "orders.a.b", false},
		{"orders.>", "orders.a.b", true},
		{"orders.>", "orders", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"*", "a", true},
		{"*", "a.b", false},
		{"*.created", "orders.created", true},
		// Subjects with wildcards are compared token by token as literals.
		{"orders.created", "orders.*", false},
		{"orders.*", "orders.*", true},
		{"orders.>", "orders.*", true},
		{"orders.*", "orders.>", true}, // the server admits this: '*' consumes the '>' token
		{"orders.*.x", "orders.>", false},
		{"orders.created", "orders.>", false},
		{"a*b", "a*b", true},
		{"a*b", "axb", false},
		{"orders.created", "orders..created", false},
		{">", "", false},
		{"", "a", false},
		{">", ".a", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.subject); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
		}
	}
}

func TestServerValidSubject(t *testing.T) {
	for s, want := range map[string]bool{
		"a.b": true, "a.*": true, "a.>": true, "a*b.c": true, "a>": true,
		"": false, "a..b": false, ".a": false, "a.": false, "a.>.b": false, "a b": false, "a. ": false, "a.\t": false,
	} {
		if got := serverValidSubject(s); got != want {
			t.Errorf("serverValidSubject(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSubsetMatch(t *testing.T) {
	tests := []struct {
		subject, test string
		want          bool
	}{
		{"v1.a", "v1.*", true},
		{"v1.*", "v1.*", true},
		{"v1.>", "v1.*", false},
		{"v1.a.b", "v1.>", true},
		{"v1.*", "v1.a", false},
		{"v1", "v1.>", false},
	}
	for _, tt := range tests {
		if got := subsetMatch(tt.subject, tt.test); got != tt.want {
			t.Errorf("subsetMatch(%q, %q) = %v, want %v", tt.subject, tt.test, got, tt.want)
		}
	}
}

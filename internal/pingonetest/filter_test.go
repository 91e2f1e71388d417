package pingonetest

import (
	"slices"
	"strings"
	"testing"
)

func TestParseGroupFilter(t *testing.T) {
	t.Parallel()
	groups := DefaultGroups()
	groups = append(groups, Group{ID: "99999999-0004-4000-8000-000000000004", Name: `Quote "q" \ back`})
	tests := []struct {
		filter  string
		want    []string // names
		wantErr string
	}{
		{filter: `name eq "Managers"`, want: []string{"Managers"}},
		{filter: `name eq "managers"`, want: []string{"Managers"}},
		{filter: `NAME EQ "Managers"`, wantErr: `unsupported attribute "NAME"`},
		{filter: `name EQ "Managers"`, want: []string{"Managers"}},
		{filter: `name sw "Eng"`, want: []string{"Engineering", "Engineering Read-Only"}},
		{filter: `name eq "Quote \"q\" \\ back"`, want: []string{`Quote "q" \ back`}},
		{filter: `id eq "99999999-0002-4000-8000-000000000002"`, want: []string{"Engineering"}},
		{filter: `externalId eq "ext-eng-001"`, want: []string{"Engineering"}},
		{filter: `population.id eq "` + DefaultPopulationID + `"`, want: []string{"Engineering", "Engineering Read-Only"}},
		{filter: `name sw "Eng" and externalId eq "ext-eng-001"`, want: []string{"Engineering"}},
		{filter: `name eq "Managers" or name eq "Engineering"`, want: []string{"Managers", "Engineering"}},
		{filter: `(name eq "Managers" or name sw "Eng") and population.id eq "` + DefaultPopulationID + `"`,
			want: []string{"Engineering", "Engineering Read-Only"}},
		{filter: `name eq "Nobody"`, want: nil},
		{filter: `name co "Eng"`, wantErr: `unsupported operator "co"`},
		{filter: `title eq "x"`, wantErr: `unsupported attribute "title"`},
		{filter: `id sw "9999"`, wantErr: "supports only eq"},
		{filter: `name eq Managers`, wantErr: "double-quoted"},
		{filter: `name eq "Managers`, wantErr: "unterminated"},
		{filter: `name eq`, wantErr: "incomplete comparison"},
		{filter: `(name eq "Managers"`, wantErr: "closing parenthesis"},
		{filter: `name eq "Managers" extra`, wantErr: `unexpected "extra"`},
		{filter: `   `, wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			t.Parallel()
			pred, err := parseGroupFilter(tt.filter)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var got []string
			for i := range groups {
				if pred(&groups[i]) {
					got = append(got, groups[i].Name)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("matched %q, want %q", got, tt.want)
			}
		})
	}
}

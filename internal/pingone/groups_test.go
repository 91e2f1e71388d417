package pingone

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// sevenGroups needs four pages at page size 2, so paging has a first, middle and last page.
func sevenGroups() []pingonetest.Group {
	groups := pingonetest.DefaultGroups()
	for i := range 3 {
		groups = append(groups, pingonetest.Group{Name: fmt.Sprintf("Team %d", i), ExternalID: fmt.Sprintf("team-%d", i)})
	}
	return append(groups, pingonetest.Group{Name: `Ops "on-call" \ night`})
}

func TestListGroups(t *testing.T) {
	t.Parallel()
	srv := pingonetest.New(pingonetest.Options{Groups: sevenGroups()})
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		pageSize int
		filter   string
		want     []string
		requests int64
	}{
		{name: "all groups over four pages", pageSize: 2,
			want: []string{"Managers", "Engineering", "Engineering Read-Only", "Team 0", "Team 1", "Team 2",
				`Ops "on-call" \ night`}, requests: 4},
		{name: "one page", pageSize: 1000, want: []string{"Managers", "Engineering", "Engineering Read-Only", "Team 0",
			"Team 1", "Team 2", `Ops "on-call" \ night`}, requests: 1},
		{name: "filter keeps across pages", pageSize: 1, filter: `name sw "team"`,
			want: []string{"Team 0", "Team 1", "Team 2"}, requests: 3},
		{name: "combined filter", filter: `name sw "Eng" and population.id eq "` + pingonetest.DefaultPopulationID + `"`,
			want: []string{"Engineering", "Engineering Read-Only"}, requests: 1},
		{name: "no match", filter: `name eq "Nobody"`, want: []string{}, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A server per case, so the request counter belongs to this case alone.
			srv := pingonetest.New(pingonetest.Options{Groups: srv.Groups()})
			t.Cleanup(srv.Close)
			c, _ := newTestClient(t, srv, func(c *Config) { c.PageSize = tt.pageSize })
			groups, err := c.ListGroups(context.Background(), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, g := range groups {
				names = append(names, g.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("names = %q, want %q", names, tt.want)
			}
			if srv.APIRequests() != tt.requests {
				t.Fatalf("API requests = %d, want %d", srv.APIRequests(), tt.requests)
			}
		})
	}
}

func TestGroupFields(t *testing.T) {
	t.Parallel()
	srv := pingonetest.New(pingonetest.Options{Groups: pingonetest.DefaultGroups()})
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv, nil)
	g, err := c.GetGroup(context.Background(), "99999999-0002-4000-8000-000000000002")
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "Engineering" || g.ExternalID != "ext-eng-001" || g.PopulationID != pingonetest.DefaultPopulationID ||
		g.Description != "Population group with dynamic membership" || g.EnvironmentID != envID || g.CreatedAt.IsZero() {
		t.Fatalf("group = %+v", g)
	}
	listed, err := c.ListGroups(context.Background(), `id eq "99999999-0001-4000-8000-000000000001"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].PopulationID != "" || listed[0].Description != "Environment-level static group" {
		t.Fatalf("listed = %+v", listed)
	}
}

func TestFindGroupByName(t *testing.T) {
	t.Parallel()
	srv := pingonetest.New(pingonetest.Options{Groups: sevenGroups()})
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv, nil)
	for _, name := range []string{"Managers", "Engineering", `Ops "on-call" \ night`} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, err := c.FindGroupByName(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			if g.Name != name {
				t.Fatalf("found %q, want %q", g.Name, name)
			}
		})
	}
	t.Run("prefix is not a match", func(t *testing.T) {
		t.Parallel()
		if _, err := c.FindGroupByName(context.Background(), "Engineer"); err == nil {
			t.Fatal("a prefix matched")
		}
	})
	t.Run("a quote cannot widen the filter", func(t *testing.T) {
		t.Parallel()
		_, err := c.FindGroupByName(context.Background(), `x" or name sw "`)
		if err == nil || !strings.Contains(err.Error(), "no PingOne group with name") {
			t.Fatalf("error = %v, want not found", err)
		}
	})
}

func TestQuoteFilterValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: "Managers", want: `"Managers"`},
		{in: `a "b" \c`, want: `"a \"b\" \\c"`},
		{in: "R&D <ops>", want: `"R&D <ops>"`},
		{in: "tab\there", want: `"tab\there"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := QuoteFilterValue(tt.in); got != tt.want {
				t.Fatalf("QuoteFilterValue(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestNextLinkIsChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rewrite func(self, next string) string
		wantErr string
	}{
		{name: "foreign host", wantErr: "refusing to follow PingOne next-page link to https://evil.example:443",
			rewrite: func(_, next string) string {
				u, _ := url.Parse(next)
				u.Host = "evil.example:443"
				return u.String()
			}},
		{name: "plain http on the same host", wantErr: "refusing to follow PingOne next-page link to http://",
			rewrite: func(_, next string) string { return strings.Replace(next, "https://", "http://", 1) }},
		{name: "other collection", wantErr: "it leaves the collection",
			rewrite: func(_, next string) string { return strings.Replace(next, "/groups?", "/users?", 1) }},
		{name: "loop back to the same page", wantErr: "PingOne group listing loops",
			rewrite: func(self, _ string) string { return self }},
		{name: "relative link is resolved against the API", rewrite: func(_, next string) string {
			u, _ := url.Parse(next)
			return u.RequestURI()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pingonetest.New(pingonetest.Options{Groups: sevenGroups()})
			t.Cleanup(srv.Close)
			srv.SetNextLinkRewrite(tt.rewrite)
			c, _ := newTestClient(t, srv, func(c *Config) { c.PageSize = 3 })
			groups, err := c.ListGroups(context.Background(), "")
			if tt.wantErr == "" {
				if err != nil || len(groups) != 7 {
					t.Fatalf("ListGroups = %d groups, %v", len(groups), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if srv.APIRequests() != 1 {
				t.Fatalf("API requests = %d: the bad link must not be followed", srv.APIRequests())
			}
		})
	}
}

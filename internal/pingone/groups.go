package pingone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Group is a PingOne group.
type Group struct {
	ID          string
	Name        string
	Description string
	ExternalID  string
	// PopulationID is empty for environment-level groups.
	PopulationID  string
	EnvironmentID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// groupWire is the API's JSON for a group (management API schema `Group`).
type groupWire struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ExternalID  string `json:"externalId"`
	Population  *struct {
		ID string `json:"id"`
	} `json:"population"`
	Environment struct {
		ID string `json:"id"`
	} `json:"environment"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func (w groupWire) group() Group {
	g := Group{ID: w.ID, Name: w.Name, Description: w.Description, ExternalID: w.ExternalID,
		EnvironmentID: w.Environment.ID, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.Population != nil {
		g.PopulationID = w.Population.ID
	}
	return g
}

// maxPages stops a server that keeps inventing new cursors; at the largest page size it is
// ten million groups, far beyond any PingOne environment.
const maxPages = 10000

// ListGroups returns every group matching filter, a PingOne SCIM filter such as
// `name sw "eng"` (empty for all groups), in the order PingOne returns them.
func (c *Client) ListGroups(ctx context.Context, filter string) ([]Group, error) {
	q := url.Values{"limit": {strconv.Itoa(c.pageSize)}}
	if filter != "" {
		q.Set("filter", filter)
	}
	wires, err := listCollection[groupWire](ctx, c, "groups", q, "group")
	if err != nil {
		return nil, err
	}
	groups := make([]Group, len(wires))
	for i, w := range wires {
		groups[i] = w.group()
	}
	return groups, nil
}

// halPage is one page of a PingOne collection: the items sit in _embedded under the
// collection's name, and _links.next is present while more pages follow.
type halPage struct {
	Links struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
	Embedded map[string]json.RawMessage `json:"_embedded"`
	Count    int                        `json:"count"`
}

// listCollection reads every page of the collection <env>/<name>, starting with query q, and
// decodes the items of _embedded.<name>. what names the items in errors.
func listCollection[W any](ctx context.Context, c *Client, name string, q url.Values, what string) ([]W, error) {
	collection := c.apiBase.JoinPath(name)
	u := *collection
	u.RawQuery = q.Encode()
	next := &u

	var items []W
	seen := map[string]bool{}
	for pages := 0; next != nil; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("PingOne %s listing did not end after %d pages; refusing to page further", what, maxPages)
		}
		seen[next.String()] = true
		var page halPage
		if err := c.get(ctx, next, &page); err != nil {
			return nil, err
		}
		if items == nil {
			items = make([]W, 0, page.Count)
		}
		// PingOne's EntityArray schema marks every _embedded array optional, so a missing key is
		// a page without items, not a malformed answer.
		if raw, ok := page.Embedded[name]; ok {
			var batch []W
			if err := json.Unmarshal(raw, &batch); err != nil {
				return nil, fmt.Errorf("PingOne API GET %s: _embedded.%s is not the expected JSON: %w", next.RequestURI(), name, err)
			}
			items = append(items, batch...)
		}
		next = nil
		if page.Links.Next != nil && page.Links.Next.Href != "" {
			n, err := c.followable(page.Links.Next.Href, collection.Path)
			if err != nil {
				return nil, err
			}
			if seen[n.String()] {
				return nil, fmt.Errorf("PingOne %s listing loops: the next page %s was already read", what, n.RequestURI())
			}
			next = n
		}
	}
	return items, nil
}

// followable checks a HAL next link before the bearer token is sent to it: it must stay on the
// configured API host, scheme and collection.
func (c *Client) followable(href, collectionPath string) (*url.URL, error) {
	n, err := c.apiBase.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("PingOne returned an unparsable next-page link %q: %w", href, err)
	}
	if n.Scheme != c.apiBase.Scheme || n.Host != c.apiBase.Host || n.User != nil {
		return nil, fmt.Errorf("refusing to follow PingOne next-page link to %s://%s: only %s://%s is trusted with "+
			"the access token", n.Scheme, n.Host, c.apiBase.Scheme, c.apiBase.Host)
	}
	if n.Path != collectionPath {
		return nil, fmt.Errorf("refusing to follow PingOne next-page link to %s: it leaves the collection %s",
			n.Path, collectionPath)
	}
	return n, nil
}

// GetGroup reads one group by id. A missing group is a *NotFoundError (errors.Is ErrNotFound).
func (c *Client) GetGroup(ctx context.Context, id string) (*Group, error) {
	if !IsID(id) {
		return nil, fmt.Errorf("PingOne group id %q is not a UUID; to look a group up by name use its name instead", id)
	}
	var w groupWire
	if err := c.get(ctx, c.apiBase.JoinPath("groups", id), &w); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Is(ErrNotFound) {
			return nil, &NotFoundError{EnvironmentID: c.env, Lookup: "id " + id, Cause: apiErr}
		}
		return nil, err
	}
	g := w.group()
	return &g, nil
}

// FindGroupByName returns the group whose name is exactly name. SCIM's eq may ignore case; the
// match here is exact because token claims carry the exact name, and a mapping to "managers"
// would never match a token saying "Managers". A near miss is named in the *NotFoundError.
func (c *Client) FindGroupByName(ctx context.Context, name string) (*Group, error) {
	if name == "" {
		return nil, fmt.Errorf("PingOne group name is empty")
	}
	groups, err := c.ListGroups(ctx, "name eq "+QuoteFilterValue(name))
	if err != nil {
		return nil, err
	}
	var near []string
	for i := range groups {
		if groups[i].Name == name {
			return &groups[i], nil
		}
		if strings.EqualFold(groups[i].Name, name) {
			near = append(near, groups[i].Name)
		}
	}
	return nil, &NotFoundError{EnvironmentID: c.env, Lookup: "name " + strconv.Quote(name), Similar: near}
}

// QuoteFilterValue renders s as a SCIM filter string literal (RFC 7644 uses JSON strings), so
// names with quotes or backslashes cannot change the filter's meaning.
func QuoteFilterValue(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// HTML escaping would turn < > & into \u escapes that are valid JSON but needlessly
	// unreadable in PingOne's audit log.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(buf.String(), "\n")
}

package pingone

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Protocols, types and grant types as PingOne spells them (EnumApplicationProtocol,
// EnumApplicationType, EnumApplicationOIDCGrantType).
const (
	ProtocolOpenIDConnect  = "OPENID_CONNECT"
	TypeWorker             = "WORKER"
	GrantClientCredentials = "CLIENT_CREDENTIALS"
	GrantAuthorizationCode = "AUTHORIZATION_CODE"
	GrantImplicit          = "IMPLICIT"
	GrantDeviceCode        = "DEVICE_CODE"
	GrantCIBA              = "CIBA"
)

// userGrants are the grants whose tokens name a user (sub) and so can carry group claims.
var userGrants = []string{GrantAuthorizationCode, GrantImplicit, GrantDeviceCode, GrantCIBA}

const (
	typePingOnePrefix = "PING_ONE_"
	// A UUID two edits away is a typo or a slip while pasting; further away it is another id.
	maxSuggestedIDDistance = 2
	maxSuggestedIDs        = 3
)

// Application is a PingOne application (a client connection). For an OIDC application the id
// is also the OAuth client id: PingOne puts it in the client_id claim of every token it issues
// to the application, which is what a mapping's client_ids are matched against.
type Application struct {
	ID          string
	Name        string
	Description string
	// Protocol is OPENID_CONNECT, SAML, WS_FED or EXTERNAL_LINK.
	Protocol string
	// Type is WORKER, WEB_APP, NATIVE_APP, SINGLE_PAGE_APP, SERVICE, CUSTOM_APP, or one of
	// PingOne's own applications (PING_ONE_ADMIN_CONSOLE, PING_ONE_PORTAL, …).
	Type string
	// Enabled is false for an application switched off in the console; PingOne issues it no
	// tokens until it is switched on again.
	Enabled bool
	// GrantTypes and TokenEndpointAuthMethod are set for OIDC applications only.
	GrantTypes              []string
	TokenEndpointAuthMethod string
	EnvironmentID           string
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// IsOIDC reports whether tokens issued to the application carry its id as client_id. SAML,
// WS-Fed and external-link applications get no OAuth tokens, so no token names them.
func (a *Application) IsOIDC() bool { return a.Protocol == ProtocolOpenIDConnect }

// HasGrantType reports whether the application may use grant g.
func (a *Application) HasGrantType(g string) bool { return slices.Contains(a.GrantTypes, g) }

// IssuesServiceTokens reports whether the application can get tokens of its own, without a
// user (client_credentials): the tokens a mapping admits by client id alone.
func (a *Application) IssuesServiceTokens() bool {
	return a.IsOIDC() && a.HasGrantType(GrantClientCredentials)
}

// IssuesUserTokens reports whether the application can get tokens on behalf of a user, the
// only tokens that carry sub and group claims.
func (a *Application) IssuesUserTokens() bool {
	return a.IsOIDC() && slices.ContainsFunc(userGrants, a.HasGrantType)
}

// IsPingOneApp reports whether the application is one PingOne creates itself (admin console,
// self-service, portal): it exists in every environment and is never a service's client.
func (a *Application) IsPingOneApp() bool { return strings.HasPrefix(a.Type, typePingOnePrefix) }

// applicationWire is the API's JSON for an application: the common `Application` schema plus
// the OIDC fields natsping reads (`ApplicationOIDC`).
type applicationWire struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Protocol    string `json:"protocol"`
	Type        string `json:"type"`
	// enabled is required by the schema; a pointer keeps an answer without it from reading as
	// a disabled application, because a warning about one must rest on what PingOne said.
	Enabled                 *bool    `json:"enabled"`
	GrantTypes              []string `json:"grantTypes"`
	TokenEndpointAuthMethod string   `json:"tokenEndpointAuthMethod"`
	Environment             struct {
		ID string `json:"id"`
	} `json:"environment"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func (w applicationWire) application() Application {
	return Application{ID: w.ID, Name: w.Name, Description: w.Description, Protocol: w.Protocol, Type: w.Type,
		Enabled: w.Enabled == nil || *w.Enabled, GrantTypes: w.GrantTypes, TokenEndpointAuthMethod: w.TokenEndpointAuthMethod,
		EnvironmentID: w.Environment.ID, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// ListApplications returns every application of the environment in the order PingOne returns
// them. PingOne documents neither filter nor limit for this collection (Read All Applications;
// readAllApplications in the OpenAPI description takes no query parameters), so none is sent:
// lookups match client-side, as PingOne's own Terraform provider does, and pages are followed
// by _links.next whenever PingOne chooses to page.
func (c *Client) ListApplications(ctx context.Context) ([]Application, error) {
	wires, err := listCollection[applicationWire](ctx, c, "applications", url.Values{}, "application")
	if err != nil {
		return nil, err
	}
	apps := make([]Application, len(wires))
	for i, w := range wires {
		apps[i] = w.application()
	}
	return apps, nil
}

// GetApplication reads one application by id with a single request. A missing application is
// a *NotFoundError (errors.Is ErrNotFound) without suggestions; ResolveClientID adds them.
func (c *Client) GetApplication(ctx context.Context, id string) (*Application, error) {
	if !IsID(id) {
		return nil, fmt.Errorf("PingOne application id %q is not a UUID; to look an application up by name use its name instead", id)
	}
	var w applicationWire
	if err := c.get(ctx, c.apiBase.JoinPath("applications", id), &w); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Is(ErrNotFound) {
			return nil, &NotFoundError{EnvironmentID: c.env, Kind: KindApplication, Lookup: "id " + id, Cause: apiErr}
		}
		return nil, err
	}
	a := w.application()
	return &a, nil
}

// FindApplicationByName returns the application whose name is exactly name, reading the whole
// collection because PingOne offers no filter on it.
func (c *Client) FindApplicationByName(ctx context.Context, name string) (*Application, error) {
	if name == "" {
		return nil, errors.New("PingOne application name is empty")
	}
	apps, err := c.ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	return MatchApplicationName(apps, name, c.env)
}

// MatchApplicationName picks the application named exactly name from apps. PingOne calls the
// name a unique identifier, but a second application with the same name is still refused by
// name rather than guessed: the two have different client ids and only one can be meant.
// A miss is a *NotFoundError naming the applications whose names differ only in case.
func MatchApplicationName(apps []Application, name, environmentID string) (*Application, error) {
	var exact []int
	var near []string
	for i := range apps {
		switch {
		case apps[i].Name == name:
			exact = append(exact, i)
		case strings.EqualFold(apps[i].Name, name):
			near = append(near, apps[i].Name)
		}
	}
	switch len(exact) {
	case 1:
		return &apps[exact[0]], nil
	case 0:
		return nil, &NotFoundError{EnvironmentID: environmentID, Kind: KindApplication,
			Lookup: "name " + strconv.Quote(name), Similar: near}
	}
	ids := make([]string, len(exact))
	for i, j := range exact {
		ids[i] = apps[j].ID
	}
	return nil, fmt.Errorf("%d PingOne applications in environment %s are named %q (ids %s); use the id of the one "+
		"that is meant", len(exact), environmentID, name, strings.Join(ids, ", "))
}

// ResolveClientID looks up a configured client id the way a mapping means it: a UUID is read
// as an application id (one request); anything else is taken as an application name. When no
// application has the id, the collection is read once more to find what was probably meant: an
// application id a typo or two away, or the environment id pasted by mistake. The returned
// Application.ID is the client id tokens carry; callers report a disabled or non-OIDC
// application themselves (Enabled, IsOIDC), because whether that is fatal is theirs to decide.
func (c *Client) ResolveClientID(ctx context.Context, value string) (*Application, error) {
	if !IsID(value) {
		return c.FindApplicationByName(ctx, value)
	}
	if lower := strings.ToLower(value); lower != value {
		// PingOne's ids are lower-case and tokens carry client_id exactly as issued, so an
		// upper-case spelling would match no token even though PingOne may find the application.
		return nil, fmt.Errorf("client id %q has upper-case letters; PingOne client ids are lower-case UUIDs and "+
			"tokens are matched exactly, so write %q", value, lower)
	}
	app, err := c.GetApplication(ctx, value)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		return app, err
	}
	if value == c.env {
		nf.Hint = "That is the PingOne environment id; the client id is shown as Client ID on the application's " +
			"Overview tab in the PingOne console"
		return nil, nf
	}
	// The suggestions are a courtesy: if the listing fails, the not-found answer stands.
	if apps, listErr := c.ListApplications(ctx); listErr == nil {
		nf.Similar = SimilarClientIDs(apps, value)
	}
	return nil, nf
}

// SimilarClientIDs returns the ids of OIDC applications in apps that are at most two edits from
// value (a mistyped or mis-pasted client id), nearest first, at most three.
func SimilarClientIDs(apps []Application, value string) []string {
	type candidate struct {
		id   string
		dist int
	}
	var cands []candidate
	for i := range apps {
		if !apps[i].IsOIDC() {
			continue
		}
		if d := editDistance(strings.ToLower(apps[i].ID), strings.ToLower(value)); d > 0 && d <= maxSuggestedIDDistance {
			cands = append(cands, candidate{apps[i].ID, d})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return a.dist - b.dist })
	var out []string
	for _, c := range cands[:min(len(cands), maxSuggestedIDs)] {
		out = append(out, c.id)
	}
	return out
}

// editDistance is the Levenshtein distance over bytes; ids are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

package pingonetest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The applications API as the fixture serves it. The shapes are reconstructed, not captured:
// the collection and field set follow the Read All Applications and Read One Application pages
// of developer.pingidentity.com (whose example lists "PingOne Admin Console" with _links
// environment and self, and OIDC applications that also link their grants) and the
// Application/ApplicationOIDC schemas of pingone-management.yml in
// patrickcping/pingone-go-sdk-v2. An OIDC application in a list looks like:
//
//	{"_links": {"self": {"href": ".../applications/<id>"}, "environment": {"href": ".../environments/<env>"},
//	            "grants": {"href": ".../applications/<id>/grants"}},
//	 "environment": {"id": "<env>"}, "id": "<id>", "name": "Orders Service", "enabled": true,
//	 "type": "WORKER", "protocol": "OPENID_CONNECT", "createdAt": "…", "updatedAt": "…",
//	 "grantTypes": ["CLIENT_CREDENTIALS"], "responseTypes": ["TOKEN"],
//	 "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "pkceEnforcement": "OPTIONAL"}
//
// Where PingOne's behaviour is not documented the fixture is stricter than PingOne is likely
// to be, so a client cannot come to depend on it: a filter is refused, because the endpoint
// documents none, and limit is ignored, because PingOne says pages may be smaller than asked
// and this endpoint documents no limit at all. The page size is the fixture's own
// ([Server.SetApplicationPageSize]); clients must follow _links.next whenever it is present.

// Ids of the applications every fixture environment starts with (besides the worker).
const (
	// DefaultAdminConsoleID is PingOne's own admin console application, present in every
	// environment and never a client a mapping should name.
	DefaultAdminConsoleID = "cccccccc-1111-4111-8111-cccccccccccc"
)

// Application is a PingOne application as the fixture stores it.
type Application struct {
	ID          string // generated when empty; for OIDC applications also the client_id of its tokens
	Name        string
	Description string
	// Type defaults to WEB_APP; PingOne's values are WEB_APP, NATIVE_APP, SINGLE_PAGE_APP,
	// WORKER, SERVICE, CUSTOM_APP and its own PING_ONE_* applications.
	Type string
	// Protocol defaults to OPENID_CONNECT; SAML, WS_FED and EXTERNAL_LINK applications are
	// served without OIDC fields.
	Protocol string
	// Disabled switches the application off; the zero value is enabled, as applications are
	// usually created.
	Disabled bool
	// GrantTypes, ResponseTypes and TokenEndpointAuthMethod default, for OIDC applications, to
	// PingOne's defaults for the type (WORKER: CLIENT_CREDENTIALS, TOKEN, CLIENT_SECRET_BASIC;
	// WEB_APP: AUTHORIZATION_CODE, CODE, CLIENT_SECRET_BASIC; NATIVE_APP: AUTHORIZATION_CODE and
	// IMPLICIT, TOKEN/ID_TOKEN/CODE, NONE; SINGLE_PAGE_APP: IMPLICIT, TOKEN/ID_TOKEN, NONE).
	GrantTypes              []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string
	CreatedAt               time.Time // default: the server clock
	UpdatedAt               time.Time // default: CreatedAt
}

// oidcDefaults is the table "application type → default grantTypes, response_type,
// tokenEndpointAuthMethod" of PingOne's application management docs.
var oidcDefaults = map[string]struct {
	grants, responses []string
	auth              string
}{
	"WORKER":          {[]string{"CLIENT_CREDENTIALS"}, []string{"TOKEN"}, "CLIENT_SECRET_BASIC"},
	"NATIVE_APP":      {[]string{"AUTHORIZATION_CODE", "IMPLICIT"}, []string{"TOKEN", "ID_TOKEN", "CODE"}, "NONE"},
	"WEB_APP":         {[]string{"AUTHORIZATION_CODE"}, []string{"CODE"}, "CLIENT_SECRET_BASIC"},
	"SINGLE_PAGE_APP": {[]string{"IMPLICIT"}, []string{"TOKEN", "ID_TOKEN"}, "NONE"},
}

// DefaultApplications are the applications a fixture environment starts with, in list order,
// before the worker application (whose id is the server's worker client id): PingOne's admin
// console, and the web application that user tokens are issued to ([DefaultAppClientID]).
func DefaultApplications() []Application {
	return []Application{
		{ID: DefaultAdminConsoleID, Name: "PingOne Admin Console", Type: "PING_ONE_ADMIN_CONSOLE",
			Description: "The admin console application which is used to manage this environment's " +
				"configuration and identity data.", TokenEndpointAuthMethod: "NONE"},
		{ID: DefaultAppClientID, Name: "Demo Web App", Type: "WEB_APP", Description: "The application users sign in to"},
	}
}

// applicationStore is the fixture's application directory. It has its own lock and is seeded
// on first use, so a server that never serves applications pays nothing for them.
type applicationStore struct {
	mu       sync.Mutex
	seeded   bool
	apps     []*Application
	pageSize int
}

// applications runs fn with the directory locked, seeding it first if needed.
func (s *Server) applications(fn func(st *applicationStore)) {
	st := &s.apps
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.seeded {
		st.seeded = true
		for _, a := range DefaultApplications() {
			st.add(s.fillApplication(a))
		}
		if st.find(s.worker[0]) < 0 {
			st.add(s.fillApplication(Application{ID: s.worker[0], Name: "natsping Worker", Type: "WORKER",
				Description: "Reads groups and applications for natsping"}))
		}
	}
	fn(st)
}

func (s *Server) fillApplication(a Application) Application {
	if a.ID == "" {
		a.ID = newUUID()
	}
	if a.Type == "" {
		a.Type = "WEB_APP"
	}
	if a.Protocol == "" {
		a.Protocol = "OPENID_CONNECT"
	}
	if d, ok := oidcDefaults[a.Type]; ok && a.Protocol == "OPENID_CONNECT" {
		if a.GrantTypes == nil {
			a.GrantTypes = d.grants
		}
		if a.ResponseTypes == nil {
			a.ResponseTypes = d.responses
		}
		if a.TokenEndpointAuthMethod == "" {
			a.TokenEndpointAuthMethod = d.auth
		}
	}
	a.GrantTypes = slices.Clone(a.GrantTypes)
	a.ResponseTypes = slices.Clone(a.ResponseTypes)
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	return a
}

func (st *applicationStore) find(id string) int {
	return slices.IndexFunc(st.apps, func(a *Application) bool { return a.ID == id })
}

// add panics on a duplicate id or name, because that is a mistake in the calling test; PingOne
// calls an application's name a unique identifier.
func (st *applicationStore) add(a Application) {
	for _, existing := range st.apps {
		if existing.ID == a.ID || strings.EqualFold(existing.Name, a.Name) {
			panic(fmt.Sprintf("pingonetest: AddApplication: an application with id %q or name %q already exists", a.ID, a.Name))
		}
	}
	st.apps = append(st.apps, &a)
}

// AddApplication adds a to the environment, after the existing applications in list order,
// and returns it with generated and default fields filled in.
func (s *Server) AddApplication(a Application) Application {
	a = s.fillApplication(a)
	s.applications(func(st *applicationStore) { st.add(a) })
	return cloneApplication(&a)
}

// RenameApplication changes an application's name, as an administrator would in the console.
func (s *Server) RenameApplication(id, name string) error {
	return s.updateApplication(id, func(a *Application) { a.Name = name })
}

// SetApplicationEnabled switches an application on or off, as the toggle in the console does.
func (s *Server) SetApplicationEnabled(id string, enabled bool) error {
	return s.updateApplication(id, func(a *Application) { a.Disabled = !enabled })
}

func (s *Server) updateApplication(id string, change func(*Application)) error {
	err := fmt.Errorf("pingonetest: no application with id %q", id)
	s.applications(func(st *applicationStore) {
		if i := st.find(id); i >= 0 {
			change(st.apps[i])
			st.apps[i].UpdatedAt = s.now()
			err = nil
		}
	})
	return err
}

// DeleteApplication removes an application; later reads of it return 404.
func (s *Server) DeleteApplication(id string) error {
	err := fmt.Errorf("pingonetest: no application with id %q", id)
	s.applications(func(st *applicationStore) {
		if i := st.find(id); i >= 0 {
			st.apps = slices.Delete(st.apps, i, i+1)
			err = nil
		}
	})
	return err
}

// Applications returns a copy of the environment's applications in list order.
func (s *Server) Applications() []Application {
	var out []Application
	s.applications(func(st *applicationStore) {
		for _, a := range st.apps {
			out = append(out, cloneApplication(a))
		}
	})
	return out
}

// SetApplicationPageSize sets how many applications one page of the list holds; n <= 0
// restores the default of 100.
func (s *Server) SetApplicationPageSize(n int) {
	s.applications(func(st *applicationStore) { st.pageSize = max(n, 0) })
}

func cloneApplication(a *Application) Application {
	c := *a
	c.GrantTypes = slices.Clone(a.GrantTypes)
	c.ResponseTypes = slices.Clone(a.ResponseTypes)
	return c
}

// routeApplications registers the applications endpoints behind the same rate limiting,
// authentication and environment check as every Management API call.
func (s *Server) routeApplications(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/environments/{env}/applications", s.api(s.handleListApplications))
	mux.HandleFunc("GET /v1/environments/{env}/applications/{id}", s.api(s.handleGetApplication))
}

func (s *Server) handleListApplications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("filter") {
		writeAPIError(w, http.StatusBadRequest, invalidData(errorDetail{
			Code: "INVALID_FILTER", Target: "filter", Message: "Filtering is not supported on applications.",
		}))
		return
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		n, ok := decodeCursor(c)
		if !ok {
			writeAPIError(w, http.StatusBadRequest, invalidData(errorDetail{
				Code: "INVALID_VALUE", Target: "cursor", Message: "The cursor is not valid.",
			}))
			return
		}
		offset = n
	}

	var all []applicationJSON
	limit := defaultPageSize
	s.applications(func(st *applicationStore) {
		for _, a := range st.apps {
			all = append(all, s.applicationJSON(a))
		}
		if st.pageSize > 0 {
			limit = st.pageSize
		}
	})
	s.mu.Lock()
	rewrite := s.nextRewrite
	s.mu.Unlock()

	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	if page == nil {
		page = []applicationJSON{}
	}
	self := s.absolute(r.URL)
	links := map[string]link{"self": {Href: self}}
	if offset+limit < len(all) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", encodeCursor(offset+limit))
		next := s.APIBaseURL() + "/applications?" + nq.Encode()
		if rewrite != nil {
			next = rewrite(self, next)
		}
		links["next"] = link{Href: next}
	}
	writeJSON(w, http.StatusOK, halJSON, map[string]any{
		"_links":    links,
		"_embedded": map[string]any{"applications": page},
		"count":     len(all),
		"size":      len(page),
	})
}

func (s *Server) handleGetApplication(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var found *applicationJSON
	s.applications(func(st *applicationStore) {
		if i := st.find(id); i >= 0 {
			j := s.applicationJSON(st.apps[i])
			found = &j
		}
	})
	if found == nil {
		// The applications service names the object, unlike the generic NOT_FOUND text: the
		// message is what terraform-provider-pingone's acceptance tests expect from the live
		// API for ReadOneApplication.
		writeAPIError(w, http.StatusNotFound, apiError{Code: "NOT_FOUND",
			Message: "Unable to find Application with ID: '" + id + "' in Environment '" + s.env + "'"})
		return
	}
	writeJSON(w, http.StatusOK, halJSON, found)
}

// applicationJSON is PingOne's Application schema with the OIDC fields of ApplicationOIDC.
type applicationJSON struct {
	Links                   map[string]link `json:"_links"`
	Environment             idRef           `json:"environment"`
	ID                      string          `json:"id"`
	Name                    string          `json:"name"`
	Description             string          `json:"description,omitempty"`
	Enabled                 bool            `json:"enabled"`
	Type                    string          `json:"type"`
	AccessControl           map[string]any  `json:"accessControl,omitempty"`
	Protocol                string          `json:"protocol"`
	CreatedAt               string          `json:"createdAt"`
	UpdatedAt               string          `json:"updatedAt"`
	GrantTypes              []string        `json:"grantTypes,omitempty"`
	ResponseTypes           []string        `json:"responseTypes,omitempty"`
	TokenEndpointAuthMethod string          `json:"tokenEndpointAuthMethod,omitempty"`
	PKCEEnforcement         string          `json:"pkceEnforcement,omitempty"`
}

func (s *Server) applicationJSON(a *Application) applicationJSON {
	self := s.APIBaseURL() + "/applications/" + a.ID
	j := applicationJSON{
		Links:       map[string]link{"self": {Href: self}, "environment": {Href: s.APIBaseURL()}},
		Environment: idRef{ID: s.env},
		ID:          a.ID,
		Name:        a.Name,
		Description: a.Description,
		Enabled:     !a.Disabled,
		Type:        a.Type,
		Protocol:    a.Protocol,
		CreatedAt:   a.CreatedAt.UTC().Format(pingTime),
		UpdatedAt:   a.UpdatedAt.UTC().Format(pingTime),
	}
	if a.Type == "PING_ONE_ADMIN_CONSOLE" {
		j.AccessControl = map[string]any{"role": map[string]string{"type": "ADMIN_USERS_ONLY"}}
	}
	if a.Protocol == "OPENID_CONNECT" {
		j.GrantTypes = slices.Clone(a.GrantTypes)
		j.ResponseTypes = slices.Clone(a.ResponseTypes)
		j.TokenEndpointAuthMethod = a.TokenEndpointAuthMethod
		j.PKCEEnforcement = "OPTIONAL"
		if !strings.HasPrefix(a.Type, "PING_ONE_") {
			j.Links["grants"] = link{Href: self + "/grants"}
		}
	}
	return j
}

package pingonetest

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Group is a PingOne group as the fixture stores it.
type Group struct {
	ID           string // generated when empty
	Name         string
	Description  string
	ExternalID   string
	PopulationID string // empty for environment-level groups
	SourceID     string
	UserFilter   string // dynamic-membership SCIM filter, echoed as userFilter
	DirectUsers  int
	TotalUsers   int
	CreatedAt    time.Time // default: the server clock
	UpdatedAt    time.Time // default: CreatedAt
}

// DefaultGroups is a small directory in the shape of the captured PingOne examples: an
// environment-level group and a population group with an external id.
func DefaultGroups() []Group {
	return []Group{
		{ID: "99999999-0001-4000-8000-000000000001", Name: "Managers", Description: "Environment-level static group",
			DirectUsers: 3, TotalUsers: 5},
		{ID: "99999999-0002-4000-8000-000000000002", Name: "Engineering",
			Description: "Population group with dynamic membership", PopulationID: DefaultPopulationID,
			ExternalID: "ext-eng-001", UserFilter: `title eq "Engineer"`},
		{ID: "99999999-0003-4000-8000-000000000003", Name: "Engineering Read-Only",
			Description: "Developers with read-only access", PopulationID: DefaultPopulationID, DirectUsers: 12,
			TotalUsers: 12},
	}
}

// AddGroup adds g to the directory and returns it with generated fields filled in. Like
// PingOne, names are unique per environment; a duplicate id or name panics because it is a
// mistake in the calling test.
func (s *Server) AddGroup(g Group) Group {
	if g.ID == "" {
		g.ID = newUUID()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now()
	}
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = g.CreatedAt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, existing := range s.groups {
		if existing.ID == g.ID || strings.EqualFold(existing.Name, g.Name) {
			panic(fmt.Sprintf("pingonetest: AddGroup: a group with id %q or name %q already exists", g.ID, g.Name))
		}
	}
	stored := g
	s.groups = append(s.groups, &stored)
	return g
}

// RenameGroup changes a group's name, as an administrator would in the PingOne console.
func (s *Server) RenameGroup(id, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		if g.ID == id {
			g.Name = name
			g.UpdatedAt = s.now()
			return nil
		}
	}
	return fmt.Errorf("pingonetest: no group with id %q", id)
}

// DeleteGroup removes a group; later reads of it return 404.
func (s *Server) DeleteGroup(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, g := range s.groups {
		if g.ID == id {
			s.groups = slices.Delete(s.groups, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("pingonetest: no group with id %q", id)
}

// Groups returns a copy of the directory in list order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, len(s.groups))
	for i, g := range s.groups {
		out[i] = *g
	}
	return out
}

// handleToken implements the worker app's client_credentials grant. The app is configured for
// client_secret_basic, so credentials in the form body are refused as PingOne would.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.tokenRequests.Add(1)
	if r.PathValue("env") != s.env {
		writeAPIError(w, http.StatusNotFound, notFoundError())
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("Grant type %q is not supported for this application.", gt))
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Request denied: Unsupported authentication method.")
		return
	}
	// RFC 6749 §2.3.1: both parts are form-encoded before they go into the Basic header.
	id, errID := url.QueryUnescape(id)
	secret, errSecret := url.QueryUnescape(secret)
	if errID != nil || errSecret != nil ||
		subtle.ConstantTimeCompare([]byte(id), []byte(s.worker[0])) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.worker[1])) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Request denied: Invalid client credentials.")
		return
	}
	token := s.IssueToken(TokenOptions{ClientCredentials: true, ClientID: id, Audience: []string{APIAudience}})
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(s.tokenLifetime / time.Second),
	})
}

// api wraps Management API handlers with what every PingOne API call goes through: rate
// limiting at the edge, then bearer-token authentication, then the environment check.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.apiRequests.Add(1)
		s.mu.Lock()
		limited := s.limited > 0
		retryAfter := s.retryAfter
		if limited {
			s.limited--
		}
		s.mu.Unlock()
		if limited {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeAPIError(w, http.StatusTooManyRequests, apiError{
				Code: "REQUEST_LIMITED", Message: "The request could not be completed. Too many requests.",
				Details: []errorDetail{{Code: "LIMIT_EXCEEDED", Message: "Rate limit exceeded."}},
			})
			return
		}
		if !s.validBearer(r.Header.Get("Authorization")) {
			writeAPIError(w, http.StatusUnauthorized, apiError{
				Code: "ACCESS_FAILED", Message: "The request could not be completed. You do not have access to this resource.",
				Details: []errorDetail{{Code: "INVALID_TOKEN", Target: "Authentication Credentials",
					Message: "The authorization token is either missing or invalid, or it has expired."}},
			})
			return
		}
		if r.PathValue("env") != s.env {
			writeAPIError(w, http.StatusNotFound, notFoundError())
			return
		}
		h(w, r)
	}
}

// validBearer accepts only tokens this server issued for its API with a published key.
func (s *Server) validBearer(header string) bool {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return false
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return false
	}
	key, ok := s.publishedKey(tok.Headers[0].KeyID)
	if !ok {
		return false
	}
	var std jwt.Claims
	var ping struct {
		Env string `json:"env"`
	}
	if err := tok.Claims(&key.priv.PublicKey, &std, &ping); err != nil {
		return false
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: s.Issuer(), AnyAudience: jwt.Audience{APIAudience}, Time: s.now()}, 0)
	return err == nil && ping.Env == s.env
}

const (
	defaultPageSize = 100
	maxPageSize     = 1000
	halJSON         = "application/hal+json;charset=UTF-8"
)

func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeAPIError(w, http.StatusBadRequest, invalidData(errorDetail{
				Code: "INVALID_VALUE", Target: "limit", Message: "limit must be an integer between 1 and 1000.",
				InnerError: map[string]any{"rangeMinimumValue": 1, "rangeMaximumValue": maxPageSize},
			}))
			return
		}
		limit = n
	}
	match := func(*Group) bool { return true }
	if f := q.Get("filter"); f != "" {
		pred, err := parseGroupFilter(f)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, invalidData(errorDetail{
				Code: "INVALID_FILTER", Target: "filter", Message: "The filter expression is invalid: " + err.Error() + ".",
				InnerError: map[string]any{"supportedAttributes": filterAttributes, "supportedOperators": filterOperators},
			}))
			return
		}
		match = pred
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

	s.mu.Lock()
	var matched []groupJSON
	for _, g := range s.groups {
		if match(g) {
			matched = append(matched, s.groupJSON(g, false))
		}
	}
	rewrite := s.nextRewrite
	s.mu.Unlock()

	page := matched[min(offset, len(matched)):min(offset+limit, len(matched))]
	self := s.absolute(r.URL)
	links := map[string]link{"self": {Href: self}}
	if offset+limit < len(matched) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("cursor", encodeCursor(offset+limit))
		next := s.APIBaseURL() + "/groups?" + nq.Encode()
		if rewrite != nil {
			next = rewrite(self, next)
		}
		links["next"] = link{Href: next}
	}
	if page == nil {
		page = []groupJSON{}
	}
	writeJSON(w, http.StatusOK, halJSON, map[string]any{
		"_links":    links,
		"_embedded": map[string]any{"groups": page},
		"count":     len(matched),
		"size":      len(page),
	})
}

func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	withTotals := slices.Contains(strings.Split(r.URL.Query().Get("include"), ","), "totalMemberCounts")
	s.mu.Lock()
	var found *groupJSON
	for _, g := range s.groups {
		if g.ID == id {
			j := s.groupJSON(g, withTotals)
			found = &j
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		writeAPIError(w, http.StatusNotFound, notFoundError())
		return
	}
	writeJSON(w, http.StatusOK, halJSON, found)
}

type link struct {
	Href string `json:"href"`
}

type idRef struct {
	ID string `json:"id"`
}

type memberCounts struct {
	Users int `json:"users"`
}

// groupJSON is PingOne's Group schema (management API `Group`).
type groupJSON struct {
	Links              map[string]link `json:"_links"`
	ID                 string          `json:"id"`
	Environment        idRef           `json:"environment"`
	Name               string          `json:"name"`
	Description        string          `json:"description,omitempty"`
	Population         *idRef          `json:"population,omitempty"`
	UserFilter         string          `json:"userFilter,omitempty"`
	ExternalID         string          `json:"externalId,omitempty"`
	SourceID           string          `json:"sourceId,omitempty"`
	DirectMemberCounts memberCounts    `json:"directMemberCounts"`
	TotalMemberCounts  *memberCounts   `json:"totalMemberCounts,omitempty"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
}

// pingTime is PingOne's timestamp format: UTC with milliseconds.
const pingTime = "2006-01-02T15:04:05.000Z"

func (s *Server) groupJSON(g *Group, withTotals bool) groupJSON {
	j := groupJSON{
		Links:              map[string]link{"self": {Href: s.APIBaseURL() + "/groups/" + g.ID}},
		ID:                 g.ID,
		Environment:        idRef{ID: s.env},
		Name:               g.Name,
		Description:        g.Description,
		UserFilter:         g.UserFilter,
		ExternalID:         g.ExternalID,
		SourceID:           g.SourceID,
		DirectMemberCounts: memberCounts{Users: g.DirectUsers},
		CreatedAt:          g.CreatedAt.UTC().Format(pingTime),
		UpdatedAt:          g.UpdatedAt.UTC().Format(pingTime),
	}
	if g.PopulationID != "" {
		j.Population = &idRef{ID: g.PopulationID}
	}
	if withTotals {
		j.TotalMemberCounts = &memberCounts{Users: g.TotalUsers}
	}
	return j
}

// Cursors are opaque to clients, as PingOne's are; the fixture only needs an offset inside.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(raw), "offset:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// apiError is PingOne's error envelope (error-codes.html): id, code, message, details[].
type apiError struct {
	ID      string        `json:"id"`
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorDetail struct {
	Code       string         `json:"code"`
	Target     string         `json:"target,omitempty"`
	Message    string         `json:"message"`
	InnerError map[string]any `json:"innerError,omitempty"`
}

func notFoundError() apiError {
	return apiError{Code: "NOT_FOUND", Message: "The request could not be completed. The requested resource was not found."}
}

func invalidData(d errorDetail) apiError {
	return apiError{Code: "INVALID_DATA",
		Message: "The request could not be completed. One or more validation errors were in the request.",
		Details: []errorDetail{d}}
}

func writeAPIError(w http.ResponseWriter, status int, e apiError) {
	e.ID = newUUID()
	writeJSON(w, status, "application/json", e)
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="PingOne"`)
	}
	writeJSON(w, status, "application/json;charset=UTF-8", map[string]string{
		"error": code, "error_description": description,
	})
}

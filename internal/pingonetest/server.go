package pingonetest

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Fake ids in the style of the captured PingOne examples: obviously fake, but shaped like the
// real UUIDs so validators that insist on UUIDs accept them.
const (
	DefaultEnvironmentID  = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
	DefaultOrganizationID = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
	// DefaultAppClientID is the OIDC application that user tokens are issued to.
	DefaultAppClientID = "cccccccc-3333-4333-8333-cccccccccccc"
	// DefaultWorkerClientID and DefaultWorkerClientSecret are the worker app that may call the
	// Management API.
	DefaultWorkerClientID     = "cccccccc-9999-4999-8999-cccccccccccc"
	DefaultWorkerClientSecret = "fake-worker-secret-0123456789abcdefghijklmnop"
	DefaultUserID             = "dddddddd-4444-4444-8444-dddddddddddd"
	DefaultSessionID          = "eeeeeeee-5555-4555-8555-eeeeeeeeeeee"
	DefaultPopulationID       = "88888888-0001-4000-8000-000000000001"

	// APIAudience is the audience PingOne puts in tokens meant for its own APIs. It names the
	// real host even though the fixture serves the API itself: PingOne's aud is a fixed string
	// per region, not the URL the client happened to call.
	APIAudience = "https://api.pingone.com"

	// DefaultTokenLifetime is PingOne's default access-token lifetime.
	DefaultTokenLifetime = time.Hour
)

// Options configures a [Server]. The zero value is a TLS server for [DefaultEnvironmentID] with
// no groups and the default worker credentials.
type Options struct {
	EnvironmentID  string
	OrganizationID string
	// PlainHTTP serves http:// instead of TLS. PingOne is HTTPS-only, so use it only where a
	// component under test cannot be given a CA (TLS is the default because a client that
	// forgets to pass its CA must fail in tests, as it would in production).
	PlainHTTP bool
	// Groups is the initial directory, in the order the list endpoint returns it. Empty ids,
	// creation and update times are filled in.
	Groups []Group
	// WorkerClientID and WorkerClientSecret are the only credentials the token endpoint accepts.
	WorkerClientID     string
	WorkerClientSecret string
	// IntrospectionClientID and IntrospectionClientSecret are the only credentials the
	// introspection endpoint accepts (default DefaultIntrospectionClientID and -Secret).
	IntrospectionClientID     string
	IntrospectionClientSecret string
	// TokenLifetime of worker tokens from the token endpoint and the default for IssueToken.
	TokenLifetime time.Duration
	// Now is the clock for iat/exp and for checking bearer-token expiry; default time.Now.
	Now func() time.Time
	// JWKSCacheControl is sent verbatim as the JWKS answer's Cache-Control header (e.g.
	// "max-age=300"), so verifiers that schedule refreshes by it can be tested; empty sends
	// none.
	JWKSCacheControl string
}

// Server is a running PingOne look-alike. All methods are safe for concurrent use.
type Server struct {
	env, org      string
	worker        [2]string
	introspector  [2]string
	tokenLifetime time.Duration
	now           func() time.Time
	cacheControl  string
	srv           *httptest.Server

	mu          sync.Mutex
	keys        []*signingKey // last is active
	next        *signingKey   // published ahead of use, not signing yet
	jwksDown    bool
	groups      []*Group
	limited     int
	retryAfter  string
	nextRewrite func(self, next string) string
	apps        applicationStore // has its own lock; seeded on first use

	opaque              map[string]*opaqueToken // reference tokens by their value
	introspectionDown   bool
	introspectionHidden bool // discovery leaves introspection_endpoint out

	jwksFetches, discoveryFetches, tokenRequests, apiRequests, introspections atomic.Int64
}

// New starts a server; call Close when done. It panics if the RSA key cannot be generated,
// which only happens when the system's random source is broken.
func New(opts Options) *Server {
	s := &Server{
		env:           opts.EnvironmentID,
		org:           opts.OrganizationID,
		worker:        [2]string{opts.WorkerClientID, opts.WorkerClientSecret},
		introspector:  [2]string{opts.IntrospectionClientID, opts.IntrospectionClientSecret},
		tokenLifetime: opts.TokenLifetime,
		now:           opts.Now,
		cacheControl:  opts.JWKSCacheControl,
	}
	if s.env == "" {
		s.env = DefaultEnvironmentID
	}
	if s.org == "" {
		s.org = DefaultOrganizationID
	}
	if s.worker[0] == "" {
		s.worker[0] = DefaultWorkerClientID
	}
	if s.worker[1] == "" {
		s.worker[1] = DefaultWorkerClientSecret
	}
	if s.introspector[0] == "" {
		s.introspector[0] = DefaultIntrospectionClientID
	}
	if s.introspector[1] == "" {
		s.introspector[1] = DefaultIntrospectionClientSecret
	}
	if s.tokenLifetime <= 0 {
		s.tokenLifetime = DefaultTokenLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	k, err := newSigningKey(s.now())
	if err != nil {
		panic("pingonetest: " + err.Error())
	}
	s.keys = []*signingKey{k}
	for _, g := range opts.Groups {
		s.AddGroup(g)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{env}/as/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /{env}/as/jwks", s.handleJWKS)
	mux.HandleFunc("POST /{env}/as/token", s.handleToken)
	mux.HandleFunc("POST /{env}/as/introspect", s.handleIntrospect)
	mux.HandleFunc("POST "+PingFederateIntrospectionPath, s.handleIntrospect)
	mux.HandleFunc("GET /v1/environments/{env}/groups", s.api(s.handleListGroups))
	mux.HandleFunc("GET /v1/environments/{env}/groups/{id}", s.api(s.handleGetGroup))
	s.routeApplications(mux)
	if opts.PlainHTTP {
		s.srv = httptest.NewServer(mux)
	} else {
		s.srv = httptest.NewTLSServer(mux)
	}
	return s
}

// Close shuts the server down and blocks until outstanding requests finish.
func (s *Server) Close() { s.srv.Close() }

// URL is the base URL, e.g. https://127.0.0.1:40123.
func (s *Server) URL() string { return s.srv.URL }

// Host is host:port of the server: the value for auth_hostname and api_hostname overrides.
func (s *Server) Host() string { return s.srv.Listener.Addr().String() }

// EnvironmentID and OrganizationID are the ids in paths and in the env and org claims.
func (s *Server) EnvironmentID() string  { return s.env }
func (s *Server) OrganizationID() string { return s.org }

// Issuer is the exact iss value: <base>/<env>/as.
func (s *Server) Issuer() string { return s.srv.URL + "/" + s.env + "/as" }

// DiscoveryURL, JWKSURL and TokenURL are the issuer's endpoints.
func (s *Server) DiscoveryURL() string { return s.Issuer() + "/.well-known/openid-configuration" }
func (s *Server) JWKSURL() string      { return s.Issuer() + "/jwks" }
func (s *Server) TokenURL() string     { return s.Issuer() + "/token" }

// APIBaseURL is the Management API root for this environment: <base>/v1/environments/<env>.
func (s *Server) APIBaseURL() string { return s.srv.URL + "/v1/environments/" + s.env }

// WorkerCredentials returns the client id and secret the token endpoint accepts.
func (s *Server) WorkerCredentials() (clientID, clientSecret string) { return s.worker[0], s.worker[1] }

// Client is an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CAPEM is the server certificate in PEM, for components that take a CA bundle file; nil for
// a PlainHTTP server.
func (s *Server) CAPEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// CertPool holds the server certificate; nil for a PlainHTTP server.
func (s *Server) CertPool() *x509.CertPool {
	if s.srv.Certificate() == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

// JWKSFetches counts JWKS requests, including those answered with an outage.
func (s *Server) JWKSFetches() int64 { return s.jwksFetches.Load() }

// DiscoveryFetches counts discovery-document requests.
func (s *Server) DiscoveryFetches() int64 { return s.discoveryFetches.Load() }

// TokenRequests counts token-endpoint requests, successful or not.
func (s *Server) TokenRequests() int64 { return s.tokenRequests.Load() }

// APIRequests counts Management API requests, including rate-limited and unauthorized ones.
func (s *Server) APIRequests() int64 { return s.apiRequests.Load() }

// RateLimitNext answers the next n Management API requests with 429 REQUEST_LIMITED.
// retryAfter is sent verbatim as the Retry-After header (seconds or an HTTP date); empty omits
// the header, which PingOne's OpenAPI allows.
func (s *Server) RateLimitNext(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited = n
	s.retryAfter = retryAfter
}

// SetNextLinkRewrite lets a test change the _links.next.href of list pages, e.g. to point at
// another host or back at the first page; fn receives the page's self and next hrefs. nil
// restores normal paging.
func (s *Server) SetNextLinkRewrite(fn func(self, next string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextRewrite = fn
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	s.discoveryFetches.Add(1)
	if r.PathValue("env") != s.env {
		writeAPIError(w, http.StatusNotFound, notFoundError())
		return
	}
	doc := discoveryDocument(s.Issuer())
	s.mu.Lock()
	if s.introspectionHidden {
		delete(doc, "introspection_endpoint")
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", doc)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	s.jwksFetches.Add(1)
	if r.PathValue("env") != s.env {
		writeAPIError(w, http.StatusNotFound, notFoundError())
		return
	}
	s.mu.Lock()
	down := s.jwksDown
	s.mu.Unlock()
	if down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.cacheControl != "" {
		w.Header().Set("Cache-Control", s.cacheControl)
	}
	writeJSON(w, http.StatusOK, "application/json", s.jwks())
}

// discoveryDocument reproduces PingOne's discovery field set and values; only the base differs.
func discoveryDocument(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                issuer + "/authorize",
		"pushed_authorization_request_endpoint": issuer + "/par",
		"token_endpoint":                        issuer + "/token",
		"userinfo_endpoint":                     issuer + "/userinfo",
		"jwks_uri":                              issuer + "/jwks",
		"end_session_endpoint":                  issuer + "/signoff",
		"check_session_iframe":                  issuer + "/checksession",
		"introspection_endpoint":                issuer + "/introspect",
		"revocation_endpoint":                   issuer + "/revoke",
		"device_authorization_endpoint":         issuer + "/device_authorization",
		"claims_parameter_supported":            false,
		"request_parameter_supported":           true,
		"request_uri_parameter_supported":       false,
		"require_pushed_authorization_requests": false,
		"scopes_supported":                      []string{"openid", "profile", "email", "address", "phone"},
		"response_types_supported": []string{"code", "id_token", "token id_token", "code id_token",
			"code token", "code token id_token"},
		"response_modes_supported": []string{"pi.flow", "query", "fragment", "form_post"},
		"grant_types_supported": []string{"authorization_code", "implicit", "client_credentials", "refresh_token",
			"urn:ietf:params:oauth:grant-type:device_code"},
		"subject_types_supported":                     []string{"public"},
		"id_token_signing_alg_values_supported":       []string{"RS256"},
		"userinfo_signing_alg_values_supported":       []string{"none"},
		"request_object_signing_alg_values_supported": []string{"none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post",
			"client_secret_jwt", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512"},
		"claim_types_supported":                            []string{"normal"},
		"claims_supported": []string{"sub", "iss", "auth_time", "acr", "name", "given_name", "family_name",
			"middle_name", "preferred_username", "profile", "picture", "zoneinfo", "phone_number", "updated_at",
			"address", "email", "locale"},
		"code_challenge_methods_supported": []string{"plain", "S256"},
	}
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "pingonetest: marshal response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Correlation-Id", newUUID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// absolute turns a request URI into the absolute href PingOne puts in _links.
func (s *Server) absolute(u *url.URL) string {
	return s.srv.URL + u.RequestURI()
}

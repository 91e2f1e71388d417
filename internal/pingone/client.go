package pingone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// regionTLDs maps PingOne region codes (as in PINGONE_REGION_CODE) to their top-level domains.
var regionTLDs = map[string]string{
	"NA": "com",
	"EU": "eu",
	"CA": "ca",
	"AU": "com.au",
	"SG": "sg",
	"AP": "asia",
}

// Regions returns the supported region codes, sorted.
func Regions() []string {
	codes := make([]string, 0, len(regionTLDs))
	for c := range regionTLDs {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// Defaults for Config's zero values.
const (
	DefaultRegion       = "NA"
	DefaultMaxRetries   = 4
	DefaultMaxRetryWait = time.Minute
	DefaultPageSize     = 100
	defaultHTTPTimeout  = 30 * time.Second
	maxPageSize         = 1000
)

// Config is a worker application's connection to one PingOne environment.
type Config struct {
	// Region is a region code (NA, EU, CA, AU, SG, AP); default NA.
	Region        string
	EnvironmentID string
	ClientID      string
	ClientSecret  string
	// AuthHostname and APIHostname replace auth.pingone.<tld> and api.pingone.<tld>; a port may
	// be included. Requests always use HTTPS.
	AuthHostname string
	APIHostname  string
	// HTTPClient sends every request, including token requests; default a client with a 30 s
	// timeout. Set it to trust a private CA.
	HTTPClient *http.Client
	// MaxRetries bounds retries of one request on 429/503 (default 4; negative disables
	// retries); MaxRetryWait bounds the total time spent waiting for them (default 1 minute).
	MaxRetries   int
	MaxRetryWait time.Duration
	// PageSize is the limit asked for per collection page, 1–1000; default 100.
	PageSize int
}

// Client calls the PingOne Management API. It is safe for concurrent use.
type Client struct {
	env        string
	apiBase    *url.URL // https://<api host>/v1/environments/<env>
	creds      clientcredentials.Config
	hc         *http.Client
	maxRetries int
	maxWait    time.Duration
	pageSize   int

	mu    sync.Mutex
	token *oauth2.Token

	// now and wait are the clock and the sleeper; tests replace them to observe the delays the
	// client chooses without spending them.
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsID reports whether s has the shape of a PingOne id (a UUID): environment, group and
// application ids all do, so a configured value of this shape is an id, any other a name.
func IsID(s string) bool { return uuidPattern.MatchString(s) }

// New validates cfg and returns a client. It makes no request: credentials are first used, and
// so first checked, by the first API call.
func New(cfg Config) (*Client, error) {
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	tld, ok := regionTLDs[region]
	if !ok {
		return nil, fmt.Errorf("unknown PingOne region %q: use one of %s", region, strings.Join(Regions(), ", "))
	}
	if !IsID(cfg.EnvironmentID) {
		return nil, fmt.Errorf("PingOne environment id %q is not a UUID: copy it from the PingOne console "+
			"(Environment → Properties), e.g. aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa", cfg.EnvironmentID)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("PingOne client id and client secret are both required: use the credentials of a worker " +
			"application allowed to read groups")
	}
	authHost, err := hostname("authentication", cfg.AuthHostname, "auth.pingone."+tld)
	if err != nil {
		return nil, err
	}
	apiHost, err := hostname("API", cfg.APIHostname, "api.pingone."+tld)
	if err != nil {
		return nil, err
	}
	if cfg.PageSize < 0 || cfg.PageSize > maxPageSize {
		return nil, fmt.Errorf("PingOne page size %d is out of range: PingOne accepts 1 to %d", cfg.PageSize, maxPageSize)
	}
	c := &Client{
		env:     cfg.EnvironmentID,
		apiBase: &url.URL{Scheme: "https", Host: apiHost, Path: "/v1/environments/" + cfg.EnvironmentID},
		creds: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     (&url.URL{Scheme: "https", Host: authHost, Path: "/" + cfg.EnvironmentID + "/as/token"}).String(),
			// Worker apps default to client_secret_basic. Auto-detection would resend the secret in
			// the form body after any failure: a second exposure that can never fix bad credentials.
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		hc:         cfg.HTTPClient,
		maxRetries: cfg.MaxRetries,
		maxWait:    cfg.MaxRetryWait,
		pageSize:   cfg.PageSize,
		now:        time.Now,
		wait:       sleepCtx,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if c.maxRetries == 0 {
		c.maxRetries = DefaultMaxRetries
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.maxWait <= 0 {
		c.maxWait = DefaultMaxRetryWait
	}
	if c.pageSize == 0 {
		c.pageSize = DefaultPageSize
	}
	return c, nil
}

// TokenURL is where the client asks for its access token.
func (c *Client) TokenURL() string { return c.creds.TokenURL }

// APIBaseURL is the environment's Management API root, …/v1/environments/<env>.
func (c *Client) APIBaseURL() string { return c.apiBase.String() }

// hostname validates an override: a bare host with optional port, because the scheme is always
// https and the paths are PingOne's.
func hostname(what, override, def string) (string, error) {
	if override == "" {
		return def, nil
	}
	u, err := url.Parse("https://" + override)
	if err != nil || u.Host != override || u.User != nil || u.Hostname() == "" ||
		(u.Port() == "" && strings.HasSuffix(override, ":")) {
		return "", fmt.Errorf("PingOne %s hostname %q must be a host name with an optional port and no scheme or path, "+
			"e.g. %s or 127.0.0.1:8443", what, override, def)
	}
	return override, nil
}

// accessToken returns a cached token or fetches one. The lock is held during the fetch so that
// concurrent callers share one token request.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token.Valid() {
		return c.token.AccessToken, nil
	}
	tok, err := c.creds.Token(context.WithValue(ctx, oauth2.HTTPClient, c.hc))
	if err != nil {
		return "", c.tokenError(err)
	}
	c.token = tok
	return tok.AccessToken, nil
}

// dropToken forgets the cached token if it is still the one that was refused.
func (c *Client) dropToken(refused string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil && c.token.AccessToken == refused {
		c.token = nil
	}
}

func (c *Client) tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("requesting a PingOne access token from %s: %w", c.creds.TokenURL, err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	msg := fmt.Sprintf("PingOne refused the worker application's token request at %s: HTTP %d", c.creds.TokenURL, status)
	if re.ErrorCode != "" {
		msg += " " + re.ErrorCode
	}
	if re.ErrorDescription != "" {
		msg += ": " + strings.TrimSuffix(re.ErrorDescription, ".")
	}
	switch {
	case status == http.StatusUnauthorized || re.ErrorCode == "invalid_client":
		msg += ". Check the client id and client secret (PINGONE_CLIENT_ID, PINGONE_CLIENT_SECRET) and that the " +
			"application is a worker app whose token endpoint authentication method is client_secret_basic"
	case status == http.StatusNotFound:
		msg += ". Check the environment id and region (or auth hostname)"
	}
	return errors.New(msg)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

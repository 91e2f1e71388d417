package natspingclient_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
	"github.com/natsping/terraform-provider-natsping/internal/serverconfig"
	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// appAccountName is the target account's name; a client that selects an account sends it
// as the user name.
const appAccountName = "APP"

// world is the deployment a natspingclient user faces: a PingOne-shaped issuer whose token
// endpoint can be taken down, nats-server booted from the config the provider renders
// (operator mode, memory resolver, default sentinel, JetStream), and natsping-callout
// admitting the issuer's worker application to one role of the APP account.
type world struct {
	idp      *pingonetest.Server
	natsURL  string
	tokenURL string // the issuer's token endpoint, behind a switch
	issuerUp atomic.Bool
	doc      *calloutconfig.Document // the callout's configuration, to start another replica
	callout  *callout.Service        // the replica newWorld started
}

func must[T any](v T, err error) T {
	if err != nil {
		panic("test harness: " + err.Error())
	}
	return v
}

func keyPair(create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string, string) {
	kp := must(create())
	return kp, must(kp.PublicKey()), string(must(kp.Seed()))
}

// newWorld starts everything with client-credentials tokens that live for tokenLifetime.
func newWorld(t *testing.T, tokenLifetime time.Duration) *world {
	t.Helper()
	w := &world{idp: pingonetest.New(pingonetest.Options{TokenLifetime: tokenLifetime})}
	t.Cleanup(w.idp.Close)
	w.issuerUp.Store(true)
	w.tokenURL = w.tokenEndpointSwitch(t)

	okp, opub, _ := keyPair(nkeys.CreateOperator)
	_, sysPub, _ := keyPair(nkeys.CreateAccount)
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "OP"
	oc.SystemAccount = sysPub
	sys := jwt.NewAccountClaims(sysPub)
	sys.Name = "SYS"

	// The role's template is left empty (everything allowed): what a role may do is the
	// server's business, tested elsewhere; here only staying connected matters.
	_, appPub, _ := keyPair(nkeys.CreateAccount)
	_, rolePub, roleSeed := keyPair(nkeys.CreateAccount)
	app := jwt.NewAccountClaims(appPub)
	app.Name = appAccountName
	app.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	scope := jwt.NewUserScope()
	scope.Key, scope.Role = rolePub, "service"
	app.SigningKeys.AddScopedSigner(scope)

	calloutKP, calloutPub, calloutSeed := keyPair(nkeys.CreateAccount)
	_, svcPub, svcSeed := keyPair(nkeys.CreateUser)
	svc := jwt.NewUserClaims(svcPub)
	svc.Name = "natsping-callout"
	serviceCreds := string(must(jwt.FormatUserConfig(must(svc.Encode(calloutKP)), []byte(svcSeed))))
	ca := jwt.NewAccountClaims(calloutPub)
	ca.Name = "CALLOUT"
	ca.EnableExternalAuthorization(svcPub)
	ca.Authorization.AllowedAccounts.Add(appPub)

	_, sentPub, _ := keyPair(nkeys.CreateUser)
	sentinel := jwt.NewUserClaims(sentPub)
	sentinel.BearerToken = true
	sentinel.Pub.Deny.Add(">")
	sentinel.Sub.Deny.Add(">")

	out, err := serverconfig.Render(serverconfig.Input{
		OperatorJWT:     must(oc.Encode(okp)),
		SystemAccount:   sysPub,
		AccountJWTs:     []string{must(sys.Encode(okp)), must(app.Encode(okp)), must(ca.Encode(okp))},
		Resolver:        serverconfig.Resolver{Type: serverconfig.ResolverMemory},
		DefaultSentinel: must(sentinel.Encode(calloutKP)),
		JetStream:       &serverconfig.JetStream{},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.natsURL = natstest.StartServer(t, out.Config).URL

	workerID, _ := w.idp.WorkerCredentials()
	doc := &calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer: calloutconfig.Issuer{
			URL:              w.idp.Issuer(),
			Audiences:        []string{pingonetest.APIAudience},
			Algorithms:       []string{"RS256"},
			MaxTokenLifetime: calloutconfig.Duration(time.Hour),
			// No tolerance: an expired token must be refused at once, or the refused
			// reconnects of the outage test would not happen.
			ClockSkew:              0,
			GroupsClaim:            "groups",
			NameClaims:             []string{"name"},
			JWKSURL:                w.idp.JWKSURL(),
			CABundlePEM:            string(w.idp.CAPEM()),
			JWKSMinRefreshInterval: calloutconfig.Duration(calloutconfig.JWKSRefreshBounds.Min),
		},
		NATS: calloutconfig.NATS{
			URLs:               []string{w.natsURL},
			CalloutAccount:     calloutPub,
			CalloutAccountSeed: calloutSeed,
			Creds:              serviceCreds,
			QueueGroup:         "natsping-callout",
		},
		Mappings: []calloutconfig.Mapping{{
			Name: "app-service", Account: appPub, AccountName: appAccountName, Role: "service",
			RoleSigningKey: rolePub, RoleSigningKeySeed: roleSeed,
			ClientIDs: []string{workerID},
			// Far longer than a token: every disconnect in these tests comes from the token's exp.
			MaxSession: calloutconfig.Duration(time.Hour),
		}},
	}
	w.doc = doc
	w.callout = w.startCallout(t)
	return w
}

// startCallout starts a callout replica on the world's configuration and stops it when the
// test ends.
func (w *world) startCallout(t *testing.T) *callout.Service {
	t.Helper()
	s, err := callout.New(w.doc, callout.Options{AuditWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	waitFor(t, "the callout to be ready", func() bool { return s.Ready() == nil })
	return s
}

// tokenEndpointSwitch serves the issuer's token endpoint while issuerUp holds and answers
// 503 otherwise, the way an issuer outage looks to an OAuth client.
func (w *world) tokenEndpointSwitch(t *testing.T) string {
	upstream := w.idp.Client()
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !w.issuerUp.Load() {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusServiceUnavailable)
			_, _ = rw.Write([]byte(`{"error":"temporarily_unavailable","error_description":"the issuer is down"}`))
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequestWithContext(r.Context(), r.Method, w.idp.TokenURL(), bytes.NewReader(body))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := upstream.Do(req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			rw.Header()[k] = v
		}
		rw.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(rw, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL + "/as/token"
}

// tokenSource is what a service would build: the worker application's client credentials.
func (w *world) tokenSource(t *testing.T) oauth2.TokenSource {
	id, secret := w.idp.WorkerCredentials()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return natspingclient.ClientCredentials(ctx, &clientcredentials.Config{
		ClientID: id, ClientSecret: secret, TokenURL: w.tokenURL, AuthStyle: oauth2.AuthStyleInHeader,
	})
}

// waitFor polls cond until it holds; the bound only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

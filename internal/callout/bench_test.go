package callout

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// The decision benchmarks and the floor benchmarks run in one `go test -bench` so their
// ratio is meaningful: BenchmarkFloor is the crypto a decision cannot avoid (RS256 verify,
// request decode, user JWT sign, response sign, xkey open and seal) done the plain way with
// go-jose, jwt and nkeys; decisions/s ÷ floor ops/s is the efficiency SPEC §7 sets targets on.

type benchFixture struct {
	c        *coreEnv
	idp      *pingonetest.Server
	keys     *oidc.StaticKeySet
	tokens   []string
	requests [][]byte // sealed requests, request i carries tokens[i%len(tokens)]
	plain    []string // the same requests before sealing
}

func newBenchFixture(b *testing.B, distinctTokens, requests int) *benchFixture {
	b.Helper()
	return newBenchFixtureWith(b, distinctTokens, requests, func(i int) pingonetest.TokenOptions {
		return pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers", "staff"}, Extra: map[string]any{"name": "Alice", "n": i}}
	})
}

// benchServiceClient is the client id of the service tokens BenchmarkDecisionServiceToken
// presents.
const benchServiceClient = "8f1c2d3e-0000-4000-8000-00000000be0c"

func newBenchFixtureWith(b *testing.B, distinctTokens, requests int, token func(i int) pingonetest.TokenOptions) *benchFixture {
	b.Helper()
	f := &benchFixture{c: newCoreEnv(b, true), idp: pingonetest.New(pingonetest.Options{})}
	b.Cleanup(f.idp.Close)
	resp, err := f.idp.Client().Get(f.idp.JWKSURL())
	if err != nil {
		b.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("JWKS: %d", resp.StatusCode)
	}
	if f.keys, err = oidc.NewStaticKeySet(jwks); err != nil {
		b.Fatal(err)
	}
	for i := range distinctTokens {
		f.tokens = append(f.tokens, f.idp.IssueToken(token(i)))
	}
	for i := range requests {
		f.requests = append(f.requests, f.sealedRequest(b, f.tokens[i%len(f.tokens)]))
	}
	return f
}

// sealedRequest is an authorization request carrying tok, sealed to the callout's xkey as
// the server sends it; its plain form is kept in f.plain.
func (f *benchFixture) sealedRequest(b *testing.B, tok string) []byte {
	b.Helper()
	plainEnv := *f.c
	plainEnv.xkeySeed = ""
	p, _, _ := plainEnv.request(b, func(rc *jwt.AuthorizationRequestClaims) {
		rc.ConnectOptions.Token = tok
		rc.Server.XKey = f.c.serverXPub
	})
	sealed, err := f.c.serverXKP.Seal(p, f.c.xkeyPub)
	if err != nil {
		b.Fatal(err)
	}
	f.plain = append(f.plain, string(p))
	return sealed
}

func (f *benchFixture) engine(b *testing.B, cacheSize int) *engine {
	b.Helper()
	return f.engineWith(b, oidc.VerifierOptions{CacheSize: cacheSize})
}

func (f *benchFixture) engineWith(b *testing.B, opts oidc.VerifierOptions) *engine {
	b.Helper()
	v, err := oidc.NewVerifier(oidc.Policy{
		Issuer: f.idp.Issuer(), Audiences: []string{pingonetest.APIAudience}, Algorithms: []string{"RS256"},
		MaxTokenLifetime: 2 * time.Hour, ClockSkew: 30 * time.Second, RequiredScopes: []string{"openid"},
		GroupsClaim: "groups", NameClaims: []string{"name"},
	}, f.keys, opts)
	if err != nil {
		b.Fatal(err)
	}
	services := f.c.orders.mapping("orders-services", "writer", 0)
	services.Groups, services.ClientIDs, services.Scopes = nil, []string{benchServiceClient}, []string{"nats:publish"}
	e, err := newEngine(f.c.doc(f.c.orders.mapping("orders-readers", "reader", 0, "order-readers"), services), v, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func runDecisions(b *testing.B, e *engine, f *benchFixture) {
	b.Helper()
	ctx := context.Background()
	hdr := f.c.serverXPub
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, d := e.handle(ctx, f.requests[i%len(f.requests)], hdr)
		if !d.Allowed {
			b.Fatalf("refused: %s %s", d.Reason, d.Detail)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkDecisionCold verifies every token from scratch (no verifier cache): RS256 verify,
// request open and decode, user JWT and response signing, reply sealing.
func BenchmarkDecisionCold(b *testing.B) {
	f := newBenchFixture(b, 64, 256)
	runDecisions(b, f.engine(b, 0), f)
}

// BenchmarkDecisionRepeatedToken is a reconnect storm: the same token again, answered from
// the verifier's cache (keyed by the token's hash, valid until its exp).
func BenchmarkDecisionRepeatedToken(b *testing.B) {
	f := newBenchFixture(b, 1, 256)
	runDecisions(b, f.engine(b, 1024), f)
}

// BenchmarkDecisionServiceToken is BenchmarkDecisionCold for client-credentials tokens: no
// sub, matched by client id and scope instead of groups.
func BenchmarkDecisionServiceToken(b *testing.B) {
	f := newBenchFixtureWith(b, 64, 256, func(i int) pingonetest.TokenOptions {
		return pingonetest.TokenOptions{ClientCredentials: true, ClientID: benchServiceClient,
			Scope: "openid nats:publish", Extra: map[string]any{"n": i}}
	})
	runDecisions(b, f.engine(b, 0), f)
}

type floorParts struct {
	token       string
	rsaKey      any
	userKP      nkeys.KeyPair // a role key as nkeys gives it (seed-derived on every use)
	accountKP   nkeys.KeyPair
	userNkey    string
	serverID    string
	plain       string
	sealed      []byte
	serviceX    nkeys.KeyPair
	serverXPub  string
	responseJWT []byte
}

func newFloorParts(b *testing.B) *floorParts {
	b.Helper()
	f := newBenchFixture(b, 1, 1)
	p := &floorParts{token: f.tokens[0], plain: f.plain[0], sealed: f.requests[0], serverXPub: f.c.serverXPub, serverID: f.c.serverPub}
	jws, err := jose.ParseSignedCompact(p.token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		b.Fatal(err)
	}
	key, err := f.keys.KeyFor(context.Background(), jws.Signatures[0].Header.KeyID, "RS256")
	if err != nil {
		b.Fatal(err)
	}
	p.rsaKey = key.Key
	fromSeed := func(seed string) nkeys.KeyPair {
		kp, err := nkeys.FromSeed([]byte(seed))
		if err != nil {
			b.Fatal(err)
		}
		return kp
	}
	p.userKP = fromSeed(f.c.orders.roles["reader"])
	p.accountKP = fromSeed(f.c.calloutSeed)
	p.serviceX, err = nkeys.FromCurveSeed([]byte(f.c.xkeySeed))
	if err != nil {
		b.Fatal(err)
	}
	_, p.userNkey, _ = newKP(b, nkeys.CreateUser)
	p.responseJWT = []byte(p.responseSign(b, p.userSign(b)))
	return p
}

func (p *floorParts) rs256Verify(b *testing.B) {
	jws, err := jose.ParseSignedCompact(p.token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := jws.Verify(p.rsaKey); err != nil {
		b.Fatal(err)
	}
}

func (p *floorParts) userSign(b *testing.B) string {
	uc := jwt.NewUserClaims(p.userNkey)
	uc.Name, uc.IssuerAccount, uc.Expires = "Alice", "ABC", time.Now().Add(time.Hour).Unix()
	uc.SetScoped(true)
	uc.Tags.Add("ping-sub:"+aliceID, "role:reader", "mapping:orders-readers")
	out, err := uc.Encode(p.userKP)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func (p *floorParts) requestDecode(b *testing.B) {
	if _, err := jwt.DecodeAuthorizationRequestClaims(p.plain); err != nil {
		b.Fatal(err)
	}
}

func (p *floorParts) responseSign(b *testing.B, ujwt string) string {
	rc := jwt.NewAuthorizationResponseClaims(p.userNkey)
	rc.Audience, rc.Jwt = p.serverID, ujwt
	out, err := rc.Encode(p.accountKP)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func (p *floorParts) xkeyOpen(b *testing.B) {
	if _, err := p.serviceX.Open(p.sealed, p.serverXPub); err != nil {
		b.Fatal(err)
	}
}

func (p *floorParts) xkeySeal(b *testing.B) {
	if _, err := p.serviceX.Seal(p.responseJWT, p.serverXPub); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkFloorRS256Verify(b *testing.B) {
	p := newFloorParts(b)
	for b.Loop() {
		p.rs256Verify(b)
	}
}

func BenchmarkFloorUserJWTSign(b *testing.B) {
	p := newFloorParts(b)
	for b.Loop() {
		p.userSign(b)
	}
}

func BenchmarkFloorRequestDecode(b *testing.B) {
	p := newFloorParts(b)
	for b.Loop() {
		p.requestDecode(b)
	}
}

func BenchmarkFloorResponseSign(b *testing.B) {
	p := newFloorParts(b)
	ujwt := p.userSign(b)
	for b.Loop() {
		p.responseSign(b, ujwt)
	}
}

func BenchmarkFloorXKeySeal(b *testing.B) {
	p := newFloorParts(b)
	for b.Loop() {
		p.xkeySeal(b)
	}
}

func BenchmarkFloorXKeyOpen(b *testing.B) {
	p := newFloorParts(b)
	for b.Loop() {
		p.xkeyOpen(b)
	}
}

// BenchmarkFloor is the six pieces back to back: one decision's unavoidable crypto.
func BenchmarkFloor(b *testing.B) {
	p := newFloorParts(b)
	for b.Loop() {
		p.xkeyOpen(b)
		p.requestDecode(b)
		p.rs256Verify(b)
		p.responseSign(b, p.userSign(b))
		p.xkeySeal(b)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "floor_decisions/s")
}

// BenchmarkConnectStorm has stormClients clients connect and close at once, through the
// callout (token only, default sentinel, xkey on), with static creds against the same
// embedded server, and through a null callout (startNullCallout) on a second one. One op is
// one storm of each kind; the ratios of connect rates and the latency percentiles are
// reported as metrics.
func BenchmarkConnectStorm(b *testing.B) {
	// xkey=off shows what the encryption of requests and replies costs the whole path.
	for _, xkey := range []bool{true, false} {
		b.Run(fmt.Sprintf("xkey=%v", map[bool]string{true: "on", false: "off"}[xkey]), func(b *testing.B) {
			connectStorm(b, xkey)
		})
	}
}

func connectStorm(b *testing.B, xkey bool) {
	const stormClients = 50
	idp := pingonetest.New(pingonetest.Options{})
	b.Cleanup(idp.Close)
	e := newNATSEnv(b, envOptions{xkey: xkey})
	doc := e.doc(issuerFor(idp), e.orders.mapping("orders-readers", "reader", 0, "order-readers"))
	startService(b, doc, Options{AuditWriter: io.Discard})
	tokens := make([]string, stormClients)
	for i := range tokens {
		tokens[i] = idp.IssueToken(pingonetest.TokenOptions{Groups: []string{"order-readers"}, Extra: map[string]any{"n": i}})
	}
	staticJWT, err := jwt.ParseDecoratedJWT([]byte(e.staticCreds))
	if err != nil {
		b.Fatal(err)
	}
	staticKP, err := jwt.ParseDecoratedUserNKey([]byte(e.staticCreds))
	if err != nil {
		b.Fatal(err)
	}
	staticSeed, _ := staticKP.Seed()
	// The null callout runs on a server of its own, built the same way, in the same run.
	nullEnv := newNATSEnv(b, envOptions{xkey: xkey})
	startNullCallout(b, nullEnv, nullEnv.orders.mapping("orders-readers", "reader", 0, "order-readers"))

	storm := func(connect func(i int) (*nats.Conn, error)) (time.Duration, []time.Duration) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		lat := make([]time.Duration, 0, stormClients)
		start := time.Now()
		for i := range stormClients {
			wg.Go(func() {
				t0 := time.Now()
				nc, err := connect(i)
				if err != nil {
					b.Errorf("connect refused: %v", err)
					return
				}
				d := time.Since(t0)
				nc.Close()
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		return time.Since(start), lat
	}
	viaCallout := func(i int) (*nats.Conn, error) { return e.connectToken(tokens[i], "") }
	viaStatic := func(int) (*nats.Conn, error) {
		return nats.Connect(e.url, nats.UserJWTAndSeed(staticJWT, string(staticSeed)), nats.MaxReconnects(0))
	}
	viaNull := func(i int) (*nats.Conn, error) {
		return nats.Connect(nullEnv.url, nats.Token(tokens[i]), nats.MaxReconnects(0), nats.Timeout(5*time.Second))
	}
	storm(viaCallout) // warm the verifier cache and the server's account lookups
	storm(viaStatic)
	storm(viaNull)

	var calloutWall, staticWall, nullWall time.Duration
	var calloutLat, staticLat, nullLat []time.Duration
	for b.Loop() {
		w, l := storm(viaCallout)
		calloutWall += w
		calloutLat = append(calloutLat, l...)
		w, l = storm(viaStatic)
		staticWall += w
		staticLat = append(staticLat, l...)
		w, l = storm(viaNull)
		nullWall += w
		nullLat = append(nullLat, l...)
	}
	calloutRate := float64(len(calloutLat)) / calloutWall.Seconds()
	staticRate := float64(len(staticLat)) / staticWall.Seconds()
	nullRate := float64(len(nullLat)) / nullWall.Seconds()
	b.ReportMetric(calloutRate, "callout_conn/s")
	b.ReportMetric(staticRate, "static_conn/s")
	b.ReportMetric(nullRate, "null_conn/s")
	b.ReportMetric(calloutRate/staticRate, "callout/static")
	// What this server lets any callout reach; the goal is at least 0.9 with xkey on.
	b.ReportMetric(calloutRate/nullRate, "callout/null")
	b.ReportMetric(percentile(nullLat, 50), "null_p50_ms")
	b.ReportMetric(percentile(nullLat, 99), "null_p99_ms")
	b.ReportMetric(percentile(calloutLat, 50), "callout_p50_ms")
	b.ReportMetric(percentile(calloutLat, 99), "callout_p99_ms")
	b.ReportMetric(percentile(staticLat, 50), "static_p50_ms")
	b.ReportMetric(percentile(staticLat, 99), "static_p99_ms")
}

func percentile(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	idx := (len(s)*p + 99) / 100
	if idx > 0 {
		idx--
	}
	return float64(s[idx]) / float64(time.Millisecond)
}

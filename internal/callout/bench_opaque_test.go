package callout

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// opaqueBenchEngine is benchFixture.engine for opaque tokens: the verifier introspects at the
// fixture issuer over TLS (freshFor < 0 asks on every decision, a long freshFor answers from
// the cache), and every request of the fixture carries one opaque token.
func opaqueBenchEngine(b *testing.B, freshFor time.Duration) (*engine, *benchFixture) {
	b.Helper()
	f := newBenchFixtureWith(b, 1, 256, func(int) pingonetest.TokenOptions { return pingonetest.TokenOptions{} })
	tok := f.idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}, Extra: map[string]any{"name": "Alice"}})
	f.tokens = []string{tok}
	f.requests = f.requests[:0]
	for range 256 {
		f.requests = append(f.requests, f.sealedRequest(b, tok))
	}
	client, err := oidc.NewHTTPClient(string(f.idp.CAPEM()), false, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	id, secret := f.idp.IntrospectionCredentials()
	in, err := oidc.NewIntrospector(oidc.IntrospectorOptions{Endpoint: f.idp.PingFederateIntrospectionURL(), Issuer: f.idp.Issuer(),
		ClientID: id, ClientSecret: secret, Client: client, FreshFor: freshFor, Rate: rate.Inf})
	if err != nil {
		b.Fatal(err)
	}
	return f.engineWith(b, oidc.VerifierOptions{Introspector: in}), f
}

// BenchmarkDecisionOpaqueCached: an opaque token answered from the introspection cache.
func BenchmarkDecisionOpaqueCached(b *testing.B) {
	e, f := opaqueBenchEngine(b, time.Hour)
	runDecisions(b, e, f)
}

// BenchmarkDecisionOpaqueMiss: every decision asks the local fixture issuer (one TLS POST
// on a kept-alive connection; a real PingFederate adds the network round trip).
func BenchmarkDecisionOpaqueMiss(b *testing.B) {
	e, f := opaqueBenchEngine(b, -1)
	runDecisions(b, e, f)
}

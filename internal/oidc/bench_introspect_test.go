package oidc

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// benchIntrospection is a verifier whose introspector asks a local pingonetest issuer over
// TLS, as the callout asks PingFederate, and one opaque token that issuer answers for.
func benchIntrospection(b *testing.B, freshFor time.Duration) (*Verifier, *pingonetest.Server, string) {
	b.Helper()
	idp := pingonetest.New(pingonetest.Options{})
	b.Cleanup(idp.Close)
	client, err := NewHTTPClient(string(idp.CAPEM()), false, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	id, secret := idp.IntrospectionCredentials()
	in, err := NewIntrospector(IntrospectorOptions{Endpoint: idp.PingFederateIntrospectionURL(), Issuer: idp.Issuer(),
		ClientID: id, ClientSecret: secret, Client: client, FreshFor: freshFor, Rate: rate.Inf})
	if err != nil {
		b.Fatal(err)
	}
	p := Policy{Issuer: idp.Issuer(), Audiences: []string{pingonetest.APIAudience}, Algorithms: []string{"RS256"},
		MaxTokenLifetime: 2 * time.Hour, ClockSkew: 30 * time.Second, RequiredScopes: []string{"openid"},
		GroupsClaim: "groups", NameClaims: []string{"name"}}
	keys, err := NewStaticKeySet(jwksOf(b, rsaTestKey(0, "k1").public()))
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewVerifier(p, keys, VerifierOptions{Introspector: in})
	if err != nil {
		b.Fatal(err)
	}
	tok := idp.IssueOpaqueToken(pingonetest.TokenOptions{Subject: "bench", Groups: []string{"nats-readers"}})
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	return v, idp, tok
}

// BenchmarkIntrospectCached is an opaque token answered less than FreshFor ago: hash, cache
// lookup and the full policy on the cached answer, no request.
func BenchmarkIntrospectCached(b *testing.B) {
	v, idp, tok := benchIntrospection(b, time.Hour)
	ctx := context.Background()
	before := idp.IntrospectionRequests()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	if n := idp.IntrospectionRequests() - before; n != 0 {
		b.Fatalf("%d requests on cache hits", n)
	}
}

// BenchmarkIntrospectMiss asks the local issuer on every decision (FreshFor < 0): one
// authenticated POST over a kept-alive TLS connection, the fixture's answer, parsing and
// policy. Against a real PingFederate the network round trip is added.
func BenchmarkIntrospectMiss(b *testing.B) {
	v, idp, tok := benchIntrospection(b, -1)
	ctx := context.Background()
	before := idp.IntrospectionRequests()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	if n := idp.IntrospectionRequests() - before; n != int64(b.N) {
		b.Fatalf("%d requests for %d decisions", n, b.N)
	}
}

package oidc

import (
	"context"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func benchVerifier(b *testing.B, cacheSize int) (*Verifier, string) {
	b.Helper()
	k1 := rsaTestKey(0, "k1")
	keys, err := NewStaticKeySet(jwksOf(b, k1.public()))
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewVerifier(testPolicy(), keys, VerifierOptions{Now: func() time.Time { return testEpoch }, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	return v, signClaims(b, k1, pingClaims(testEpoch), nil)
}

// BenchmarkVerifyRS256Cold is a full decision on a PingOne-shaped token: parse, key lookup,
// RS256 verify and every policy check, with no cache.
func BenchmarkVerifyRS256Cold(b *testing.B) {
	v, raw := benchVerifier(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached is a token seen before: hash, cache lookup, clock and key re-check.
func BenchmarkVerifyCached(b *testing.B) {
	v, raw := benchVerifier(b, 1024)
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRS256VerifyRaw is the crypto floor: go-jose parse and RS256 verify, no policy.
func BenchmarkRS256VerifyRaw(b *testing.B) {
	_, raw := benchVerifier(b, 0)
	pub := &rsaPool()[0].PublicKey
	algs := []jose.SignatureAlgorithm{jose.RS256}
	b.ReportAllocs()
	for b.Loop() {
		jws, err := jose.ParseSignedCompact(raw, algs)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jws.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRS256ColdRemote is BenchmarkVerifyRS256Cold against a warm RemoteKeySet, the
// key set the callout uses: the unknown-kid machinery must cost nothing for a cached kid.
func BenchmarkVerifyRS256ColdRemote(b *testing.B) {
	k1 := rsaTestKey(0, "k1")
	srv := newJWKSServer(b, jwksOf(b, k1.public()))
	keys := NewRemoteKeySet(loopbackClient(b), srv.URL+"/as/jwks", RemoteKeySetOptions{Now: func() time.Time { return testEpoch }})
	ctx := context.Background()
	if err := keys.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	v, err := NewVerifier(testPolicy(), keys, VerifierOptions{Now: func() time.Time { return testEpoch }})
	if err != nil {
		b.Fatal(err)
	}
	raw := signClaims(b, k1, pingClaims(testEpoch), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

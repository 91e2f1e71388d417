package pingonetest

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// PingOne's rotation as verifiers see it: the next key is published first, signs only after
// RotateKey, and a standard OIDC client that fetched the JWKS in between verifies its tokens.
func TestPublishNextKeyAnnouncesBeforeSigning(t *testing.T) {
	t.Parallel()
	srv := New(Options{JWKSCacheControl: "public, max-age=300"})
	t.Cleanup(srv.Close)
	first := srv.ActiveKeyID()

	next := srv.PublishNextKey()
	if again := srv.PublishNextKey(); again != next {
		t.Fatalf("PublishNextKey before the rotation returned %q, then %q", next, again)
	}
	if got := srv.PublishedKeyIDs(); !slices.Equal(got, []string{first, next}) {
		t.Fatalf("JWKS after announcing = %v, want %v", got, []string{first, next})
	}
	if kid := headerKID(t, srv.IssueToken(TokenOptions{})); kid != first {
		t.Fatalf("an announced key signed a token (kid %q) before the rotation", kid)
	}
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	ks := oidc.NewRemoteKeySet(ctx, srv.JWKSURL())
	if _, err := ks.VerifySignature(ctx, srv.IssueToken(TokenOptions{})); err != nil {
		t.Fatal(err) // the client has now fetched the JWKS that announces next
	}

	if rotated := srv.RotateKey(); rotated != next || srv.ActiveKeyID() != next {
		t.Fatalf("RotateKey returned %q (active %q), want the announced %q", rotated, srv.ActiveKeyID(), next)
	}
	if _, err := ks.VerifySignature(ctx, srv.IssueToken(TokenOptions{})); err != nil {
		t.Fatalf("token of the announced key: %v", err)
	}
	if got := srv.PublishedKeyIDs(); !slices.Equal(got, []string{first, next}) {
		t.Fatalf("JWKS after the rotation = %v", got)
	}
	if fresh := srv.RotateKey(); fresh == next || slices.Contains([]string{first, next}, fresh) {
		t.Fatalf("a rotation without an announced key reused %q", fresh)
	}

	req, err := http.NewRequest(http.MethodGet, srv.JWKSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := do(t, srv.Client(), req, http.StatusOK, nil); h.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("JWKS Cache-Control = %q", h.Get("Cache-Control"))
	}
}

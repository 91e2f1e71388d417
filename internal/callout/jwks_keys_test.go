package callout

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

func running(ks *keySource) bool {
	select {
	case <-ks.stopped:
		return false
	default:
		return true
	}
}

func waitStopped(t *testing.T, ks *keySource, what string) {
	t.Helper()
	select {
	case <-ks.stopped:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the background refresh did not stop", what)
	}
}

func loaded(t *testing.T, ks *keySource) {
	t.Helper()
	// Joins the refresh start() began, so the keys are loaded when it returns.
	if err := ks.remote.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// One owner decides when a key set lives: a policy-only change keeps it, a new key source
// replaces it and stops the old refresh, a reload that fails leaves the live set alone.
func TestJWKSKeysLifecycleAcrossReloads(t *testing.T) {
	t.Parallel()
	idp1 := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp1.Close)
	idp2 := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp2.Close)
	o := &jwksKeys{now: time.Now}

	first, err := o.prepare(issuerFor(idp1))
	if err != nil {
		t.Fatal(err)
	}
	o.commit(first)
	loaded(t, first)

	policyOnly := issuerFor(idp1)
	policyOnly.ForbiddenScopes = append(policyOnly.ForbiddenScopes, "p1:update:env")
	policyOnly.ClockSkew = calloutconfig.Duration(45 * time.Second)
	same, err := o.prepare(policyOnly)
	if err != nil {
		t.Fatal(err)
	}
	if same != first {
		t.Fatal("a policy-only change got a new key set; its cached keys would be lost")
	}
	o.commit(same)
	if !running(first) {
		t.Fatal("committing the live set again stopped its refresh")
	}

	failed, err := o.prepare(issuerFor(idp2))
	if err != nil {
		t.Fatal(err)
	}
	if failed == first {
		t.Fatal("a new JWKS URL reused the old key set")
	}
	o.discard(failed) // the rest of that reload did not build
	waitStopped(t, failed, "a discarded set")
	if !running(first) {
		t.Fatal("discarding a prepared set stopped the live one")
	}

	second, err := o.prepare(issuerFor(idp2))
	if err != nil {
		t.Fatal(err)
	}
	loaded(t, second)
	o.commit(second)
	waitStopped(t, first, "the replaced set")
	o.discard(second) // discarding the live set is a no-op
	if !running(second) {
		t.Fatal("discard stopped the live set")
	}
	if k, err := second.keys.KeyFor(context.Background(), idp2.ActiveKeyID(), "RS256"); err != nil || k == nil {
		t.Fatalf("new set's key: %v", err)
	}

	// The replaced and the discarded sets' fetches stay counted; Keys is the live set's.
	st := o.stats()
	want := uint64(idp1.JWKSFetches() + idp2.JWKSFetches())
	if st.Fetches != want || st.Keys != 1 || st.LastError != "" {
		t.Fatalf("stats = %+v, want %d fetches (the issuers counted %d and %d)", st, want, idp1.JWKSFetches(), idp2.JWKSFetches())
	}

	o.close()
	waitStopped(t, second, "the live set at shutdown")
}

func TestJWKSKeysPinnedKeysNeverFetch(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	o := &jwksKeys{now: time.Now}
	remote, err := o.prepare(issuerFor(idp))
	if err != nil {
		t.Fatal(err)
	}
	o.commit(remote)
	loaded(t, remote)
	if !o.remote() {
		t.Fatal("a JWKS URL is not reported as remote")
	}

	remoteFetches := uint64(idp.JWKSFetches())
	jwks, err := oidcFetchJWKS(idp)
	if err != nil {
		t.Fatal(err)
	}
	pinned := issuerFor(idp)
	pinned.PinnedJWKS = jwks
	ks, err := o.prepare(pinned)
	if err != nil {
		t.Fatal(err)
	}
	if ks == remote || ks.remote != nil {
		t.Fatal("pinned keys got a remote key set")
	}
	o.commit(ks)
	waitStopped(t, remote, "the remote set replaced by pinned keys")
	before := idp.JWKSFetches()
	if _, err := ks.keys.KeyFor(context.Background(), "not-pinned", "RS256"); err == nil {
		t.Fatal("an unknown kid verified against pinned keys")
	}
	if o.remote() || idp.JWKSFetches() != before {
		t.Fatalf("pinned keys fetched (%d → %d) or are reported remote", before, idp.JWKSFetches())
	}
	if st := o.stats(); st.Keys != 0 || st.Fetches != remoteFetches {
		t.Fatalf("stats with pinned keys = %+v", st)
	}
	o.close()
	waitStopped(t, ks, "pinned set at shutdown")
}

func oidcFetchJWKS(idp *pingonetest.Server) (json.RawMessage, error) {
	return oidc.FetchJWKS(context.Background(), idp.Client(), idp.JWKSURL())
}

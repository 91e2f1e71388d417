package callout

import (
	"testing"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// A reload that moves the callout to another issuer gets a new key set; the old one's
// background refresh stops, and the JWKS counters still include what it fetched.
func TestServiceReloadToAnotherIssuerReplacesTheKeySet(t *testing.T) {
	t.Parallel()
	idp1 := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp1.Close)
	idp2 := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp2.Close)
	e := newNATSEnv(t, envOptions{xkey: true})
	s, _ := startService(t, e.doc(issuerFor(idp1), e.orders.mapping("devs", "reader", 0, "developers")), Options{})
	first := s.state.Load().iss.keys

	policyOnly := e.doc(issuerFor(idp1), e.orders.mapping("devs", "reader", 0, "developers"))
	policyOnly.Issuer.ForbiddenScopes = append(policyOnly.Issuer.ForbiddenScopes, "p1:update:env")
	if err := s.Reload(policyOnly); err != nil {
		t.Fatal(err)
	}
	if got := s.state.Load().iss.keys; got != first || !running(first) {
		t.Fatal("a policy-only reload replaced or stopped the key set")
	}

	if err := s.Reload(e.doc(issuerFor(idp2), e.orders.mapping("devs", "reader", 0, "developers"))); err != nil {
		t.Fatal(err)
	}
	second := s.state.Load().iss.keys
	if second == first {
		t.Fatal("a reload to another issuer kept the old key set")
	}
	waitStopped(t, first, "the key set of the previous issuer")
	nc, err := e.connectToken(idp2.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}}), "")
	if err != nil {
		t.Fatalf("token of the new issuer: %v", err)
	}
	nc.Close()
	if nc, err := e.connectToken(idp1.IssueToken(pingonetest.TokenOptions{Groups: []string{"developers"}}), ""); err == nil {
		nc.Close()
		t.Fatal("a token of the previous issuer was still accepted")
	}
	if st, want := s.keyStats(), uint64(idp1.JWKSFetches()+idp2.JWKSFetches()); st.Fetches != want {
		t.Fatalf("JWKS fetches counted %d, the issuers saw %d", st.Fetches, want)
	}
	if err := s.Ready(); err != nil {
		t.Fatal(err)
	}
}

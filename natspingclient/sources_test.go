package natspingclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// TestClientCredentialsFetchesEveryCall: the early refresh only works if asking the source
// really asks the issuer; clientcredentials.Config.TokenSource would answer from its cache.
func TestClientCredentialsFetchesEveryCall(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	id, secret := idp.WorkerCredentials()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, idp.Client())
	ts := natspingclient.ClientCredentials(ctx, &clientcredentials.Config{
		ClientID: id, ClientSecret: secret, TokenURL: idp.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader,
	})
	a, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if n := idp.TokenRequests(); n != 2 || a.AccessToken == b.AccessToken {
		t.Fatalf("two calls made %d token requests (same token: %v), want 2 and two tokens", n, a.AccessToken == b.AccessToken)
	}
}

// TestRefreshTokenRedeemsAndRotates: the person's first token is used as is, then every call
// redeems the newest refresh token, keeping the old one when the issuer does not rotate.
func TestRefreshTokenRedeemsAndRotates(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var redeemed []string
	answers := []map[string]any{
		{"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-2"},
		{"access_token": "at-3", "token_type": "Bearer", "expires_in": 3600}, // not rotated
		{"access_token": "at-4", "token_type": "Bearer", "expires_in": 3600},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		redeemed = append(redeemed, r.PostForm.Get("refresh_token"))
		answer := answers[len(redeemed)-1]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	cfg := &oauth2.Config{ClientID: "cli", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}}
	ts := natspingclient.RefreshToken(context.Background(), cfg,
		&oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: time.Now().Add(time.Hour)})
	var got []string
	for range 4 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok.AccessToken)
	}
	if want := []string{"at-1", "at-2", "at-3", "at-4"}; !slices.Equal(got, want) {
		t.Errorf("access tokens %v, want %v", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"rt-1", "rt-2", "rt-2"}; !slices.Equal(redeemed, want) {
		t.Errorf("refresh tokens redeemed %v, want %v", redeemed, want)
	}
}

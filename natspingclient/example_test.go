package natspingclient_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/natsping/terraform-provider-natsping/natspingclient"
)

// A service with a PingOne worker (client-credentials) application. The token endpoint is
// https://auth.pingone.<tld>/<environment id>/as/token.
func ExampleClientCredentials() {
	ctx := context.Background()
	src, err := natspingclient.New(natspingclient.ClientCredentials(ctx, &clientcredentials.Config{
		ClientID:     os.Getenv("PING_CLIENT_ID"),
		ClientSecret: os.Getenv("PING_CLIENT_SECRET"),
		TokenURL:     "https://auth.pingone.com/" + os.Getenv("PING_ENVIRONMENT_ID") + "/as/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}), natspingclient.Options{
		OnError: func(err error) { log.Print(err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	nc, err := src.Connect("tls://nats.example.com:4222", nats.Name("order-service"))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	// The connection now outlives every token: the server ends the session at the token's exp
	// and nats.go reconnects with the token refreshed in the meantime.
}

// A person's CLI or desktop tool, after an authorization-code sign-in that returned a refresh
// token; Account picks the ORDERS account when several of the person's mappings match.
func ExampleRefreshToken() {
	ctx := context.Background()
	cfg := &oauth2.Config{
		ClientID: os.Getenv("PING_CLIENT_ID"),
		Endpoint: oauth2.Endpoint{TokenURL: "https://auth.pingone.com/" + os.Getenv("PING_ENVIRONMENT_ID") + "/as/token"},
	}
	var signedIn *oauth2.Token // from cfg.Exchange after the browser sign-in
	src, err := natspingclient.New(natspingclient.RefreshToken(ctx, cfg, signedIn), natspingclient.Options{Account: "ORDERS"})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	nc, err := src.Connect("tls://nats.example.com:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
}

// NATSOptions can be mixed with other options; options given later win, so a caller can
// still choose, for example, a bounded number of reconnects.
func ExampleSource_NATSOptions() {
	src, err := natspingclient.New(oauth2.StaticTokenSource(&oauth2.Token{
		AccessToken: "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln", // exp 2100-01-01
	}), natspingclient.Options{Account: "ORDERS"})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	opts := nats.GetDefaultOptions()
	for _, o := range append(src.NATSOptions(), nats.MaxReconnects(100)) {
		if err := o(&opts); err != nil {
			log.Fatal(err)
		}
	}
	user, _ := opts.UserInfo()
	fmt.Println("user:", user)
	fmt.Println("token expires:", src.Expiry().UTC().Format(time.DateOnly))
	fmt.Println("keeps reconnecting after auth errors:", opts.IgnoreAuthErrorAbort)
	fmt.Println("max reconnects:", opts.MaxReconnect)
	// Output:
	// user: ORDERS
	// token expires: 2100-01-01
	// keeps reconnecting after auth errors: true
	// max reconnects: 100
}

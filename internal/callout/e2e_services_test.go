package callout

import (
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// TestServicesAndPeopleThroughTheServer runs client-credentials (service) tokens and person
// tokens through a real nats-server: the service gets exactly the role of the mapping that
// names its client id, a person in the same account gets the people's role, a service no
// mapping names is refused, and an acr condition admits a step-up token only.
func TestServicesAndPeopleThroughTheServer(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	e := newNATSEnv(t, envOptions{xkey: true})

	const svcClient = "8f1c2d3e-0000-4000-8000-00000000c11e"
	services := e.orders.mapping("orders-services", "writer", 0)
	services.Groups = nil
	services.ClientIDs = []string{svcClient}
	services.Scopes = []string{"nats:publish"}
	services.Tags = []string{"team:blue"}
	people := e.orders.mapping("orders-people", "reader", 0, "order-readers")
	admins := e.orders.mapping("orders-admins", "writer", 10, "order-readers")
	admins.Tags = []string{"team:red"}
	admins.Claims = []calloutconfig.ClaimCondition{{Path: "acr", Values: []string{"Multi_Factor"}}}
	_, audit := startService(t, e.doc(issuerFor(idp), services, people, admins), Options{})

	svcTok := idp.IssueToken(pingonetest.TokenOptions{ClientCredentials: true, ClientID: svcClient, Scope: "openid nats:publish"})
	opt, svcErrs := asyncErrors()
	svc, err := e.connectToken(svcTok, "", opt)
	if err != nil {
		t.Fatalf("service connect: %v", err)
	}
	defer svc.Close()
	ci := connInfo(t, e, svc)
	if ci.Account != e.orders.pub || !slices.Contains(ci.Tags, "ping-client:"+svcClient) || !slices.Contains(ci.Tags, "role:writer") {
		t.Fatalf("service bound to %s with tags %v", ci.Account, ci.Tags)
	}
	for _, tag := range ci.Tags {
		if len(tag) > 9 && tag[:9] == "ping-sub:" {
			t.Fatalf("a service carries a person tag: %v", ci.Tags)
		}
	}

	readerTok := idp.IssueToken(pingonetest.TokenOptions{Subject: aliceID, Groups: []string{"order-readers"}, Extra: map[string]any{"acr": "Single_Factor"}})
	ropt, readerErrs := asyncErrors()
	reader, err := e.connectToken(readerTok, "", ropt)
	if err != nil {
		t.Fatalf("person connect: %v", err)
	}
	defer reader.Close()
	got := make(chan *nats.Msg, 4)
	if _, err := reader.ChanSubscribe("orders.>", got); err != nil {
		t.Fatal(err)
	}
	if err := reader.Flush(); err != nil {
		t.Fatal(err)
	}
	if rci := connInfo(t, e, reader); !slices.Contains(rci.Tags, "role:reader") {
		t.Fatalf("person without step-up got tags %v, want the reader role", rci.Tags)
	}
	expectViolation(t, reader, readerErrs, "orders.blue.new")

	// The service may publish for its team and nothing else.
	if err := svc.Publish("orders.blue.new", []byte("from-svc")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Data) != "from-svc" {
			t.Fatalf("reader got %q", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the service's message never arrived")
	}
	expectViolation(t, svc, svcErrs, "orders.red.new")

	// Step-up: the same person with acr Multi_Factor gets the admins' role (team red).
	mfaTok := idp.IssueToken(pingonetest.TokenOptions{Subject: bobID, Groups: []string{"order-readers"}, Extra: map[string]any{"acr": "Multi_Factor"}})
	mfa, err := e.connectToken(mfaTok, "")
	if err != nil {
		t.Fatalf("step-up connect: %v", err)
	}
	defer mfa.Close()
	if mci := connInfo(t, e, mfa); !slices.Contains(mci.Tags, "mapping:orders-admins") || !slices.Contains(mci.Tags, "team:red") {
		t.Fatalf("step-up token got tags %v, want the admins' mapping", mci.Tags)
	}

	// A service no mapping names, and a service whose token lacks the required scope.
	for name, tok := range map[string]string{
		"unmapped client": idp.IssueToken(pingonetest.TokenOptions{ClientCredentials: true, ClientID: "billing-svc", Scope: "openid nats:publish"}),
		"missing scope":   idp.IssueToken(pingonetest.TokenOptions{ClientCredentials: true, ClientID: svcClient, Scope: "openid"}),
	} {
		if nc, err := e.connectToken(tok, "", nats.NoReconnect()); err == nil {
			nc.Close()
			t.Fatalf("%s: connected", name)
		}
		if rec := audit.waitRecord(t, tok); rec.Decision != "deny" || rec.Reason != ReasonServiceToken || rec.OAuthClientID == "" {
			t.Fatalf("%s: audit %+v", name, rec)
		}
	}
	if rec := audit.waitRecord(t, svcTok); rec.Decision != "allow" || rec.Mapping != "orders-services" || rec.OAuthClientID != svcClient || rec.Subject != "" {
		t.Fatalf("service audit %+v", rec)
	}
}

package liveimpact_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/liveimpact"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// TestPushedAccountUpdate_DisconnectsWhatFindingsPredict is the differential pin of Account:
// for each change, a real full-resolver server is pushed the new account JWT while five users
// are connected (two readers, a writer, a static service user, a bearer user), and the users
// the server closes must be exactly those the findings say it closes, which in turn must be
// what the case expects.
func TestPushedAccountUpdate_DisconnectsWhatFindingsPredict(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(a *account, c *jwt.AccountClaims)
		closed []string
		// refused: the closed users that cannot reconnect with the same JWT; the others can.
		refused bool
	}{
		{name: "role template edited", closed: []string{"reader-1", "reader-2"},
			change: func(a *account, c *jwt.AccountClaims) {
				scope(c, a.rolePubs["reader"]).Template.Pub.Allow = jwt.StringList{"orders.read.*"}
			}},
		{name: "role limits edited", closed: []string{"writer"},
			change: func(a *account, c *jwt.AccountClaims) { scope(c, a.rolePubs["writer"]).Template.Subs = 10 }},
		{name: "only a role's description edited", closed: []string{"reader-1", "reader-2"},
			change: func(a *account, c *jwt.AccountClaims) {
				scope(c, a.rolePubs["reader"]).Description = "reads orders"
			}},
		{name: "role removed", closed: []string{"writer"}, refused: true,
			change: func(a *account, c *jwt.AccountClaims) { delete(c.SigningKeys, a.rolePubs["writer"]) }},
		{name: "unscoped signing key removed", closed: []string{"service"}, refused: true,
			change: func(a *account, c *jwt.AccountClaims) { delete(c.SigningKeys, a.svcPub) }},
		{name: "one user revoked", closed: []string{"reader-2"}, refused: true},
		{name: "every user revoked", closed: []string{"reader-1", "reader-2", "writer", "service", "bearer"}, refused: true,
			change: func(_ *account, c *jwt.AccountClaims) { c.RevokeAt(jwt.All, time.Now().Add(time.Minute)) }},
		{name: "revoked only for later JWTs", closed: nil,
			change: func(_ *account, c *jwt.AccountClaims) { c.RevokeAt(jwt.All, time.Now().Add(-time.Hour)) }},
		{name: "bearer tokens disallowed", closed: []string{"bearer"}, refused: true,
			change: func(_ *account, c *jwt.AccountClaims) { c.Limits.DisallowBearer = true }},
		{name: "payload limit and a role added", closed: nil,
			change: func(_ *account, c *jwt.AccountClaims) {
				c.Limits.Payload = 1024
				s := jwt.NewUserScope()
				_, s.Key = newKey(t, nkeys.CreateAccount)
				s.Role = "auditor"
				c.SigningKeys.AddScopedSigner(s)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op, a := newOperator(t), newAccount(t)
			old := a.claims()
			oldJWT := encode(t, old, op.signer)
			srv := startFull(t, op, map[string]string{a.pub: oldJWT})
			conns := a.connectAll(t, srv.URL)

			updated := a.claims()
			if tc.change != nil {
				tc.change(a, updated)
			} else {
				updated.Revoke(conns[1].user.PublicKey) // reader-2, revoked now
			}
			findings := liveimpact.Account(decode(t, oldJWT), updated)
			want := map[string]bool{}
			for _, n := range tc.closed {
				want[n] = true
			}
			if got := predicted(findings, conns); !maps.Equal(got, want) {
				t.Fatalf("findings predict %v closed, the case expects %v\n%s", keys(got), tc.closed, details(findings))
			}
			if len(findings) == 0 || findings[0].Action != liveimpact.Deliver {
				t.Fatalf("a changed account must first say it has to be delivered, got %s", details(findings))
			}
			if _, err := push(t, srv.URL, op.sysCreds, encode(t, updated, op.signer)); err != nil {
				t.Fatal(err)
			}
			checkClosed(t, conns, want)
			for _, c := range conns {
				if !want[c.name] {
					continue
				}
				switch err := c.reconnect(srv.URL); {
				case tc.refused && err == nil:
					t.Errorf("%s must not get back in with the same JWT", c.name)
				case !tc.refused && err != nil:
					t.Errorf("%s must be able to reconnect at once (and get the new template): %v", c.name, err)
				}
			}
		})
	}
}

// TestPushedAccountUpdate_LoweredConnectionLimit: the server closes the newest connections
// above a lowered max_connections, which no per-user prediction can name, so the finding says
// it by count.
func TestPushedAccountUpdate_LoweredConnectionLimit(t *testing.T) {
	t.Parallel()
	op, a := newOperator(t), newAccount(t)
	old := a.claims()
	oldJWT := encode(t, old, op.signer)
	srv := startFull(t, op, map[string]string{a.pub: oldJWT})
	conns := a.connectAll(t, srv.URL)
	updated := a.claims()
	updated.Limits.Conn = 3
	findings := liveimpact.Account(decode(t, oldJWT), updated)
	if !hasFinding(findings, liveimpact.Disconnect, "max_connections is lowered from unlimited to 3") {
		t.Fatalf("want a disconnect finding for the lowered limit, got\n%s", details(findings))
	}
	if _, err := push(t, srv.URL, op.sysCreds, encode(t, updated, op.signer)); err != nil {
		t.Fatal(err)
	}
	checkClosed(t, conns, map[string]bool{"service": true, "bearer": true})
}

// TestPushedAccountUpdate_LoweredSubscriptionLimit: a lowered max_subscriptions closes the
// connections holding at least that many subscriptions, at the limit included.
func TestPushedAccountUpdate_LoweredSubscriptionLimit(t *testing.T) {
	t.Parallel()
	op, a := newOperator(t), newAccount(t)
	oldJWT := encode(t, a.claims(), op.signer)
	srv := startFull(t, op, map[string]string{a.pub: oldJWT})
	conns := a.connectAll(t, srv.URL)
	for i, n := range map[int]int{0: 3, 1: 2, 2: 1} { // reader-1: 3, reader-2: 2 (the new limit), writer: 1
		for j := range n {
			if _, err := conns[i].nc.SubscribeSync(fmt.Sprintf("_INBOX.%d.%d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
		if err := conns[i].nc.Flush(); err != nil {
			t.Fatal(err)
		}
		conns[i].user.Subscriptions = n
	}
	updated := a.claims()
	updated.Limits.Subs = 2
	findings := liveimpact.Account(decode(t, oldJWT), updated)
	want := predicted(findings, conns)
	if !maps.Equal(want, map[string]bool{"reader-1": true, "reader-2": true}) {
		t.Fatalf("findings predict %v closed\n%s", keys(want), details(findings))
	}
	if _, err := push(t, srv.URL, op.sysCreds, encode(t, updated, op.signer)); err != nil {
		t.Fatal(err)
	}
	checkClosed(t, conns, want)
}

// TestMemoryReload_AppliesAccountChanges: with a MEMORY resolver, rewriting resolver_preload
// and reloading updates a known account in place (its changed role's users are closed, as on
// a push) and makes an added account usable.
func TestMemoryReload_AppliesAccountChanges(t *testing.T) {
	t.Parallel()
	op, a, added := newOperator(t), newAccount(t), newAccount(t)
	oldJWT := encode(t, a.claims(), op.signer)
	srv := startMemory(t, op, oldJWT)
	conns := a.connectAll(t, srv.URL)
	addedJWT := encode(t, added.claims(), op.signer)
	if err := connectErr(t, added, srv.URL); err == nil {
		t.Fatal("a user of an account the server does not know yet must be refused")
	}

	updated := a.claims()
	scope(updated, a.rolePubs["writer"]).Template.Pub.Allow = jwt.StringList{"orders.write.>"}
	want := predicted(liveimpact.Account(decode(t, oldJWT), updated), conns)
	if !maps.Equal(want, map[string]bool{"writer": true}) {
		t.Fatalf("findings predict %v", keys(want))
	}
	cfg := render(t, memoryInput(op.jwt, srv.port, op.sysJWT, encode(t, updated, op.signer), addedJWT))
	if err := srv.reload(t, cfg); err != nil {
		t.Fatalf("a reload with changed and added accounts must be accepted: %v", err)
	}
	checkClosed(t, conns, want)
	if err := connectErr(t, added, srv.URL); err != nil {
		t.Fatalf("after the reload a user of the added account must get in: %v", err)
	}
}

// TestMemoryReload_ChangedOperatorRefusedAsAWhole: a reload whose operator JWT changed (here a
// rotation that adds a signing key) is refused, and nothing else in that config is applied:
// the account change beside it does not reach live users. A restart with the new config is
// the only way, which is what Operator says.
func TestMemoryReload_ChangedOperatorRefusedAsAWhole(t *testing.T) {
	t.Parallel()
	op, a := newOperator(t), newAccount(t)
	oldJWT := encode(t, a.claims(), op.signer)
	srv := startMemory(t, op, oldJWT)
	conns := a.connectAll(t, srv.URL)

	newOperatorJWT, newClaims, _ := op.rotated(t)
	findings := liveimpact.Operator(op.claims, newClaims)
	if !hasFinding(findings, liveimpact.Restart, "config reload with a changed operator is refused") ||
		!hasFinding(findings, liveimpact.Restart, "is added") {
		t.Fatalf("want restart findings for the re-signed operator and its added key, got\n%s", details(findings))
	}
	updated := a.claims()
	scope(updated, a.rolePubs["reader"]).Template.Pub.Allow = jwt.StringList{"nothing"}
	cfg := render(t, memoryInput(newOperatorJWT, srv.port, op.sysJWT, encode(t, updated, op.signer)))
	err := srv.reload(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "not supported for TrustedOperators") {
		t.Fatalf("want the reload refused for TrustedOperators, got %v", err)
	}
	checkClosed(t, conns, nil) // the role change in the same file was not applied
}

// TestOperatorFindings covers the rules of Operator that need no server: equal content is no
// change, a dropped key and strict signing keys refuse accounts after a restart.
func TestOperatorFindings(t *testing.T) {
	t.Parallel()
	op := newOperator(t)
	resigned := *op.claims
	resigned.IssuedAt, resigned.ID = resigned.IssuedAt+100, "other"
	if f := liveimpact.Operator(op.claims, &resigned); len(f) != 0 {
		t.Fatalf("re-signing equal content must have no live impact, got\n%s", details(f))
	}
	_, rotated, _ := op.rotated(t)
	dropped := *rotated
	dropped.SigningKeys = jwt.StringList{rotated.SigningKeys[1]}
	f := liveimpact.Operator(rotated, &dropped)
	if !hasFinding(f, liveimpact.Refuse, "signing key "+rotated.SigningKeys[0]+" is no longer listed") {
		t.Fatalf("want a refuse finding naming the dropped key, got\n%s", details(f))
	}
	pending := *op.claims
	pending.SigningKeys = jwt.StringList{op.claims.SigningKeys[0], liveimpact.PendingKey}
	if f := liveimpact.Operator(op.claims, &pending); !hasFinding(f, liveimpact.Restart, "(a new key generated at apply) is added") {
		t.Fatalf("a key generated at apply must be named as such, got\n%s", details(f))
	}
	lax := *op.claims
	lax.StrictSigningKeyUsage = false
	if f := liveimpact.Operator(&lax, op.claims); !hasFinding(f, liveimpact.Refuse, "strict signing keys are turned on") {
		t.Fatalf("want a refuse finding for strict signing keys, got\n%s", details(f))
	}
}

// TestAccountFindings covers rules that need no server: re-signing equal content (new iat,
// re-issued activation tokens) is no change; a new account has no live impact; the texts name
// the account and never carry anything but public keys.
func TestAccountFindings(t *testing.T) {
	t.Parallel()
	op, a := newOperator(t), newAccount(t)
	c := a.claims()
	c.Imports.Add(&jwt.Import{Name: "x", Subject: "x.>", Account: a.svcPub, Type: jwt.Stream, Token: "old-token"})
	again := a.claims()
	again.Imports.Add(&jwt.Import{Name: "x", Subject: "x.>", Account: a.svcPub, Type: jwt.Stream, Token: "new-token"})
	again.IssuedAt = 12345
	if f := liveimpact.Account(c, again); len(f) != 0 {
		t.Fatalf("equal content must have no live impact, got\n%s", details(f))
	}
	if f := liveimpact.Account(nil, c); len(f) != 0 {
		t.Fatalf("a new account must have no live impact, got\n%s", details(f))
	}
	delete(again.SigningKeys, a.rolePubs["reader"])
	f := liveimpact.Account(decode(t, encode(t, c, op.signer)), again)
	text := details(f)
	for _, want := range []string{`account "ORDERS" (` + a.pub + `)`, `role "reader" (scoped signing key ` + a.rolePubs["reader"] + `) is removed`} {
		if !strings.Contains(text, want) {
			t.Errorf("the findings must say %q:\n%s", want, text)
		}
	}
	for _, f := range f {
		if f.Summary() == "" || !strings.Contains(f.Detail(), "On live servers:") {
			t.Errorf("finding without summary or effect: %+v", f)
		}
	}
}

func decode(t testing.TB, token string) *jwt.AccountClaims {
	t.Helper()
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connectErr(t testing.TB, a *account, url string) error {
	t.Helper()
	userKP, userPub := newKey(t, nkeys.CreateUser)
	uc := jwt.NewUserClaims(userPub)
	uc.IssuerAccount = a.pub
	token := encode(t, uc, a.svcKP)
	seed, _ := userKP.Seed()
	nc, err := natstest.ConnectUser(url, token, string(seed))
	if err == nil {
		nc.Close()
	}
	return err
}

func hasFinding(fs []liveimpact.Finding, a liveimpact.Action, text string) bool {
	for _, f := range fs {
		if f.Action == a && strings.Contains(f.Detail(), text) {
			return true
		}
	}
	return false
}

func details(fs []liveimpact.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "[%s] %s\n%s\n", f.Action, f.Summary(), f.Detail())
	}
	return b.String()
}

func keys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}

// TestAccountRemoved_DisconnectsEveryUser: an account dropped from a MEMORY resolver's preload
// by a reload, or deleted from a full resolver, closes all its connections and refuses new ones.
func TestAccountRemoved_DisconnectsEveryUser(t *testing.T) {
	t.Parallel()
	t.Run("memory reload", func(t *testing.T) {
		t.Parallel()
		op, a := newOperator(t), newAccount(t)
		oldJWT := encode(t, a.claims(), op.signer)
		srv := startMemory(t, op, oldJWT)
		conns := a.connectAll(t, srv.URL)
		want := predicted(liveimpact.AccountRemoved(decode(t, oldJWT)), conns)
		if len(want) != len(conns) {
			t.Fatalf("the finding must close every user, predicts %v", keys(want))
		}
		if err := srv.reload(t, render(t, memoryInput(op.jwt, srv.port, op.sysJWT))); err != nil {
			t.Fatal(err)
		}
		checkClosed(t, conns, want)
		if err := conns[0].reconnect(srv.URL); err == nil {
			t.Fatal("a user of the removed account must not get back in")
		}
	})
	t.Run("full resolver delete", func(t *testing.T) {
		t.Parallel()
		op, a := newOperator(t), newAccount(t)
		oldJWT := encode(t, a.claims(), op.signer)
		srv := startFullDeletes(t, op, map[string]string{a.pub: oldJWT})
		conns := a.connectAll(t, srv.URL)
		want := predicted(liveimpact.AccountRemoved(decode(t, oldJWT)), conns)
		nc, err := resolver.Connect(resolver.ConnectOptions{Servers: []string{srv.URL}, Creds: op.sysCreds})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := resolver.Delete(context.Background(), nc, []string{a.pub}, op.signerSigner(t), resolver.Options{Servers: 1}); err != nil {
			t.Fatal(err)
		}
		checkClosed(t, conns, want)
		if err := conns[0].reconnect(srv.URL); err == nil {
			t.Fatal("a user of the deleted account must not get back in")
		}
	})
}

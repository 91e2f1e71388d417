package access_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/access"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
)

// serverCases are behaviours a reader would likely get wrong, and ones the package (or its
// author) once got wrong. Each states the expected verdicts, and both the package and the
// embedded server must give them.
var serverCases = []struct {
	name           string
	tpl            access.Permissions
	user           string
	tags           []string
	refusedConnect bool
	allowed        []request
	refused        []request
}{
	{name: "a '*' entry admits a subscription to '>' in its place",
		tpl:     access.Permissions{SubAllow: []string{"orders.*"}},
		allowed: []request{sub("orders.>"), sub("orders.*"), sub("orders.created")},
		refused: []request{sub("orders.a.b"), sub(">")}},
	{name: "a literal entry does not admit a wildcard subscription it is part of",
		tpl:     access.Permissions{SubAllow: []string{"orders.created"}},
		allowed: []request{sub("orders.created")},
		refused: []request{sub("orders.*"), sub("orders.>")}},
	{name: "publishing to a wildcard subject is matched literally",
		tpl:     access.Permissions{PubAllow: []string{"orders.*", "events.created"}},
		allowed: []request{pub("orders.*"), pub("orders.>")},
		refused: []request{pub("events.*"), pub("orders.a.b")}},
	{name: "a narrower deny does not refuse a wider subscription",
		tpl:     access.Permissions{SubDeny: []string{"orders.secret"}},
		allowed: []request{sub("orders.*"), sub(">")},
		refused: []request{sub("orders.secret")}},
	// The package's first unit test expected the deny to decide; the allow's queue entry
	// refuses the "spies" group before the deny list is read.
	{name: "queue entries decide queue subscriptions even beside a plain entry",
		tpl:     access.Permissions{SubAllow: []string{"jobs.> workers", "jobs.>"}, SubDeny: []string{"jobs.secret spies"}},
		allowed: []request{sub("jobs.a"), qsub("jobs.a", "workers"), sub("jobs.secret")},
		refused: []request{qsub("jobs.a", "others"), qsub("jobs.secret", "spies")}},
	{name: "queue-only allow refuses plain subscriptions",
		tpl:     access.Permissions{SubAllow: []string{"tasks.* v1.*"}},
		allowed: []request{qsub("tasks.a", "v1.blue"), qsub("tasks.a", "v1.*")},
		refused: []request{sub("tasks.a"), qsub("tasks.a", "v1.>"), qsub("tasks.a", "v2")}},
	{name: "queue deny refuses only that group",
		tpl:     access.Permissions{SubDeny: []string{"jobs.> spies"}},
		allowed: []request{sub("jobs.a"), qsub("jobs.a", "workers")},
		refused: []request{qsub("jobs.a", "spies")}},
	{name: "the _sys_ queue is refused even with no permissions at all",
		tpl:     access.Permissions{SubDeny: []string{"unrelated"}},
		allowed: []request{sub("a"), qsub("a", "workers")},
		refused: []request{qsub("a", "_sys_")}},
	{name: "an empty template gets the account's default permissions",
		tpl:     access.Permissions{},
		allowed: []request{pub("default.x"), sub("anything")},
		refused: []request{pub("other")}},
	{name: "allow_responses without a publish allow list refuses ordinary publishes",
		tpl:     access.Permissions{Responses: &access.ResponsePermission{}},
		allowed: []request{sub("svc.>")},
		refused: []request{pub("svc.x"), pub("_INBOX.x")}},
	{name: "a missing tag drops the allow entry and an emptied allow list denies everything",
		tpl:     access.Permissions{PubAllow: []string{"t.{{tag(dept)}}"}, SubAllow: []string{"t.{{tag(dept)}}", "fixed"}},
		tags:    []string{"team:red"},
		allowed: []request{sub("fixed")},
		refused: []request{pub("t.red"), pub("fixed"), pub("t.x"), sub("t.red")}},
	{name: "a missing tag in a deny list refuses the user",
		tpl:            access.Permissions{PubDeny: []string{"t.{{tag(dept)}}"}},
		tags:           []string{"team:red"},
		refusedConnect: true},
	{name: "a template in a deny list makes its queue entries refuse the user",
		tpl:            access.Permissions{SubDeny: []string{"jobs.> spies", "u.{{name()}}"}},
		user:           "alice",
		refusedConnect: true},
	{name: "a template in an allow list drops its queue entries",
		tpl:     access.Permissions{SubAllow: []string{"jobs.> workers", "u.{{name()}}"}},
		user:    "alice",
		allowed: []request{sub("u.alice")},
		refused: []request{qsub("jobs.a", "workers")}},
	{name: "tag values are substituted verbatim: wildcards widen, dots deepen",
		tpl:     access.Permissions{PubAllow: []string{"t.{{tag(team)}}", "d.{{tag(dept)}}.x"}},
		tags:    []string{"team:*", "dept:a.b"},
		allowed: []request{pub("t.anything"), pub("d.a.b.x")},
		refused: []request{pub("t.a.b"), pub("d.a.x")}},
	{name: "tag names are lower-cased but labels are compared as stored",
		tpl:     access.Permissions{PubAllow: []string{"t.{{tag(TEAM)}}", "fixed"}},
		tags:    []string{"team:red", "Team:Blue"},
		allowed: []request{pub("t.red")},
		refused: []request{pub("t.Blue"), pub("t.blue")}},
	{name: "multi-valued account and user tags give the cross product",
		tpl:     access.Permissions{SubAllow: []string{"e.{{account-tag(env)}}.{{tag(team)}}"}},
		tags:    []string{"team:red", "team:blue"},
		allowed: []request{sub("e.prod.red"), sub("e.dev.blue")},
		refused: []request{sub("e.prod.green"), sub("e.*.red")}},
	{name: "a user name with a space drops the entry",
		tpl:     access.Permissions{PubAllow: []string{"u.{{name()}}", "fixed"}},
		user:    "Alice Smith",
		allowed: []request{pub("fixed")},
		refused: []request{pub("u.Alice")}},
}

func pub(s string) request     { return request{op: access.Publish, subject: s} }
func sub(s string) request     { return request{op: access.Subscribe, subject: s} }
func qsub(s, q string) request { return request{op: access.Subscribe, subject: s, queue: q} }

func TestServerCases(t *testing.T) {
	keys := rand.NewChaCha8([32]byte{7})
	acct := &testAccount{name: "REG", tags: []string{"env:prod", "env:dev"},
		defaults: access.Permissions{PubAllow: []string{"default.>"}}}
	for _, c := range serverCases {
		acct.roles = append(acct.roles, &testRole{name: c.name, tpl: c.tpl})
	}
	w := startWorld(t, keys, []*testAccount{acct})
	for i, c := range serverCases {
		r := acct.roles[i]
		t.Run(c.name, func(t *testing.T) {
			ukp := newKey(t, nkeys.PrefixByteUser, keys)
			perms, err := access.ForUser(c.tpl, acct.defaults, r.identity(c.user, c.tags, must(ukp.PublicKey())))
			reqs := append(append([]request(nil), c.allowed...), c.refused...)
			if c.refusedConnect {
				reqs = nil
			}
			v := w.run(t, r, ukp, c.user, c.tags, reqs)
			if c.refusedConnect {
				if err == nil || v.connectErr == nil {
					t.Fatalf("want the user refused: Expand error %v, server connect error %v", err, v.connectErr)
				}
				return
			}
			if err != nil || v.connectErr != nil {
				t.Fatalf("want the user admitted: Expand error %v, server connect error %v", err, v.connectErr)
			}
			for _, q := range reqs {
				want := !contains(c.refused, q)
				d, err := perms.Check(q.op, q.subject, q.queue)
				if err != nil {
					t.Fatalf("%v: %v", q, err)
				}
				if d.Allowed != want {
					t.Errorf("package: %v allowed=%v (%s %q), want %v", q, d.Allowed, d.Reason, d.Rule, want)
				}
				if !v.refused[q] != want {
					t.Errorf("server: %v allowed=%v, want %v", q, !v.refused[q], want)
				}
			}
		})
	}
}

func contains(list []request, r request) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

// TestRepliesPassEvenADeny shows what Decision.Replies promises: with allow_responses a
// user whose every publish is denied still answers the requests it receives.
func TestRepliesPassEvenADeny(t *testing.T) {
	keys := rand.NewChaCha8([32]byte{8})
	responder := &testRole{name: "responder", tpl: access.Permissions{PubDeny: []string{">"}, Responses: &access.ResponsePermission{}}}
	requester := &testRole{name: "requester", tpl: access.Permissions{}}
	acct := &testAccount{name: "RR", roles: []*testRole{responder, requester}}
	w := startWorld(t, keys, []*testAccount{acct})

	d, err := responder.tpl.Check(access.Publish, "_INBOX.reply", "")
	if err != nil || d.Allowed || !d.Replies {
		t.Fatalf("Check = %+v, %v; want refused with replies passing", d, err)
	}
	connect := func(r *testRole) *nats.Conn {
		ukp := newKey(t, nkeys.PrefixByteUser, keys)
		uc := natsjwt.ScopedUserClaims(must(ukp.PublicKey()), must(acct.kp.PublicKey()), r.name, nil, time.Time{})
		nc, err := natstest.ConnectUser(w.url, must(uc.Encode(r.kp)), string(must(ukp.Seed())))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	rnc := connect(responder)
	if _, err := rnc.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) }); err != nil {
		t.Fatal(err)
	}
	if err := rnc.Flush(); err != nil {
		t.Fatal(err)
	}
	reply, err := connect(requester).Request("svc", nil, 10*time.Second)
	if err != nil || string(reply.Data) != "pong" {
		t.Fatalf("request through a responder that may only reply: %v, %v", reply, err)
	}
}

package access

import "testing"

// benchRole is a role of about twenty entries, the size a reviewed HCL role reaches.
var benchRole = Permissions{
	PubAllow: []string{"orders.created", "orders.updated", "orders.*.eu", "events.>", "billing.invoices.*", "u.alice.>", "metrics.*.*"},
	PubDeny:  []string{"orders.secret", "events.internal.>", "billing.invoices.void"},
	SubAllow: []string{"orders.>", "events.*", "jobs.> workers", "jobs.* v1.*", "u.alice.>", "_INBOX.>", "metrics.>"},
	SubDeny:  []string{"orders.secret", "jobs.secret spies", "metrics.private.>"},
}

func BenchmarkAllows(b *testing.B) {
	reqs := []struct {
		op      Op
		subject string
	}{
		{Publish, "orders.created"}, {Publish, "billing.invoices.void"}, {Publish, "nope.x.y"},
		{Subscribe, "orders.*"}, {Subscribe, "metrics.private.cpu"}, {Subscribe, "events.a.b"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		benchRole.Allows(r.op, r.subject)
	}
}

func BenchmarkExpand(b *testing.B) {
	tpl := Permissions{
		PubAllow: []string{"t.{{tag(team)}}.>", "u.{{name()}}.*", "fixed.>"},
		SubAllow: []string{"t.{{tag(team)}}.{{tag(region)}}.>", "a.{{account-name()}}.{{account-tag(env)}}", "_INBOX.>"},
		SubDeny:  []string{"t.{{tag(team)}}.secret"},
	}
	id := Identity{Name: "alice", UserKey: "UALICE", AccountName: "APP", AccountKey: "AAPP",
		Tags: []string{"team:red", "team:blue", "team:green", "region:eu", "region:us"}, AccountTags: []string{"env:prod"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Expand(tpl, id); err != nil {
			b.Fatal(err)
		}
	}
}

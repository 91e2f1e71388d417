package access

import (
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

func TestCheck(t *testing.T) {
	type req struct {
		op             Op
		subject, queue string
		want           bool
		reason         Reason
		rule           string
	}
	tests := []struct {
		name  string
		perms Permissions
		reqs  []req
	}{
		{"no rules allow everything", Permissions{}, []req{
			{Publish, "a.b", "", true, NoRules, ""},
			{Subscribe, ">", "", true, NoRules, ""},
			{Subscribe, "a", "_sys_", false, SystemQueue, ""},
		}},
		{"deny beats allow", Permissions{PubAllow: []string{"orders.>"}, PubDeny: []string{"orders.secret"}}, []req{
			{Publish, "orders.created", "", true, AllowedBy, "orders.>"},
			{Publish, "orders.secret", "", false, DeniedBy, "orders.secret"},
			{Publish, "billing.x", "", false, NotInAllow, ""},
		}},
		{"deny only", Permissions{SubDeny: []string{"secret.>"}}, []req{
			{Subscribe, "public.x", "", true, NoRules, ""},
			{Subscribe, "secret.x", "", false, DeniedBy, "secret.>"},
			// The sub is admitted; the server filters denied messages at delivery instead.
			{Subscribe, ">", "", true, NoRules, ""},
		}},
		{"wildcard subscriptions", Permissions{SubAllow: []string{"orders.created", "events.*"}}, []req{
			{Subscribe, "orders.*", "", false, NotInAllow, ""},
			{Subscribe, "events.*", "", true, AllowedBy, "events.*"},
			{Subscribe, "events.>", "", true, AllowedBy, "events.*"},
			{Subscribe, "events.a.b", "", false, NotInAllow, ""},
		}},
		{"allow_responses without publish allow turns the blanket allow off", Permissions{Responses: &ResponsePermission{}}, []req{
			{Publish, "anything", "", false, NotInAllow, ""},
			{Subscribe, "anything", "", true, NoRules, ""},
		}},
		{"queue entries", Permissions{SubAllow: []string{"jobs.> workers", "jobs.>", "tasks.* v1.*"}, SubDeny: []string{"jobs.secret workers"}}, []req{
			{Subscribe, "jobs.a", "", true, AllowedBy, "jobs.>"},
			{Subscribe, "jobs.a", "workers", true, AllowedBy, "jobs.> workers"},
			// The queue entry decides a queue subscription although "jobs.>" would admit it.
			{Subscribe, "jobs.a", "others", false, QueueNotAllow, "jobs.> workers"},
			{Subscribe, "tasks.a", "", false, NotInAllow, ""},
			{Subscribe, "tasks.a", "v1.blue", true, AllowedBy, "tasks.* v1.*"},
			{Subscribe, "tasks.a", "v1.>", false, QueueNotAllow, "tasks.* v1.*"},
			{Subscribe, "tasks.a", "v1.*", true, AllowedBy, "tasks.* v1.*"},
			{Subscribe, "jobs.secret", "", true, AllowedBy, "jobs.>"},
			{Subscribe, "jobs.secret", "workers", false, DeniedBy, "jobs.secret workers"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range tt.reqs {
				d, err := tt.perms.Check(r.op, r.subject, r.queue)
				if err != nil {
					t.Fatalf("%v %q %q: %v", r.op, r.subject, r.queue, err)
				}
				if d.Allowed != r.want || d.Reason != r.reason || d.Rule != r.rule {
					t.Errorf("%v %q queue %q = %+v, want allowed=%v reason=%s rule=%q", r.op, r.subject, r.queue, d, r.want, r.reason, r.rule)
				}
			}
		})
	}
}

func TestCheckRepliesFlag(t *testing.T) {
	p := Permissions{PubDeny: []string{">"}, Responses: &ResponsePermission{MaxMsgs: 1}}
	d, err := p.Check(Publish, "_INBOX.x", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || !d.Replies {
		t.Errorf("got %+v; a static publish is refused but replies pass even a deny", d)
	}
}

func TestCheckRefusesMalformedInput(t *testing.T) {
	p := Permissions{}
	for _, c := range []struct {
		op             Op
		subject, queue string
	}{
		{Publish, "", ""}, {Publish, "a..b", ""}, {Publish, "a.>.b", ""}, {Publish, "a b", ""},
		{Publish, "a", "q"}, {Subscribe, "a", "q q"}, {Op(9), "a", ""},
	} {
		if _, err := p.Check(c.op, c.subject, c.queue); err == nil {
			t.Errorf("Check(%v, %q, %q) gave no error", c.op, c.subject, c.queue)
		}
		if c.queue == "" && p.Allows(c.op, c.subject) {
			t.Errorf("Allows(%v, %q) is true for malformed input", c.op, c.subject)
		}
	}
}

func TestFromJWTRoundTrip(t *testing.T) {
	var j jwt.Permissions
	j.Pub.Allow.Add("a.>")
	j.Sub.Deny.Add("b q")
	j.Resp = &jwt.ResponsePermission{MaxMsgs: 2, Expires: time.Second}
	p := FromJWT(j)
	if len(p.PubAllow) != 1 || p.SubDeny[0] != "b q" || p.Responses.MaxMsgs != 2 {
		t.Fatalf("FromJWT = %+v", p)
	}
	back := p.ToJWT()
	if back.Pub.Allow[0] != "a.>" || back.Resp.Expires != time.Second || len(back.Sub.Allow) != 0 {
		t.Errorf("ToJWT = %+v", back)
	}
}

func TestEffectiveFallsBackToAccountDefaults(t *testing.T) {
	def := Permissions{PubAllow: []string{"default.>"}}
	if got := Effective(Permissions{}, def); got.PubAllow[0] != "default.>" {
		t.Errorf("empty user permissions: got %+v", got)
	}
	own := Permissions{SubDeny: []string{"x"}}
	if got := Effective(own, def); len(got.PubAllow) != 0 {
		t.Errorf("a user with any rule keeps its own: got %+v", got)
	}
}

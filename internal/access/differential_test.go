package access_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/access"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// The generator draws from pools built around the rules that differ between "what the docs
// suggest" and what the server does: wildcards on both sides, queue entries, templates
// whose tags are missing, multi-valued, upper-case, or carry wildcards and dots.
var (
	staticEntries = []string{
		"orders.created", "orders.*", "orders.>", "events.*.eu", "*.created", ">", "*",
		"a.b.c", "a.*.c", "a.>", "jobs.>", "q.x", "a*b.>",
	}
	templateEntries = []string{
		"u.{{name()}}", "u.{{name()}}.>", "t.{{tag(team)}}.*", "t.{{tag(team)}}.{{tag(region)}}",
		"acct.{{account-name()}}.>", "env.{{account-tag(env)}}", "k.{{subject()}}", "ak.{{account-subject()}}.*",
		"d.{{tag(dept)}}", "T.{{tag(Team)}}", "x.{{tag(team)}}.{{tag(team)}}", "r.{{ tag(region) }}.>",
	}
	queueEntries = []string{"jobs.> workers", "jobs.* v1.*", "orders.created q1", "q.x v1.>", "a.> _sys_"}
	userNames    = []string{"alice", "bob", "", "a.b", "*", "Alice Smith"}
	userTags     = []string{"team:red", "team:blue", "team:*", "region:eu", "region:us", "dept:ops", "Team:green", "team:x.y", "region:"}
	firstTokens  = []string{"orders", "events", "a", "jobs", "q", "u", "t", "acct", "env", "k", "ak", "d", "T", "x", "r", "*", ">"}
	moreTokens   = []string{"created", "eu", "us", "b", "c", "x", "red", "blue", "ops", "green", "prod", "dev", "a*b", "y", "*", ">"}
	queueNames   = []string{"workers", "v1.blue", "v1.*", "v1.>", "v1", "q1", "others", "_sys_"}
)

func pick(rng *rand.Rand, pools ...[]string) []string {
	var all []string
	for _, p := range pools {
		all = append(all, p...)
	}
	n := rng.IntN(4)
	var out []string
	for range n {
		e := all[rng.IntN(len(all))]
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func genTemplate(rng *rand.Rand) access.Permissions {
	p := access.Permissions{
		PubAllow: pick(rng, staticEntries, templateEntries),
		SubAllow: pick(rng, staticEntries, templateEntries, queueEntries),
	}
	// Deny templates usually refuse the whole user (a missing tag), so they are rarer.
	if rng.IntN(4) == 0 {
		p.PubDeny = pick(rng, staticEntries, templateEntries)
		p.SubDeny = pick(rng, staticEntries, queueEntries, templateEntries)
	} else {
		p.PubDeny = pick(rng, staticEntries)
		p.SubDeny = pick(rng, staticEntries, queueEntries)
	}
	if rng.IntN(5) == 0 {
		p.Responses = &access.ResponsePermission{}
	}
	return p
}

func genIdentity(rng *rand.Rand) (string, []string) {
	var tags []string
	for _, tg := range userTags {
		if rng.IntN(3) == 0 {
			tags = append(tags, tg)
		}
	}
	return userNames[rng.IntN(len(userNames))], tags
}

// genRequests draws subjects from the token pools and the user's own values, and adds
// subjects derived from every expanded entry so template results are always exercised.
func genRequests(rng *rand.Rand, id access.Identity, p access.Permissions) []request {
	extra := []string{id.Name, id.UserKey, id.AccountKey, id.AccountName, "prod", "dev"}
	token := func() string {
		if rng.IntN(4) == 0 {
			return extra[rng.IntN(len(extra))]
		}
		return moreTokens[rng.IntN(len(moreTokens))]
	}
	var subjects []string
	for range 100 {
		toks := []string{firstTokens[rng.IntN(len(firstTokens))]}
		for n := rng.IntN(4); n > 0 && toks[len(toks)-1] != ">"; n-- {
			toks = append(toks, token())
		}
		subjects = append(subjects, strings.Join(toks, "."))
	}
	for _, list := range [][]string{p.PubAllow, p.PubDeny, p.SubAllow, p.SubDeny} {
		for _, e := range list {
			s, _, _ := strings.Cut(e, " ")
			subjects = append(subjects, s, concretize(rng, s, token))
		}
	}
	seen := map[request]bool{}
	var out []request
	add := func(r request) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, s := range subjects {
		if natsjwt.ValidateSubject(s, natsjwt.SubjectOptions{Wildcards: true}) != nil {
			continue
		}
		add(request{op: access.Publish, subject: s})
		add(request{op: access.Subscribe, subject: s})
		add(request{op: access.Subscribe, subject: s, queue: queueNames[rng.IntN(len(queueNames))]})
	}
	return out
}

// concretize replaces wildcards in an entry with tokens, so a literal subject under it is tried.
func concretize(rng *rand.Rand, s string, token func() string) string {
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch t {
		case "*":
			toks[i] = token()
		case ">":
			toks[i] = token()
			if rng.IntN(2) == 0 {
				toks = append(toks[:i+1], token())
			}
		}
	}
	return strings.Join(toks, ".")
}

// TestDifferentialAgainstServer requires the package and an embedded nats-server to agree
// on every generated request of every generated role and identity.
func TestDifferentialAgainstServer(t *testing.T) {
	const seed = 11
	rng := rand.New(rand.NewChaCha8([32]byte{seed}))
	keys := rand.NewChaCha8([32]byte{seed, 1})
	accounts := []*testAccount{
		{name: "APP", tags: []string{"env:prod", "env:dev"}},
		{name: "OPS", tags: []string{"region:eu"}, defaults: access.Permissions{PubAllow: []string{"orders.>"}, SubDeny: []string{"a.>"}}},
	}
	for _, a := range accounts {
		for i := range 20 {
			a.roles = append(a.roles, &testRole{name: fmt.Sprintf("%s-%d", a.name, i), tpl: genTemplate(rng)})
		}
	}
	w := startWorld(t, keys, accounts)

	var checks, refusals, refusedUsers, disagreements int
	for _, a := range accounts {
		for _, r := range a.roles {
			for range 3 {
				ukp := newKey(t, nkeys.PrefixByteUser, keys)
				name, tags := genIdentity(rng)
				id := r.identity(name, tags, must(ukp.PublicKey()))
				perms, expandErr := access.ForUser(r.tpl, a.defaults, id)
				var reqs []request
				if expandErr == nil {
					reqs = genRequests(rng, id, perms)
				}
				v := w.run(t, r, ukp, name, tags, reqs)
				if (expandErr != nil) != (v.connectErr != nil) {
					disagreements++
					t.Errorf("role %s %+v, user %q tags %q: Expand error %v, server connect error %v", r.name, r.tpl, name, tags, expandErr, v.connectErr)
					continue
				}
				if expandErr != nil {
					refusedUsers++
					continue
				}
				for _, q := range reqs {
					checks++
					if v.refused[q] {
						refusals++
					}
					d, err := perms.Check(q.op, q.subject, q.queue)
					if err != nil {
						t.Fatalf("generated request %v is malformed: %v", q, err)
					}
					if d.Allowed == v.refused[q] {
						disagreements++
						if disagreements <= 20 {
							t.Errorf("role %s template %+v, user %q tags %q, expanded %+v: %v: package allowed=%v (%s %q), server allowed=%v",
								r.name, r.tpl, name, tags, perms, q, d.Allowed, d.Reason, d.Rule, !v.refused[q])
						}
					}
				}
			}
		}
	}
	t.Logf("%d requests (%d refused by the server) over %d roles, %d users refused at connect by both, %d disagreements", checks, refusals, 40, refusedUsers, disagreements)
	if checks < 10000 || refusals < checks/10 || refusals > checks*9/10 {
		t.Errorf("%d requests, %d refused: the corpus should hold thousands of both verdicts", checks, refusals)
	}
}

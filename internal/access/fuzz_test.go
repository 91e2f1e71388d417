package access

import (
	"strings"
	"testing"
)

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"orders.*", "orders.created"}, {"orders.>", "orders.a.b"}, {">", "a"}, {"a.*.c", "a.>.c"},
		{"*", "*"}, {"a*b", "a*b"}, {"a..b", "a.b"}, {"", ""}, {"a.>", "a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		got := Match(pattern, subject)
		valid := wellFormed(subject)
		if got && !valid {
			t.Fatalf("Match(%q, %q): a malformed subject matched", pattern, subject)
		}
		if !valid {
			return
		}
		if !Match(subject, subject) {
			t.Fatalf("Match(%q, %q) is false: every subject covers itself", subject, subject)
		}
		if !Match(">", subject) {
			t.Fatalf("'>' does not cover %q", subject)
		}
		n := strings.Count(subject, ".") + 1
		if want := n == 1; Match("*", subject) != want {
			t.Fatalf("Match(\"*\", %q) = %v with %d tokens", subject, !want, n)
		}
		if got && pattern != ">" && !strings.Contains(pattern, ">") && strings.Count(pattern, ".")+1 != n {
			t.Fatalf("Match(%q, %q): without '>' a match needs as many tokens", pattern, subject)
		}
		// Widening any one pattern token to '*', or its tail to '>', never loses a match.
		if got {
			toks := strings.Split(pattern, ".")
			for i := range toks {
				if toks[i] == ">" {
					break
				}
				w := append(append([]string(nil), toks[:i]...), "*")
				w = append(w, toks[i+1:]...)
				if !Match(strings.Join(w, "."), subject) {
					t.Fatalf("Match(%q, %q) but not with token %d widened to '*'", pattern, subject, i)
				}
				if i > 0 || len(toks) > 1 {
					tail := strings.Join(append(append([]string(nil), toks[:i]...), ">"), ".")
					if !Match(tail, subject) {
						t.Fatalf("Match(%q, %q) but not %q", pattern, subject, tail)
					}
				}
			}
		}
		// A literal subject is covered by a subset-wider pattern in Match's sense too.
		if !hasWildcard(subject) && serverValidSubject(pattern) && serverValidSubject(subject) {
			if got != subsetMatch(subject, pattern) {
				t.Fatalf("literal %q: Match(%q)=%v but subsetMatch=%v", subject, pattern, got, !got)
			}
		}
	})
}

func FuzzExpand(f *testing.F) {
	f.Add("t.{{tag(team)}}.{{name()}}", "alice", "team:red")
	f.Add("{{account-tag(env)}}.>", "", "")
	f.Add("x.{{TAG(a)}}", "{{subject()}}", "a:*")
	f.Fuzz(func(t *testing.T, entry, name, tag string) {
		id := Identity{Name: name, UserKey: "UKEY", AccountName: "ACC", AccountKey: "AKEY", Tags: []string{tag}, AccountTags: []string{"env:prod"}}
		p, err := Expand(Permissions{PubAllow: []string{entry}, SubDeny: []string{entry}}, id)
		// Lists without a template are loaded as written, like the server does.
		if err != nil || !mustache.MatchString(entry) {
			return
		}
		// Whatever survives is a subject the server would load, and an allow list never
		// turns into "allow all" by expansion.
		for _, e := range append(p.PubAllow, p.SubDeny...) {
			if !serverValidSubject(e) {
				t.Fatalf("Expand(%q) produced invalid %q", entry, e)
			}
		}
		if len(p.PubAllow) == 0 && !strings.Contains(strings.Join(p.PubDeny, " "), ">") {
			t.Fatalf("Expand(%q) emptied pub allow without denying everything: %+v", entry, p)
		}
	})
}

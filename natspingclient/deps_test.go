package natspingclient_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportsOnlyNATSAndOAuth2 keeps the package cheap to depend on: its build needs nats.go,
// golang.org/x/oauth2 and what those two import themselves, never a package of the provider.
func TestImportsOnlyNATSAndOAuth2(t *testing.T) {
	t.Parallel()
	deps := func(pkgs ...string) []string {
		t.Helper()
		args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, pkgs...)
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}
	const self = "github.com/natsping/terraform-provider-natsping/natspingclient"
	allowed := deps("github.com/nats-io/nats.go", "golang.org/x/oauth2", "golang.org/x/oauth2/clientcredentials")
	for _, p := range deps(self) {
		if p != self && !slices.Contains(allowed, p) {
			t.Errorf("natspingclient imports %s, which neither nats.go nor golang.org/x/oauth2 needs", p)
		}
	}
}

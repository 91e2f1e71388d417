package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/acctest"
)

// TestMain fails the package under make test (NATSPING_REQUIRE_ACC) when no CLI is set up.
func TestMain(m *testing.M) { acctest.Main(m) }

// TestAccQuickstartEndToEnd applies examples/quickstart with the real CLI against the PingOne
// fixture, boots nats-server from the rendered config, runs the real natsping-callout binary,
// and checks what people holding Ping tokens can and cannot do.
func TestAccQuickstartEndToEnd(t *testing.T) {
	cli := acctest.PreCheck(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := Run(ctx, Config{
		Root: root, ConfigDir: filepath.Join(root, "examples", "quickstart"), CLI: cli,
		WorkDir: t.TempDir(), Out: &out,
	})
	if err == nil {
		err = res.Passed()
	}
	if err != nil {
		t.Fatalf("%v\n--- demo output ---\n%s", err, out.String())
	}
	for _, line := range res.AuditLines {
		if bytes.Contains([]byte(line), []byte("eyJ")) {
			t.Errorf("an audit line contains what looks like a raw JWT: %s", line)
		}
	}
}

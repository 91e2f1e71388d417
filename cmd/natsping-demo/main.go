// Command natsping-demo runs the quickstart end to end on this machine with nothing external:
// a local PingOne-shaped issuer, the provider applied through OpenTofu (or Terraform), an
// embedded nats-server booted from the rendered config, and the natsping-callout service.
// `make demo` builds OpenTofu if needed and runs this from the repository root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/natsping/terraform-provider-natsping/internal/demo"
)

func main() {
	cli := flag.String("cli", os.Getenv("NATSPING_TF_CLI"), "path to the tofu or terraform binary")
	config := flag.String("config", "examples/quickstart", "Terraform configuration to apply")
	keep := flag.Bool("keep", false, "keep the work directory (state, configs, logs) for inspection")
	holdOpen := flag.Bool("hold", false, "after the scenarios, keep the issuer, nats-server and callout running (prints tokens) until Ctrl-C")
	flag.Parse()
	if *cli == "" {
		fmt.Fprintln(os.Stderr, "natsping-demo: pass -cli <path to tofu or terraform> (make demo does this)")
		os.Exit(2)
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsping-demo:", err)
		os.Exit(1)
	}
	work, err := os.MkdirTemp("", "natsping-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsping-demo:", err)
		os.Exit(1)
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	res, err := demo.Run(ctx, demo.Config{
		Root: root, ConfigDir: filepath.Join(root, *config), CLI: *cli, WorkDir: work, Out: os.Stdout, Hold: *holdOpen,
	})
	if err == nil {
		err = res.Passed()
	}
	if *keep {
		fmt.Printf("\nwork directory kept: %s\n", work)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nnatsping-demo FAILED: %v\n", err)
		if !*keep {
			os.RemoveAll(work)
		}
		os.Exit(1)
	}
	fmt.Println("\nnatsping-demo: every scenario behaved as promised")
}

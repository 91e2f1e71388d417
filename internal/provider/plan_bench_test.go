package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// BenchmarkNoChangePlan measures a `plan` with nothing to change over an operator and N
// accounts, and splits it into the provider's share and the CLI's. The provider runs inside
// this process (reattached, as terraform-plugin-testing does), so this process's CPU time
// during the plan is the provider's, and the CLI child's CPU time is the CLI's own.
//
// N is 500 unless NATSPING_BENCH_ACCOUNTS lists others ("500,1000,2000,5000"): plan cost per
// account should not grow with N. The counts run in ascending order in one working directory,
// each applying only the accounts it adds. NATSPING_BENCH_CPUPROFILE=prefix writes a CPU
// profile of the provider per count (prefix-N.prof) covering the measured plans only.
// NATSPING_BENCH_FRAMEWORK_ONLY=1 serves the framework's server alone (no fast paths) and
// NATSPING_BENCH_DEFAULT_GC=1 keeps Go's default GOGC, to measure what each contributes.
//
// Run: . scripts/acc-env.sh && go test ./internal/provider -run '^$' -bench NoChangePlan -benchtime 3x
func BenchmarkNoChangePlan(b *testing.B) {
	counts := []int{500}
	if env := os.Getenv("NATSPING_BENCH_ACCOUNTS"); env != "" {
		counts = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("NATSPING_BENCH_ACCOUNTS: %q is not a positive count", f)
			}
			counts = append(counts, n)
		}
		sort.Ints(counts)
	}
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		b.Skip("TF_ACC_TERRAFORM_PATH is not set; source scripts/acc-env.sh first")
	}
	// In-process (debug) providers write their SDK logs straight to stderr at trace level;
	// a provider started by the CLI does not, so silence them to measure what users run.
	for _, env := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER"} {
		b.Setenv(env, "OFF")
	}
	if os.Getenv("NATSPING_BENCH_DEFAULT_GC") == "" {
		defer TuneGC()() // as main does
	}
	timed := &timedServer{ProviderServer: benchProviderServer()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		_ = tf6server.Serve("registry.terraform.io/natsping/natsping", func() tfprotov6.ProviderServer { return timed },
			tf6server.WithDebug(ctx, reattach, closed))
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(30 * time.Second):
		b.Fatal("the in-process provider did not start")
	}
	defer func() { cancel(); <-closed }()
	reattachJSON, err := json.Marshal(map[string]any{
		"registry.terraform.io/natsping/natsping": map[string]any{
			"Protocol": "grpc", "ProtocolVersion": 6, "Pid": os.Getpid(), "Test": true,
			"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	run := func(args ...string) (int, error) {
		cmd := exec.Command(cli, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(reattachJSON), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), fmt.Errorf("%v: %s", err, out)
		}
		return 0, err
	}
	for i, n := range counts {
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(fmt.Sprintf(planBenchConfig, n)), 0o600); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if _, err := run("init", "-input=false"); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := run("apply", "-auto-approve", "-input=false"); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) { benchNoChangePlan(b, n, timed, run) })
	}
}

const planBenchConfig = `
terraform {
  required_providers {
    natsping = { source = "registry.terraform.io/natsping/natsping" }
  }
}

resource "natsping_operator" "main" { name = "bench" }

resource "natsping_account" "a" {
  count           = %d
  name            = "ACCOUNT-${count.index}"
  operator_signer = natsping_operator.main.signer
  limits          = { max_connections = 100 }
  roles = [
    { name = "reader", permissions = { sub_allow = ["orders.>"], pub_allow = ["_INBOX.>"] } },
    { name = "writer", permissions = { pub_allow = ["orders.{{tag(team)}}.>"] } },
  ]
}
`

func benchNoChangePlan(b *testing.B, accounts int, timed *timedServer, run func(args ...string) (int, error)) {
	if prefix := os.Getenv("NATSPING_BENCH_CPUPROFILE"); prefix != "" {
		f, err := os.Create(fmt.Sprintf("%s-%d.prof", prefix, accounts))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	var providerCPU, cliCPU, providerBusy time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		selfBefore, childBefore := cpuTimes()
		timed.busy.Store(0)
		if code, err := run("plan", "-detailed-exitcode", "-input=false"); code != 0 || err != nil {
			b.Fatalf("plan over unchanged state must be empty (exit 0), got exit %d: %v", code, err)
		}
		selfAfter, childAfter := cpuTimes()
		providerCPU += selfAfter - selfBefore
		cliCPU += childAfter - childBefore
		providerBusy += time.Duration(timed.busy.Load())
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(providerCPU.Milliseconds())/n, "provider-cpu-ms/plan")
	b.ReportMetric(float64(cliCPU.Milliseconds())/n, "cli-cpu-ms/plan")
	b.ReportMetric(float64(providerBusy.Milliseconds())/n, "provider-rpc-ms/plan")
	b.ReportMetric(float64(providerCPU)/float64(providerCPU+cliCPU), "provider-share")
	b.ReportMetric(float64(providerCPU.Microseconds())/n/float64(accounts), "provider-cpu-µs/account")
	b.ReportMetric(float64(cliCPU.Microseconds())/n/float64(accounts), "cli-cpu-µs/account")
}

// benchProviderServer is what main serves, or with NATSPING_BENCH_FRAMEWORK_ONLY the
// framework's server without NewProviderServer's fast paths.
func benchProviderServer() tfprotov6.ProviderServer {
	if os.Getenv("NATSPING_BENCH_FRAMEWORK_ONLY") != "" {
		return providerserver.NewProtocol6(New("bench")())()
	}
	return NewProviderServer("bench")()
}

func cpuTimes() (self, children time.Duration) {
	var s, c syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(s.Utime) + tv(s.Stime), tv(c.Utime) + tv(c.Stime)
}

// timedServer adds up the wall time the provider spends inside the RPCs a plan makes.
type timedServer struct {
	tfprotov6.ProviderServer
	busy atomic.Int64
}

func (t *timedServer) track(start time.Time) { t.busy.Add(int64(time.Since(start))) }

func (t *timedServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	defer t.track(time.Now())
	return t.ProviderServer.ReadResource(ctx, req)
}

func (t *timedServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	defer t.track(time.Now())
	return t.ProviderServer.PlanResourceChange(ctx, req)
}

func (t *timedServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	defer t.track(time.Now())
	return t.ProviderServer.ValidateResourceConfig(ctx, req)
}

func (t *timedServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	defer t.track(time.Now())
	return t.ProviderServer.UpgradeResourceState(ctx, req)
}

func (t *timedServer) GetProviderSchema(ctx context.Context, req *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	defer t.track(time.Now())
	return t.ProviderServer.GetProviderSchema(ctx, req)
}

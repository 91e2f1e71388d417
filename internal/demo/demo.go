package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// Audience is the resource audience the quickstart's trust accepts; in PingOne it is the
// audience of the custom resource the NATS application's tokens are minted for.
const Audience = "https://nats.example.com"

// Groups of the demo directory. They carry the names the quickstart maps.
var Groups = []pingonetest.Group{
	{Name: "nats-readers", Description: "May read orders"},
	{Name: "nats-writers", Description: "May publish orders"},
	{Name: "marketing", Description: "Mapped to nothing in NATS"},
}

// Config says where things are.
type Config struct {
	// Root is the module root (where go.mod is); ConfigDir the Terraform configuration to apply.
	Root      string
	ConfigDir string
	// CLI is the tofu or terraform binary.
	CLI string
	// WorkDir receives binaries, the workspace, the server directory and the callout config.
	WorkDir string
	Out     io.Writer
	// Hold keeps everything running after the scenarios, for trying other clients by hand.
	Hold bool
}

// Result is what a test checks; the demo prints the same facts as it goes.
type Result struct {
	ReaderSubscribed       bool
	ReaderPublishRefused   bool
	WriterDelivered        bool
	UnmappedRefused        bool
	ExpiredRefused         bool
	SecondPlanEmpty        bool
	RotatedTokenAccepted   bool
	RotationShownInPlan    bool
	AuditLines             []string
	ServerConfigBytes      int
	CalloutConfigValidated bool
}

// Run performs the whole demo and stops everything it started before returning.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	out := cfg.Out
	say := func(format string, args ...any) { fmt.Fprintf(out, "\n==> "+format+"\n", args...) }
	res := &Result{}

	say("starting a local PingOne-shaped issuer (TLS, groups %s)", groupNames())
	ping := pingonetest.New(pingonetest.Options{Groups: Groups})
	defer ping.Close()
	fmt.Fprintf(out, "    issuer: %s\n", ping.Issuer())

	say("building the provider and natsping-callout")
	binDir := filepath.Join(cfg.WorkDir, "bin")
	_, calloutBin, err := buildBinaries(ctx, cfg.Root, binDir, out)
	if err != nil {
		return nil, err
	}

	natsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	ws, err := newWorkspace(cfg.CLI, cfg.ConfigDir, filepath.Join(cfg.WorkDir, "tf"), binDir, out)
	if err != nil {
		return nil, err
	}
	if err := ws.writeVars(map[string]any{
		"ping_issuer":         ping.Issuer(),
		"ping_audience":       Audience,
		"ping_ca_bundle_pem":  string(ping.CAPEM()),
		"nats_host":           "127.0.0.1",
		"nats_port":           natsPort,
		"reader_groups":       []string{"nats-readers"},
		"writer_groups":       []string{"nats-writers"},
		"jetstream_store_dir": filepath.Join(cfg.WorkDir, "jetstream"),
	}); err != nil {
		return nil, err
	}

	say("%s apply: operator, account with reader/writer roles, role mappings, Ping trust, server config", filepath.Base(cfg.CLI))
	if err := ws.run(ctx, "apply", "-auto-approve", "-no-color"); err != nil {
		return nil, err
	}
	say("a second plan must be empty (nothing re-signed, no drift)")
	if res.SecondPlanEmpty, err = ws.planIsEmpty(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "    second plan empty: %v\n", res.SecondPlanEmpty)

	outs, err := ws.outputs(ctx)
	if err != nil {
		return nil, err
	}
	serverConfig, err := stringOutput(outs, "server_config")
	if err != nil {
		return nil, err
	}
	calloutConfig, err := stringOutput(outs, "callout_config")
	if err != nil {
		return nil, err
	}
	res.ServerConfigBytes = len(serverConfig)

	say("booting nats-server from the rendered config (operator mode, default_sentinel)")
	srv, err := natstest.Start(serverConfig, filepath.Join(cfg.WorkDir, "nats"), natstest.WithListen("127.0.0.1", natsPort))
	if err != nil {
		return nil, err
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	url := srv.ClientURL()
	fmt.Fprintf(out, "    nats-server %s listening on %s\n", server.VERSION, url)

	say("starting natsping-callout with the callout_config output")
	callout, err := startCallout(ctx, calloutBin, calloutConfig, cfg.WorkDir, out)
	if err != nil {
		return nil, err
	}
	res.CalloutConfigValidated = true
	defer callout.stop()

	token := func(groups []string, sub string) string {
		return ping.IssueToken(pingonetest.TokenOptions{
			Subject: sub, Audience: []string{Audience}, Groups: groups, Lifetime: 15 * time.Minute,
			Extra: map[string]any{"preferred_username": sub},
		})
	}

	say("alice (Ping group nats-readers) connects with her Ping token")
	alice, aliceErrs, err := connectWithToken(url, token([]string{"nats-readers"}, "alice"))
	if err != nil {
		return nil, fmt.Errorf("alice should be allowed: %w", err)
	}
	defer alice.Close()
	sub, err := alice.SubscribeSync("orders.>")
	if err == nil {
		err = alice.Flush()
	}
	res.ReaderSubscribed = err == nil && waitNoAsyncError(aliceErrs, 200*time.Millisecond) == nil
	fmt.Fprintf(out, "    alice subscribed to orders.>: %v\n", res.ReaderSubscribed)
	_ = alice.Publish("orders.created", []byte(`{"by":"alice"}`))
	_ = alice.Flush()
	if perr := waitAsyncError(aliceErrs, 2*time.Second); perr != nil {
		res.ReaderPublishRefused = strings.Contains(strings.ToLower(perr.Error()), "permissions violation")
		fmt.Fprintf(out, "    alice publishing to orders.created: refused by the server (%v)\n", perr)
	} else {
		fmt.Fprintln(out, "    alice publishing to orders.created: NOT refused (this is wrong)")
	}

	say("bob (Ping group nats-writers) publishes an order")
	bob, _, err := connectWithToken(url, token([]string{"nats-writers"}, "bob"))
	if err != nil {
		return nil, fmt.Errorf("bob should be allowed: %w", err)
	}
	defer bob.Close()
	if err := bob.Publish("orders.created", []byte(`{"by":"bob","item":"coffee"}`)); err != nil {
		return nil, err
	}
	_ = bob.Flush()
	if msg, err := sub.NextMsg(3 * time.Second); err == nil {
		res.WriterDelivered = true
		fmt.Fprintf(out, "    alice received %s: %s\n", msg.Subject, msg.Data)
	} else {
		fmt.Fprintf(out, "    bob's message did not arrive: %v\n", err)
	}

	say("eve (Ping group marketing, mapped to nothing) tries to connect")
	if nc, _, err := connectWithToken(url, token([]string{"marketing"}, "eve")); err != nil {
		res.UnmappedRefused = true
		fmt.Fprintf(out, "    eve refused: %v\n", err)
	} else {
		nc.Close()
		fmt.Fprintln(out, "    eve was let in (this is wrong)")
	}

	say("an old token (expired an hour ago) of a writer tries to connect")
	old := ping.IssueToken(pingonetest.TokenOptions{
		Subject: "mallory", Audience: []string{Audience}, Groups: []string{"nats-writers"},
		IssuedAt: time.Now().Add(-2 * time.Hour), Lifetime: time.Hour,
	})
	if nc, _, err := connectWithToken(url, old); err != nil {
		res.ExpiredRefused = true
		fmt.Fprintf(out, "    expired token refused: %v\n", err)
	} else {
		nc.Close()
		fmt.Fprintln(out, "    expired token was let in (this is wrong)")
	}

	say("Ping rotates its signing key")
	newKID := ping.RotateKey()
	fmt.Fprintf(out, "    new key id %s, never announced before: the callout refetches the JWKS for it at once\n", newKID)
	if nc, _, err := connectWithToken(url, token([]string{"nats-writers"}, "bob")); err == nil {
		res.RotatedTokenAccepted = true
		nc.Close()
		fmt.Fprintln(out, "    a token signed with the new key is accepted (the callout refetched the JWKS once)")
	} else {
		fmt.Fprintf(out, "    a token signed with the new key was refused: %v\n", err)
	}
	say("the next plan shows the rotation as drift of natsping_trust.ping for review")
	empty, err := ws.planIsEmpty(ctx)
	if err != nil {
		return nil, err
	}
	res.RotationShownInPlan = !empty

	res.AuditLines = callout.auditLines(5, 3*time.Second)
	say("the callout's audit log (one JSON line per decision)")
	for _, l := range res.AuditLines {
		fmt.Fprintf(out, "    %s\n", l)
	}
	if cfg.Hold {
		hold(ctx, out, url, token([]string{"nats-readers"}, "alice"), token([]string{"nats-writers"}, "bob"))
	}
	return res, nil
}

// hold keeps the issuer, server and callout running so a person can try clients of their own
// (the nats CLI, nats.js, …) with fresh Ping tokens, until ctx ends (Ctrl-C).
func hold(ctx context.Context, out io.Writer, url, readerToken, writerToken string) {
	fmt.Fprintf(out, "\n==> holding: everything keeps running until Ctrl-C\n"+
		"    nats-server: %s\n"+
		"    reader token (group nats-readers, 15 minutes): %s\n"+
		"    writer token (group nats-writers, 15 minutes): %s\n"+
		"    try: nats --server %s --token \"$WRITER\" pub orders.created hello\n"+
		"         nats --server %s --token \"$READER\" sub 'orders.>'\n",
		url, readerToken, writerToken, url, url)
	<-ctx.Done()
}

// Passed reports whether every scenario behaved as the product promises.
func (r *Result) Passed() error {
	var errs []error
	check := func(ok bool, what string) {
		if !ok {
			errs = append(errs, errors.New(what))
		}
	}
	check(r.SecondPlanEmpty, "the second plan was not empty")
	check(r.ReaderSubscribed, "the reader could not subscribe")
	check(r.ReaderPublishRefused, "the reader's publish was not refused")
	check(r.WriterDelivered, "the writer's message was not delivered")
	check(r.UnmappedRefused, "a token without a mapped group was let in")
	check(r.ExpiredRefused, "an expired token was let in")
	check(r.RotatedTokenAccepted, "a token signed with Ping's new key was refused")
	check(r.RotationShownInPlan, "Ping's key rotation did not show in the plan")
	check(len(r.AuditLines) >= 5, "fewer than five audit lines")
	return errors.Join(errs...)
}

func groupNames() string {
	names := make([]string, len(Groups))
	for i, g := range Groups {
		names[i] = g.Name
	}
	return strings.Join(names, ", ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type calloutProcess struct {
	cmd   *exec.Cmd
	lines chan string
}

// startCallout runs the real binary, as an operator would, and waits for its readiness probe.
func startCallout(ctx context.Context, bin, config, workDir string, out io.Writer) (*calloutProcess, error) {
	path := filepath.Join(workDir, "callout.json")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, bin, "-config", path, "-listen", listen)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = &prefixWriter{w: out, prefix: "    callout log │ "}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &calloutProcess{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + listen + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintf(out, "    natsping-callout ready (health and metrics on %s)\n", listen)
				return p, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, errors.New("natsping-callout did not become ready within 20s; see its log above")
}

func (p *calloutProcess) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	}
}

// auditLines collects the JSON lines the service printed, waiting for at least atLeast of them.
func (p *calloutProcess) auditLines(atLeast int, wait time.Duration) []string {
	var lines []string
	deadline := time.After(wait)
	for {
		select {
		case l := <-p.lines:
			if json.Valid([]byte(l)) {
				lines = append(lines, l)
			}
		case <-deadline:
			return lines
		}
		if len(lines) >= atLeast && len(p.lines) == 0 {
			return lines
		}
	}
}

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprint(p.w, p.prefix+line)
		}
	}
	return len(b), nil
}

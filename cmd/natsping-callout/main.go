// Command natsping-callout runs the natsping auth callout service: nats-server asks it, for
// every client that presents a Ping token, which account role (if any) that person gets.
//
// Usage:
//
//	natsping-callout -config callout.json [-listen 127.0.0.1:8080] [-audit-file /var/log/natsping/audit.jsonl]
//
// The configuration is the document the natsping_trust resource renders. SIGHUP re-reads it
// (an invalid file keeps the running configuration and counts as a refused reload in /metrics);
// SIGTERM and SIGINT drain the replica and stop: /readyz turns 503 at once, the replica
// unsubscribes (the servers send new requests to the other replicas), answers every request it
// already received and exits, within 20 s. A rolling restart therefore refuses no client, as
// long as another replica is up. The file holds seeds: it should be readable by the
// service's user only, and the service warns at start and on reload when it is not.
//
// The HTTP listener serves /metrics and the readiness of the service, so it listens on the
// loopback interface by default; -listen :8080 exposes it on every interface (for a
// Prometheus scraper on another host), which is a deliberate choice.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/callout"
	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

const (
	configEnv       = "NATSPING_CALLOUT_CONFIG"
	defaultListen   = "127.0.0.1:8080"
	shutdownTimeout = 20 * time.Second
	exitUsage       = 2
	exitFailure     = 1
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, os.Interrupt)
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, sigs))
}

// run is main without the process: tests drive it with their own arguments, output and
// signals.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	fs := flag.NewFlagSet("natsping-callout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv(configEnv), "path of the callout configuration rendered by natsping_trust (default $"+configEnv+")")
	listen := fs.String("listen", defaultListen, "address for /healthz, /readyz and /metrics (loopback by default; \":8080\" serves every interface); empty disables the HTTP server")
	auditFile := fs.String("audit-file", "-", "file the JSON audit lines are appended to; - is standard output")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "natsping-callout: unexpected arguments %q; all settings are flags\n", fs.Args())
		return exitUsage
	}
	if *configPath == "" {
		fmt.Fprintf(stderr, "natsping-callout: no configuration: pass -config <file> or set %s\n", configEnv)
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	doc, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "natsping-callout: %v\n", err)
		return exitUsage
	}
	warnIfExposed(log, *configPath)

	audit := stdout
	if *auditFile != "-" {
		f, err := os.OpenFile(*auditFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "natsping-callout: opening the audit file: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		audit = f
	}

	svc, err := callout.New(doc, callout.Options{Logger: log, AuditWriter: audit})
	if err != nil {
		fmt.Fprintf(stderr, "natsping-callout: %v\n", err)
		return exitUsage
	}
	var httpSrv *http.Server
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintf(stderr, "natsping-callout: listening on %s: %v\n", *listen, err)
			_ = svc.Shutdown(context.Background())
			return exitFailure
		}
		httpSrv = &http.Server{Handler: svc.HTTPHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("HTTP server stopped", "error", err)
			}
		}()
		log.Info("serving health and metrics", "addr", ln.Addr().String())
	}
	if err := svc.Start(); err != nil {
		fmt.Fprintf(stderr, "natsping-callout: %v\n", err)
		_ = svc.Shutdown(context.Background())
		if httpSrv != nil {
			_ = httpSrv.Close()
		}
		return exitFailure
	}
	log.Info("natsping-callout started", "config", *configPath, "urls", redactURLs(doc.NATS.URLs),
		"callout_account", doc.NATS.CalloutAccount, "issuer", doc.Issuer.URL, "mappings", len(doc.Mappings),
		"xkey", doc.NATS.XKeySeed != "")

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			reload(log, svc, *configPath)
			continue
		}
		log.Info("shutting down", "signal", sig.String())
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	code := 0
	if err := svc.Shutdown(ctx); err != nil {
		log.Error("shutdown was not clean", "error", err)
		code = exitFailure
	}
	if httpSrv != nil {
		_ = httpSrv.Shutdown(ctx)
	}
	log.Info("stopped")
	return code
}

func loadConfig(path string) (*calloutconfig.Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	doc, err := calloutconfig.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration %s: %w", path, err)
	}
	return doc, nil
}

func reload(log *slog.Logger, svc *callout.Service, path string) {
	warnIfExposed(log, path)
	doc, err := loadConfig(path)
	if err == nil {
		err = svc.Reload(doc) // counts its own refusals
	} else {
		svc.CountRefusedReload()
	}
	if err != nil {
		log.Error("reload refused; the running configuration is unchanged", "config", path, "error", err.Error())
	}
}

// warnIfExposed warns when the configuration, which holds the callout account's and every
// role's signing seed, can be read by anyone but its owner. It only warns: the file's owner
// and the service's user differ in many deployments (a secret mounted by an orchestrator),
// and refusing to start over a mode would turn a hygiene problem into an outage.
func warnIfExposed(log *slog.Logger, path string) {
	info, err := os.Stat(path)
	if err != nil {
		return // loadConfig reports it
	}
	if mode := info.Mode().Perm(); mode&0o077 != 0 {
		log.Warn("the configuration file is readable by group or others, but it holds signing seeds; "+
			"restrict it with chmod 600", "config", path, "mode", fmt.Sprintf("%04o", mode))
	}
}

// redactURLs hides the credentials NATS URLs may carry (see callout.RedactURL).
func redactURLs(urls []string) []string {
	out := make([]string, len(urls))
	for i, raw := range urls {
		out[i] = callout.RedactURL(raw)
	}
	return out
}

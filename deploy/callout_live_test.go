package deploy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natstest"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

// world is what a callout replica talks to: a real nats-server and a PingOne-shaped issuer.
// The server runs without auth, so a test client can put requests on the callout's subject
// directly; what the deployment files are checked for (flags, paths, ports, metrics,
// signals) does not depend on the server's trust settings.
type world struct {
	idp     *pingonetest.Server
	natsURL string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	srv := natstest.StartServer(t, "listen: 127.0.0.1:-1\n")
	return &world{idp: idp, natsURL: srv.URL}
}

// doc is a complete, valid callout configuration for the world.
func (w *world) doc(t *testing.T) *calloutconfig.Document {
	t.Helper()
	key := func(create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string, string) {
		kp, err := create()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		return kp, pub, string(seed)
	}
	ckp, cpub, cseed := key(nkeys.CreateAccount)
	_, upub, useed := key(nkeys.CreateUser)
	ujwt, err := jwt.NewUserClaims(upub).Encode(ckp)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(ujwt, []byte(useed))
	if err != nil {
		t.Fatal(err)
	}
	_, apub, _ := key(nkeys.CreateAccount)
	_, rpub, rseed := key(nkeys.CreateAccount)
	return &calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer: calloutconfig.Issuer{
			URL: w.idp.Issuer(), Audiences: []string{pingonetest.APIAudience}, Algorithms: []string{"RS256"},
			MaxTokenLifetime: calloutconfig.Duration(time.Hour), GroupsClaim: "groups", NameClaims: []string{"name"},
			JWKSURL: w.idp.JWKSURL(), CABundlePEM: string(w.idp.CAPEM()),
			JWKSMinRefreshInterval: calloutconfig.Duration(calloutconfig.DefaultJWKSMinRefreshInterval),
		},
		NATS: calloutconfig.NATS{
			URLs: []string{w.natsURL}, CalloutAccount: cpub, CalloutAccountSeed: cseed,
			Creds: string(creds), QueueGroup: "natsping-callout",
		},
		Mappings: []calloutconfig.Mapping{{
			Name: "readers", Groups: []calloutconfig.Group{{Name: "readers"}}, Account: apub, AccountName: "ORDERS",
			Role: "reader", RoleSigningKey: rpub, RoleSigningKeySeed: rseed, MaxSession: calloutconfig.Duration(time.Hour),
		}},
	}
}

// writeConfig writes the document the way a Secret or a systemd credential presents it:
// readable by the service only.
func writeConfig(t *testing.T, path string, doc *calloutconfig.Document) {
	t.Helper()
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o400); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// calloutProc is the callout binary the image holds, running as a deployment file starts it.
type calloutProc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:<port>
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// startCallout runs the binary with exactly args and env (no inherited environment, as in a
// container or a systemd unit); httpAddr is where those args make it listen.
func startCallout(t *testing.T, args, env []string, httpAddr string) *calloutProc {
	t.Helper()
	p := &calloutProc{
		cmd:    exec.Command(calloutBinary(t), args...),
		base:   "http://" + httpAddr,
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Env = env
	p.cmd.Stdout = io.Discard // audit lines
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *calloutProc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitFor polls path until it answers want, failing with the callout's log if it never does.
func (p *calloutProc) waitFor(t *testing.T, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := p.get(t, path)
		if code == want {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("the callout exited (%v) before %s answered %d; log:\n%s", p.err, path, want, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %d %q, want %d; log:\n%s", path, code, body, want, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and waits up to limit for the process to end, returning how long it took
// and its exit code.
func (p *calloutProc) stop(t *testing.T, sig syscall.Signal, limit time.Duration) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("the callout did not stop within %s of %s; log:\n%s", limit, sig, p.stderr.String())
	}
	return time.Since(start), p.cmd.ProcessState.ExitCode()
}

func (p *calloutProc) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := p.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answers %d: %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

// sendAuthRequest puts a request on the auth callout subject the way a server would, but
// with a body no server would send: the callout refuses it, which is a decision like any
// other for its metrics.
func sendAuthRequest(t *testing.T, natsURL string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("$SYS.REQ.USER.AUTH", []byte("not a jwt")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// familyLabels are the label names a family's samples carry.
func familyLabels(f *dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			out[l.GetName()] = true
		}
	}
	if f.GetType() == dto.MetricType_HISTOGRAM {
		out["le"] = true
	}
	return out
}

func baseEnv() []string { return []string{"PATH=/usr/bin:/bin", "TZ=UTC"} }

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

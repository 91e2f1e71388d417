package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/pingonetest"
)

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

// validDoc is a complete configuration whose NATS server does not exist: the service starts,
// keeps retrying the connection and reports not ready.
func validDoc(t *testing.T, idp *pingonetest.Server) (*calloutconfig.Document, []string) {
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
	uc := jwt.NewUserClaims(upub)
	ujwt, err := uc.Encode(ckp)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(ujwt, []byte(useed))
	if err != nil {
		t.Fatal(err)
	}
	_, apub, _ := key(nkeys.CreateAccount)
	_, rpub, rseed := key(nkeys.CreateAccount)
	_, _, xseed := key(nkeys.CreateCurveKeys)
	doc := &calloutconfig.Document{
		Version: calloutconfig.Version,
		Issuer: calloutconfig.Issuer{
			URL: idp.Issuer(), Audiences: []string{pingonetest.APIAudience}, Algorithms: []string{"RS256"},
			MaxTokenLifetime: calloutconfig.Duration(time.Hour), GroupsClaim: "groups", NameClaims: []string{"name"},
			JWKSURL: idp.JWKSURL(), CABundlePEM: string(idp.CAPEM()),
			JWKSMinRefreshInterval: calloutconfig.Duration(calloutconfig.DefaultJWKSMinRefreshInterval),
		},
		NATS: calloutconfig.NATS{
			URLs: []string{"nats://127.0.0.1:1"}, CalloutAccount: cpub, CalloutAccountSeed: cseed,
			Creds: string(creds), XKeySeed: xseed, QueueGroup: "natsping-callout",
		},
		Mappings: []calloutconfig.Mapping{{
			Name: "readers", Groups: []calloutconfig.Group{{Name: "readers"}}, Account: apub, AccountName: "ORDERS",
			Role: "reader", RoleSigningKey: rpub, RoleSigningKeySeed: rseed, MaxSession: calloutconfig.Duration(time.Hour),
		}},
	}
	return doc, []string{cseed, useed, rseed, xseed}
}

func writeDoc(t *testing.T, path string, doc *calloutconfig.Document) {
	t.Helper()
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesBadInvocations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 1, "issuer": {"url": "http://auth.example.com/as"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.json")
	if err := os.WriteFile(unknown, []byte(`{"version": 1, "isuer": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "no config", want: "pass -config <file> or set NATSPING_CALLOUT_CONFIG"},
		{name: "missing file", args: []string{"-config", filepath.Join(dir, "nope.json")}, want: "reading the configuration"},
		{name: "invalid document", args: []string{"-config", bad}, want: "uses plain http"},
		{name: "invalid document from env", env: map[string]string{configEnv: bad}, want: "issuer.audiences"},
		{name: "unknown field", args: []string{"-config", unknown}, want: `unknown field "isuer"`},
		{name: "stray argument", args: []string{"-config", bad, "extra"}, want: "unexpected arguments"},
		{name: "unknown flag", args: []string{"-cofnig", bad}, want: "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr syncBuffer
			code := run(tc.args, func(k string) string { return tc.env[k] }, io.Discard, &stderr, nil)
			if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr.String(), exitUsage, tc.want)
			}
		})
	}
}

// waitLog waits for a JSON log line with msg and returns it.
func waitLog(t *testing.T, stderr *syncBuffer, msg string, skip int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		seen := 0
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
				if seen == skip {
					return rec
				}
				seen++
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line %q; stderr:\n%s", msg, stderr.String())
	return nil
}

func TestRunServesReloadsAndStops(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	doc, secrets := validDoc(t, idp)
	path := filepath.Join(t.TempDir(), "callout.json")
	writeDoc(t, path, doc)
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")

	var stderr syncBuffer
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-config", path, "-listen", "127.0.0.1:0", "-audit-file", auditPath}, func(string) string { return "" }, io.Discard, &stderr, sigs)
	}()
	addr := waitLog(t, &stderr, "serving health and metrics", 0)["addr"].(string)
	waitLog(t, &stderr, "natsping-callout started", 0)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d (NATS is unreachable)", path, resp.StatusCode, want)
		}
	}

	// An invalid file on SIGHUP keeps the running configuration and is counted as refused.
	if err := os.WriteFile(path, []byte(`{"version": 7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP
	if rec := waitLog(t, &stderr, "reload refused; the running configuration is unchanged", 0); !strings.Contains(rec["error"].(string), "version 7") {
		t.Fatalf("reload refusal does not say why: %v", rec)
	}
	if got := metricLine(t, addr, `natsping_callout_reloads_total{result="error"}`); got != "1" {
		t.Fatalf("refused reloads in /metrics = %q, want 1", got)
	}
	doc.Mappings[0].Name = "readers-v2"
	writeDoc(t, path, doc)
	sigs <- syscall.SIGHUP
	waitLog(t, &stderr, "configuration reloaded", 0)

	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "draining: no new authorization requests") {
		t.Fatalf("SIGTERM did not drain the service; stderr:\n%s", stderr.String())
	}
	for _, s := range secrets {
		if strings.Contains(stderr.String(), s) {
			t.Fatalf("a secret reached the log:\n%s", stderr.String())
		}
	}
	if _, err := os.Stat(auditPath); err != nil {
		t.Fatalf("audit file not created: %v", err)
	}
}

// metricLine returns the value of one sample in /metrics, or "" when it is absent.
func metricLine(t *testing.T, addr, sample string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}

// TestRunWarnsAboutReadableConfig: the file holds seeds, so a mode that lets group or others
// read it is called out at start and again on reload, without refusing to run.
func TestRunWarnsAboutReadableConfig(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	doc, _ := validDoc(t, idp)
	path := filepath.Join(t.TempDir(), "callout.json")
	writeDoc(t, path, doc)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-config", path, "-listen", ""}, func(string) string { return "" }, io.Discard, &stderr, sigs)
	}()
	const warning = "the configuration file is readable by group or others, but it holds signing seeds; restrict it with chmod 600"
	if rec := waitLog(t, &stderr, warning, 0); rec["mode"] != "0644" || rec["level"] != "WARN" {
		t.Fatalf("warning does not name the mode: %v", rec)
	}
	waitLog(t, &stderr, "natsping-callout started", 0)
	sigs <- syscall.SIGHUP
	waitLog(t, &stderr, warning, 1)
	waitLog(t, &stderr, "configuration reloaded", 0)
	sigs <- syscall.SIGTERM
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}

	// A file only its owner reads draws no warning.
	var quiet syncBuffer
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	sigs2 := make(chan os.Signal, 1)
	go func() {
		done <- run([]string{"-config", path, "-listen", ""}, func(string) string { return "" }, io.Discard, &quiet, sigs2)
	}()
	waitLog(t, &quiet, "natsping-callout started", 0)
	sigs2 <- syscall.SIGTERM
	<-done
	if strings.Contains(quiet.String(), warning) {
		t.Fatalf("warned about a 0600 file:\n%s", quiet.String())
	}
}

// TestRunRefusesCredentialsInURLs: the provider refuses NATS URLs with a user part, so a
// hand-edited document that has one is refused too, without printing the secret.
func TestRunRefusesCredentialsInURLs(t *testing.T) {
	t.Parallel()
	idp := pingonetest.New(pingonetest.Options{})
	t.Cleanup(idp.Close)
	for _, u := range []string{"nats://callout:hunter2@127.0.0.1:1", "nats://t0kenvalue@127.0.0.1:1"} {
		doc, _ := validDoc(t, idp)
		doc.NATS.URLs = []string{u}
		path := filepath.Join(t.TempDir(), "callout.json")
		writeDoc(t, path, doc)
		var stderr syncBuffer
		code := run([]string{"-config", path, "-listen", ""}, func(string) string { return "" }, io.Discard, &stderr, nil)
		out := stderr.String()
		if code != exitUsage || !strings.Contains(out, "nats.urls[0] carries credentials") {
			t.Fatalf("exit %d, stderr %q; want a refusal naming nats.urls[0]", code, out)
		}
		if strings.Contains(out, "hunter2") || strings.Contains(out, "t0kenvalue") {
			t.Fatalf("the refusal prints the secret: %q", out)
		}
	}
}

// TestDefaultListenIsLoopback: /metrics is not exposed beyond the host unless asked for.
func TestDefaultListenIsLoopback(t *testing.T) {
	host, _, err := net.SplitHostPort(defaultListen)
	if err != nil || !calloutconfig.IsLoopbackHost(host) {
		t.Fatalf("default -listen %q is not a loopback address", defaultListen)
	}
}

// TestRedactURLs: a NATS URL's user info is a secret either way: user:password, or a lone
// user part, which nats clients send as the auth token.
func TestRedactURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, secret string
	}{
		{in: "nats://alice:s3cret@nats.example.com:4222", want: "nats://alice:xxxxx@nats.example.com:4222", secret: "s3cret"},
		{in: "nats://t0ken-value@nats.example.com:4222", want: "nats://xxxxx@nats.example.com:4222", secret: "t0ken-value"},
		{in: "tls://nats.example.com:4222", want: "tls://nats.example.com:4222"},
		{in: "nats://%zz@host", want: "(unparsable URL)"},
	}
	for _, tc := range tests {
		got := redactURLs([]string{tc.in})[0]
		if got != tc.want || (tc.secret != "" && strings.Contains(got, tc.secret)) {
			t.Errorf("redactURLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

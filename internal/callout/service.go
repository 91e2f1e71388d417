package callout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// ServiceVersion is reported through the NATS micro service info.
const ServiceVersion = "1.0.0"

// Options tune a Service; the zero value is usable.
type Options struct {
	// Logger receives lifecycle events (never secrets, never tokens). Default: discard.
	Logger *slog.Logger
	// AuditWriter receives one JSON line per decision. Default: os.Stdout.
	AuditWriter io.Writer
	// AuditBuffer is how many audit lines may wait to be written before new ones are
	// dropped (and counted). Default 8192.
	AuditBuffer int
	// Workers bounds the decisions running at once. Default 4 × GOMAXPROCS: decisions are
	// CPU-bound except while a JWKS fetch is in flight.
	Workers int
	// Now is the clock for token and session expiry. Default time.Now.
	Now func() time.Time
	// NewVerifier replaces the OIDC verifier built from the document's issuer section
	// (tests use it to run without an issuer).
	NewVerifier func(calloutconfig.Issuer) (Verifier, error)
	// TokenCacheSize is how many verified tokens the verifier remembers (until their exp,
	// at most 5 minutes). 0 means the default of 16384; negative disables the cache.
	TokenCacheSize int
	// Connections is how many NATS connections share the work. nats-server processes
	// the replies arriving on one connection one after another (decrypting and verifying
	// each), so more than one connection lets a server check replies in parallel.
	// Default: GOMAXPROCS, at least 2 and at most 8.
	Connections int
	// Name is the NATS connection and micro service name. Default "natsping-callout".
	Name string
	// NATSOptions are appended to the connection options (e.g. TLS settings).
	NATSOptions []nats.Option
}

// Service answers auth callout requests for one callout account.
type Service struct {
	opts    Options
	log     *slog.Logger
	audit   *Auditor
	metrics *metrics
	state   atomic.Pointer[runState]
	links   atomic.Pointer[[]*link]
	sem     chan struct{}
	flight  sync.WaitGroup

	draining atomic.Bool // set when Shutdown begins (drain.go)

	mu sync.Mutex // serialises Start, Reload and Shutdown

	keys  jwksKeys              // the issuer key set across reloads; nothing else starts or stops one
	intro introspectionCounters // introspection counters across reloads
	off   *offboardState        // the offboarding bucket's revocations; nil when not configured
}

// runState is what one configuration needs at run time; it is replaced as a whole.
type runState struct {
	doc *calloutconfig.Document
	eng *engine
	iss *issuerRuntime
}

// issuerRuntime is the token verifier for one issuer section and the key set it reads.
type issuerRuntime struct {
	key      string // the issuer section as JSON: equal sections share a runtime
	verifier Verifier
	keys     *keySource // owned by Service.keys; nil when Options.NewVerifier built the verifier
}

// New checks doc, builds its verifier and signing keys, and returns a service that is not
// yet connected (see Start).
func New(doc *calloutconfig.Document, opts Options) (*Service, error) {
	if doc == nil {
		return nil, errors.New("callout: no configuration document")
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AuditWriter == nil {
		opts.AuditWriter = os.Stdout
	}
	if opts.Workers <= 0 {
		opts.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Connections <= 0 {
		opts.Connections = min(max(runtime.GOMAXPROCS(0), 2), 8)
	}
	if opts.Name == "" {
		opts.Name = "natsping-callout"
	}
	s := &Service{opts: opts, log: opts.Logger, sem: make(chan struct{}, opts.Workers), keys: jwksKeys{now: opts.Now},
		off: newOffboardState(doc.Offboarding)}
	st, err := s.build(doc, nil)
	if err != nil {
		return nil, err
	}
	s.state.Store(st)
	s.keys.commit(st.iss.keys)
	s.intro.commit(st.iss)
	s.audit = NewAuditor(opts.AuditWriter, opts.AuditBuffer)
	s.metrics = newMetrics(s)
	return s, nil
}

// build prepares a run state for doc, reusing prev's issuer runtime when the issuer
// section is unchanged so a reload keeps its verified tokens; s.keys keeps the key set when
// only the token policy changed.
func (s *Service) build(doc *calloutconfig.Document, prev *runState) (*runState, error) {
	key, err := issuerKey(doc.Issuer)
	if err != nil {
		return nil, err
	}
	var iss *issuerRuntime
	switch {
	case prev != nil && prev.iss.key == key:
		iss = prev.iss
	case s.opts.NewVerifier != nil:
		v, err := s.opts.NewVerifier(doc.Issuer)
		if err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
		iss = &issuerRuntime{key: key, verifier: v}
	default:
		ks, err := s.keys.prepare(doc.Issuer)
		if err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
		v, err := newIssuerVerifier(doc.Issuer, ks.keys, s.opts.Now, s.opts.TokenCacheSize)
		if err != nil {
			s.keys.discard(ks)
			return nil, fmt.Errorf("issuer: %w", err)
		}
		iss = &issuerRuntime{key: key, verifier: v, keys: ks}
	}
	eng, err := newEngine(doc, iss.verifier, s.opts.Now)
	if err != nil {
		// The running configuration stays; a key set prepared for this one goes.
		s.keys.discard(iss.keys)
		return nil, err
	}
	eng.offboard = s.off
	return &runState{doc: doc, eng: eng, iss: iss}, nil
}

// dispatch hands a request to a worker; when all workers are busy it blocks, which leaves
// further requests queued in the subscription instead of spawning without bound.
func (s *Service) dispatch(req micro.Request) {
	s.sem <- struct{}{}
	s.flight.Add(1)
	go func() {
		defer func() {
			<-s.sem
			s.flight.Done()
		}()
		s.answer(req)
	}()
}

func (s *Service) answer(req micro.Request) {
	st := s.state.Load()
	if !s.off.wait(st.eng.limit) {
		// Without the bucket the service cannot know whom to refuse; not answering leaves the
		// request to the server's auth timeout, which refuses it (fail closed).
		s.refuseUnloaded(st)
		return
	}
	reply, d := st.eng.handle(context.Background(), req.Data(), req.Headers().Get(ServerXKeyHeader))
	if err := req.Respond(reply); err != nil {
		s.metrics.noReply.Inc()
		s.log.Warn("could not send the authorization reply", "error", err)
	}
	s.metrics.observe(d)
	s.audit.Record(d.record(), st.doc.NATS.AuditSubject)
}

// Reload swaps in a new configuration. Requests already running finish with the old one.
// Connection settings (URLs, creds, queue group) need a restart and are refused here, so a
// reload can never leave the service half-connected.
func (s *Service) Reload(doc *calloutconfig.Document) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.reload(doc)
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	s.metrics.reloads.WithLabelValues("ok").Inc()
	return nil
}

// CountRefusedReload records a reload that was refused before a document existed (the file
// could not be read or parsed), so /metrics counts every refused reload, not only those that
// reached Reload.
func (s *Service) CountRefusedReload() { s.metrics.reloads.WithLabelValues("error").Inc() }

func (s *Service) reload(doc *calloutconfig.Document) error {
	if doc == nil {
		return errors.New("callout: no configuration document")
	}
	if err := doc.Validate(); err != nil {
		return err
	}
	prev := s.state.Load()
	var fixed []string
	if !slices.Equal(prev.doc.NATS.URLs, doc.NATS.URLs) {
		fixed = append(fixed, "nats.urls")
	}
	if prev.doc.NATS.Creds != doc.NATS.Creds {
		fixed = append(fixed, "nats.creds")
	}
	if prev.doc.NATS.QueueGroup != doc.NATS.QueueGroup {
		fixed = append(fixed, "nats.queue_group")
	}
	if !offboardingEqual(prev.doc.Offboarding, doc.Offboarding) {
		fixed = append(fixed, "offboarding")
	}
	if len(fixed) > 0 {
		return fmt.Errorf("changing %v needs a restart of the service; the running configuration is unchanged", fixed)
	}
	next, err := s.build(doc, prev)
	if err != nil {
		return err
	}
	s.state.Store(next)
	s.keys.commit(next.iss.keys)
	s.intro.commit(next.iss)
	s.log.Info("configuration reloaded", "mappings", len(doc.Mappings), "issuer_changed", next.iss != prev.iss)
	return nil
}

// Auditor is where this service writes its audit lines.
func (s *Service) Auditor() *Auditor { return s.audit }

func (s *Service) keyStats() oidc.KeySetStats { return s.keys.stats() }

package callout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// Reasons of the offboarding checks.
const (
	// ReasonOffboarded: the token's identity, mapping or role is revoked from a cutoff after
	// the token's iat (or the token has no iat).
	ReasonOffboarded Reason = "offboarded"
	// ReasonOffboardingNotLoaded: the bucket has not been read yet, so the service cannot
	// know whom it must refuse. Such requests get no reply at all (see Service.answer).
	ReasonOffboardingNotLoaded Reason = "offboarding_not_loaded"
)

// offboardState is the live set of revocations, shared by every configuration snapshot: the
// bucket is watched for the life of the process, reloads do not reset it.
type offboardState struct {
	cfg     calloutconfig.Offboarding
	set     atomic.Pointer[offboard.Set] // nil until the initial values are in
	loaded  chan struct{}                // closed with the first complete set
	lastErr atomic.Pointer[string]
	updates atomic.Uint64
	broken  atomic.Uint64 // values that did not decode (they still revoke, see offboard.Decode)
	cancel  context.CancelFunc
	done    chan struct{}
	nc      *nats.Conn // the watch's own connection, so the links' subscriptions stay the service's
}

func newOffboardState(cfg *calloutconfig.Offboarding) *offboardState {
	if cfg == nil {
		return nil
	}
	return &offboardState{cfg: *cfg, loaded: make(chan struct{})}
}

// refuses reports the entry that refuses a token admitted through m. A service configured for
// offboarding that has not read the bucket refuses everything: it cannot know whom to refuse.
func (o *offboardState) refuses(id *oidc.Identity, m *mapping) (offboard.Entry, Reason, bool) {
	if o == nil {
		return offboard.Entry{}, "", false
	}
	set := o.set.Load()
	if set == nil {
		return offboard.Entry{}, ReasonOffboardingNotLoaded, true
	}
	e, ok := set.Match(offboard.Query{Subject: id.Subject, ClientID: id.ClientID, IssuedAt: id.IssuedAt,
		Mapping: m.name, Account: m.account, Role: m.role})
	if !ok {
		return offboard.Entry{}, "", false
	}
	return e, ReasonOffboarded, true
}

// wait blocks until the initial values are in or d passes; it reports whether they are.
func (o *offboardState) wait(d time.Duration) bool {
	if o == nil {
		return true
	}
	select {
	case <-o.loaded:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-o.loaded:
		return true
	case <-t.C:
		return false
	}
}

func (o *offboardState) ready() error {
	if o == nil || o.set.Load() != nil {
		return nil
	}
	if p := o.lastErr.Load(); p != nil {
		return fmt.Errorf("offboarding bucket %q not loaded: %s", o.cfg.Bucket, *p)
	}
	return fmt.Errorf("offboarding bucket %q not loaded yet", o.cfg.Bucket)
}

// startOffboarding connects the bucket watch: a connection of its own, as the callout
// service user, reconnecting forever like the links.
func (s *Service) startOffboarding(urls []string, ujwt string, sign nats.SignatureHandler) error {
	if s.off == nil {
		return nil
	}
	opts := append([]nats.Option{
		nats.Name(s.opts.Name + " offboarding"),
		nats.UserJWT(func() (string, error) { return ujwt, nil }, sign),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
		nats.RetryOnFailedConnect(true),
		nats.IgnoreAuthErrorAbort(),
	}, s.opts.NATSOptions...)
	nc, err := nats.Connect(joinURLs(urls), opts...)
	if err != nil {
		return fmt.Errorf("connecting the offboarding watch to NATS: %w", err)
	}
	s.off.start(nc, s.log)
	return nil
}

// start watches the bucket on nc until stop. The watch is restarted after any failure; the
// last complete set keeps being enforced meanwhile.
func (o *offboardState) start(nc *nats.Conn, log *slog.Logger) {
	if o == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel, o.done, o.nc = cancel, make(chan struct{}), nc
	go func() {
		defer close(o.done)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := o.watch(ctx, nc)
			if ctx.Err() != nil {
				return
			}
			msg := err.Error()
			o.lastErr.Store(&msg)
			log.Warn("watching the offboarding bucket", "bucket", o.cfg.Bucket, "error", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

func (o *offboardState) stop() {
	if o == nil || o.cancel == nil {
		return
	}
	o.cancel()
	<-o.done
	o.nc.Close()
}

// watch reads the whole bucket into a fresh set, publishes it when the initial values are in
// (nats.go marks that with a nil entry), then applies each update as it arrives.
func (o *offboardState) watch(ctx context.Context, nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	kv, err := offboard.EnsureBucket(octx, js, o.cfg)
	cancel()
	if err != nil {
		return err
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watching: %w", err)
	}
	defer func() { _ = w.Stop() }()
	set := offboard.NewSet(nil)
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("the watch ended")
			}
			if e == nil {
				if initial {
					initial = false
					o.publish(set)
				}
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValuePut:
				ent, err := offboard.Decode(e.Key(), e.Value())
				if err != nil {
					o.broken.Add(1)
					if ent.Kind == "" {
						// The key itself names nothing a token could match.
						continue
					}
				}
				set = set.With(ent)
			case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
				set = set.Without(e.Key())
			}
			o.updates.Add(1)
			if !initial {
				o.publish(set)
			}
		}
	}
}

func (o *offboardState) publish(set *offboard.Set) {
	first := o.set.Swap(set) == nil
	o.lastErr.Store(nil)
	if first {
		close(o.loaded)
	}
}

// offboardCollectors export the bucket's state; refusals are decisions_total{reason="offboarded"}.
func offboardCollectors(o *offboardState) []prometheus.Collector {
	if o == nil {
		return nil
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "natsping_callout", Name: "offboarding_loaded",
			Help: "1 once the offboarding bucket has been read; until then no request is answered.",
		}, func() float64 {
			if o.set.Load() == nil {
				return 0
			}
			return 1
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "natsping_callout", Name: "offboarding_entries",
			Help: "Revocations currently enforced (identities, mappings and roles).",
		}, func() float64 { return float64(o.set.Load().Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "offboarding_updates_total",
			Help: "Bucket values and deletions received.",
		}, func() float64 { return float64(o.updates.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "offboarding_unreadable_values_total",
			Help: "Bucket values that did not decode; each still refuses every token of its key.",
		}, func() float64 { return float64(o.broken.Load()) }),
	}
}

func offboardingEqual(a, b *calloutconfig.Offboarding) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// refuseUnloaded records a request left unanswered because the bucket is not loaded.
func (s *Service) refuseUnloaded(st *runState) {
	detail := "the offboarding bucket has not been read yet; the request was not answered"
	if err := s.off.ready(); err != nil {
		detail += " (" + err.Error() + ")"
	}
	d := &decision{Started: s.opts.Now(), Reason: ReasonOffboardingNotLoaded, Detail: detail}
	s.metrics.observe(d)
	s.audit.Record(d.record(), st.doc.NATS.AuditSubject)
}

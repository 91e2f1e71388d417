package callout

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// metrics live in a registry per Service, so several services (replicas in one test
// process) never collide on the global registry.
type metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	reloads   *prometheus.CounterVec
	noReply   prometheus.Counter
}

func newMetrics(s *Service) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "decisions_total",
			Help: "Authorization decisions by result (allow/deny) and reason.",
		}, []string{"result", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "natsping_callout", Name: "decision_duration_seconds",
			Help: "Time from receiving a request to having its reply ready.",
			// Decisions take hundreds of microseconds unless keys are being fetched; the
			// server gives up after its auth timeout (2 s by default).
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2},
		}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "reloads_total",
			Help: "Configuration reloads by result (ok/error).",
		}, []string{"result"}),
		noReply: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "reply_failures_total",
			Help: "Replies that could not be published to the server.",
		}),
	}
	m.reg.MustRegister(m.decisions, m.latency, m.reloads, m.noReply,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "audit_dropped_total",
			Help: "Audit lines dropped because the audit buffer was full.",
		}, func() float64 { return float64(s.audit.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "jwks_fetches_total",
			Help: "JWKS requests started (all issuers this process has used).",
		}, func() float64 { st := s.keyStats(); return float64(st.Fetches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "jwks_fetch_failures_total",
			Help: "JWKS requests that failed or returned no usable key.",
		}, func() float64 { st := s.keyStats(); return float64(st.FetchFailures) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "natsping_callout", Name: "jwks_suppressed_refreshes_total",
			Help: "Unknown-kid refreshes refused by the refresh rate limit.",
		}, func() float64 { st := s.keyStats(); return float64(st.SuppressedRefreshes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "natsping_callout", Name: "jwks_keys",
			Help: "Usable signing keys currently cached.",
		}, func() float64 { st := s.keyStats(); return float64(st.Keys) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "natsping_callout", Name: "nats_connections",
			Help: "NATS connections currently up.",
		}, func() float64 { return float64(s.connected()) }),
	)
	m.reg.MustRegister(introspectionCollectors(&s.intro)...)
	m.reg.MustRegister(drainingCollector(s))
	m.reg.MustRegister(offboardCollectors(s.off)...)
	return m
}

// introspectionCollectors export the introspector's counters. Requests against failures and
// inactive answers tell an endpoint that is down from revocations; cache hits and stale answers
// show how much the 30 s fresh window and the outage fallback carry; rate-limited and
// suppressed calls are tokens refused without asking the issuer.
func introspectionCollectors(c *introspectionCounters) []prometheus.Collector {
	counter := func(name, help string, field func(oidc.IntrospectionStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "natsping_callout", Name: name, Help: help},
			func() float64 { return float64(field(c.stats())) })
	}
	gauge := func(name, help string, field func(oidc.IntrospectionStats) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "natsping_callout", Name: name, Help: help},
			func() float64 { return float64(field(c.stats())) })
	}
	return []prometheus.Collector{
		counter("introspection_requests_total", "Introspection calls sent to the issuer for opaque tokens.",
			func(st oidc.IntrospectionStats) uint64 { return st.Requests }),
		counter("introspection_failures_total", "Introspection calls that got no usable answer (transport, HTTP status or body).",
			func(st oidc.IntrospectionStats) uint64 { return st.Failures }),
		counter("introspection_inactive_total", "Introspection answers saying a token is not active (revoked, expired or unknown).",
			func(st oidc.IntrospectionStats) uint64 { return st.Inactive }),
		counter("introspection_cache_hits_total", "Opaque tokens decided on a cached answer still fresh, without a call.",
			func(st oidc.IntrospectionStats) uint64 { return st.CacheHits }),
		counter("introspection_stale_served_total", "Cached answers used past their fresh window because the endpoint could not be asked.",
			func(st oidc.IntrospectionStats) uint64 { return st.StaleServed }),
		counter("introspection_rate_limited_total", "Introspection calls not sent because a call budget was spent.",
			func(st oidc.IntrospectionStats) uint64 { return st.RateLimited }),
		counter("introspection_suppressed_total", "Introspection calls not sent during the pause after a failure.",
			func(st oidc.IntrospectionStats) uint64 { return st.Suppressed }),
		gauge("introspection_cache_entries", "Positive introspection answers currently cached.",
			func(st oidc.IntrospectionStats) int { return st.CacheEntries }),
		gauge("introspection_cache_bytes", "Bytes the cached introspection answers are charged with.",
			func(st oidc.IntrospectionStats) int { return st.CacheBytes }),
	}
}

// introspectionCounters add up the introspectors of every issuer runtime the service has
// run. A reload that changes the issuer section starts a new introspector at zero, and a
// Prometheus counter must never go backwards. A decision still running on the old runtime
// when it is retired is not counted: losing a handful of increments is better than holding
// every retired runtime, and its cache, to count them.
type introspectionCounters struct {
	mu      sync.Mutex
	live    *issuerRuntime
	retired oidc.IntrospectionStats
}

// commit makes iss the live runtime, keeping the counters of the one it replaces.
func (c *introspectionCounters) commit(iss *issuerRuntime) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live == iss {
		return
	}
	if c.live != nil {
		c.retired = addIntrospectionCounts(c.retired, c.live.introspectionStats())
	}
	c.live = iss
}

// stats are the retired counters plus the live ones; the cache sizes are the live cache's.
func (c *introspectionCounters) stats() oidc.IntrospectionStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.retired
	if c.live == nil {
		return st
	}
	cur := c.live.introspectionStats()
	st = addIntrospectionCounts(st, cur)
	st.CacheEntries, st.CacheBytes = cur.CacheEntries, cur.CacheBytes
	return st
}

func addIntrospectionCounts(sum, st oidc.IntrospectionStats) oidc.IntrospectionStats {
	sum.Requests += st.Requests
	sum.Failures += st.Failures
	sum.Inactive += st.Inactive
	sum.CacheHits += st.CacheHits
	sum.StaleServed += st.StaleServed
	sum.RateLimited += st.RateLimited
	sum.Suppressed += st.Suppressed
	return sum
}

func (m *metrics) observe(d *decision) {
	result := "deny"
	if d.Allowed {
		result = "allow"
	}
	m.decisions.WithLabelValues(result, string(d.Reason)).Inc()
	m.latency.WithLabelValues(result).Observe(d.Latency.Seconds())
}

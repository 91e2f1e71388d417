package callout

import (
	"github.com/prometheus/client_golang/prometheus"
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
	return m
}

func (m *metrics) observe(d *decision) {
	result := "deny"
	if d.Allowed {
		result = "allow"
	}
	m.decisions.WithLabelValues(result, string(d.Reason)).Inc()
	m.latency.WithLabelValues(result).Observe(d.Latency.Seconds())
}

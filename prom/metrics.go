package prom

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/dispatch"
)

// Options configure Metrics. Store and Clock are required.
type Options struct {
	// Store is wrapped (Metrics.Store) and counted for the callbacks gauge.
	Store callbackd.Store
	// Clock decides when a count is stale.
	Clock callbackd.Clock
	// CountTTL is how long one count of the callbacks serves scrapes
	// (default 15 s: Prometheus' usual scrape interval).
	CountTTL time.Duration
	// Logger gets errors of the exposition (a failed count); nil:
	// slog.Default().
	Logger *slog.Logger
}

// Metrics is callbackd's registry and the series it keeps. It implements
// httpapi.RequestObserver and dispatch.Observer. A registry of its own
// (not the global default) keeps tests and several servers in one process
// apart.
type Metrics struct {
	reg             *prometheus.Registry
	store           callbackd.Store
	log             *slog.Logger
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	lateness        *prometheus.HistogramVec
	submitFailures  *prometheus.CounterVec
	storeDuration   *prometheus.HistogramVec
}

// New builds the registry and its series.
func New(o Options) *Metrics {
	if o.CountTTL <= 0 {
		o.CountTTL = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: o.Logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbackd_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callbackd_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		lateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callbackd_dispatch_lateness_seconds",
			Help:    "Time from a callback's due time to the executor accepting it, by where it was submitted (loop, request).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}, []string{"via"}),
		submitFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbackd_submit_failures_total",
			Help: "Submission attempts that did not hand a callback to execution, by kind (retryable, max_attempts, permanent, configuration).",
		}, []string{"kind"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callbackd_store_operation_duration_seconds",
			Help:    "Time of a store operation, by Store method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"op"}),
	}
	// Series that exist from the start, at zero, so that rate() and
	// alerts see them before the first event.
	for _, via := range []string{dispatch.ViaLoop, dispatch.ViaRequest} {
		m.lateness.WithLabelValues(via)
	}
	for _, kind := range []string{dispatch.FailureRetryable, dispatch.FailureMaxAttempts, dispatch.FailurePermanent, dispatch.FailureConfiguration} {
		m.submitFailures.WithLabelValues(kind)
	}
	m.store = instrument(&instrumentedStore{Store: o.Store, ops: m.storeDuration})
	m.reg.MustRegister(m.requests, m.requestDuration, m.lateness, m.submitFailures, m.storeDuration,
		newCallbacksCollector(m.store, o.Clock, o.CountTTL),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Store is the store given in Options, timing every operation. Give it to
// the use cases and the dispatcher. It is a callbackd.AgentStore when the
// given store is one.
func (m *Metrics) Store() callbackd.Store { return m.store }

// Handler serves the exposition. A collector that fails (the store cannot
// be counted) leaves its series out and is logged; the other series are
// still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// ObserveRequest implements httpapi.RequestObserver.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = knownMethod(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// knownMethod bounds the method label: any method can be sent.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// HandedOff implements dispatch.Observer.
func (m *Metrics) HandedOff(via string, late time.Duration) {
	m.lateness.WithLabelValues(via).Observe(late.Seconds())
}

// SubmitFailed implements dispatch.Observer.
func (m *Metrics) SubmitFailed(kind string) {
	m.submitFailures.WithLabelValues(kind).Inc()
}

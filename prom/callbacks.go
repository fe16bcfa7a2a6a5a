package prom

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbackd/callbackd"
)

// countTimeout bounds one count, well under Prometheus' default scrape
// timeout (10 s).
const countTimeout = 5 * time.Second

// callbacksCollector is the callbacks{service,state} gauge, read from the
// store at scrape time, and cached for ttl because a count walks a whole
// index (see the package doc).
type callbacksCollector struct {
	store callbackd.Store
	clock callbackd.Clock
	ttl   time.Duration
	desc  *prometheus.Desc

	// mu is held during a count, so that concurrent scrapes share it
	// instead of each running their own.
	mu     sync.Mutex
	at     time.Time
	counts []callbackd.StateCount
}

func newCallbacksCollector(store callbackd.Store, clock callbackd.Clock, ttl time.Duration) *callbacksCollector {
	return &callbacksCollector{store: store, clock: clock, ttl: ttl,
		desc: prometheus.NewDesc("callbackd_callbacks",
			"Callbacks in the store, by service and state (counted at most once per TTL; database-wide with PostgreSQL).",
			[]string{"service", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *callbacksCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. Every state of a service that
// has callbacks is sent, at 0 when empty, so that a queue that drains
// shows 0 instead of vanishing.
func (c *callbacksCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.get()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	byService := map[string]map[callbackd.State]int{}
	var services []string
	for _, sc := range counts {
		if byService[sc.Service] == nil {
			byService[sc.Service] = map[callbackd.State]int{}
			services = append(services, sc.Service)
		}
		byService[sc.Service][sc.State] += sc.Count
	}
	for _, svc := range services {
		for _, st := range callbackd.States {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(byService[svc][st]), svc, string(st))
		}
	}
}

// get returns the cached counts, counting again when they are older than
// the TTL (or the clock went back).
func (c *callbacksCollector) get() ([]callbackd.StateCount, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if !c.at.IsZero() && now.Sub(c.at) < c.ttl && !now.Before(c.at) {
		return c.counts, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	counts, err := c.store.CountByState(ctx)
	if err != nil {
		return nil, err
	}
	c.at, c.counts = now, counts
	return counts, nil
}

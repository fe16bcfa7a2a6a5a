package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbackd/callbackd"
)

// Options describe one run.
type Options struct {
	// URL is the service's base, base path included:
	// http://127.0.0.1:8080/genesys.
	URL string
	// Service is the callback service the requests address.
	Service string
	Mix     Mix
	// Connections is how many requests are in flight at most, each worker
	// on a kept-alive connection of its own.
	Connections int
	// Rate is the target in requests per second, all ops together. 0
	// sends as fast as the connections allow (closed loop). Above 0 the
	// run is open-loop: request i is due at start + i/Rate whether or not
	// earlier ones were answered, and its latency is counted from when it
	// was due, so a stalled service shows in the percentiles instead of
	// slowing the load down (coordinated omission).
	Rate float64
	// Duration and Requests end the run, whichever comes first; at least
	// one must be set. A service that falls behind an open-loop rate stops
	// being sent requests at Duration, and the report says how many were
	// due but not sent.
	Duration time.Duration
	Requests int
	// AvailDays is number-of-days of availability queries (1-7).
	AvailDays int
	// Pool is how many scheduled callbacks are created before the clock
	// starts when the mix queries, reschedules or cancels: those ops work
	// on callbacks of the run. Scheduled starts of the run join the pool.
	Pool int
	// Preload creates that many scheduled callbacks over HTTP, with the
	// run's connections, before the clock starts (they also serve as the
	// pool). With neither Duration nor Requests, Run only preloads.
	Preload int
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// Clock gives "now" for desired times and availability periods: the
	// service's clock (default: the machine's). Latency is always measured
	// on the machine's clock.
	Clock callbackd.Clock
	// Numbers gives customer numbers (default: a random start).
	Numbers *Numbers
	// Progress receives one line per second while the run lasts; nil for
	// none.
	Progress io.Writer
	// Label names the run in the report ("callbackd", "baseline").
	Label string
	// KeepIDs keeps the ids of the callbacks the measured requests created
	// and cancelled in Result.Created (tests check them in the store).
	KeepIDs bool
}

// timer measures latency and paces an open-loop run. It is the
// machine's clock even when Options.Clock is a test's manual clock.
var timer callbackd.Clock = callbackd.SystemClock{}

func (o *Options) check() error {
	switch {
	case o.URL == "":
		return errors.New("no URL")
	case o.Service == "":
		return errors.New("no service")
	case o.Connections < 1:
		return fmt.Errorf("connections %d: need at least 1", o.Connections)
	case o.Rate < 0:
		return fmt.Errorf("rate %g: must be 0 (as fast as possible) or above", o.Rate)
	case o.Duration <= 0 && o.Requests <= 0 && o.Preload <= 0:
		return errors.New("give a duration, a request count or a preload count")
	case o.AvailDays < 1 || o.AvailDays > 7:
		return fmt.Errorf("availability days %d: must be 1-7", o.AvailDays)
	}
	if _, _, _, err := target(o.URL); err != nil {
		return err
	}
	if len(o.Mix.cycle()) == 0 {
		return errors.New("empty mix")
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Clock == nil {
		o.Clock = callbackd.SystemClock{}
	}
	if o.Numbers == nil {
		o.Numbers = NewRandomNumbers()
	}
	return nil
}

// Run sends the load and reports what the service answered. Cancelling
// ctx stops sending; requests in flight finish and are counted.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	p := &pool{limit: poolLimit}
	r := &Result{Label: o.Label, URL: o.URL, Service: o.Service, Mix: o.Mix.String(), Connections: o.Connections, Rate: o.Rate}
	if n := o.Preload; n > 0 || o.Mix.usesPool() && o.Pool > 0 {
		n = max(n, o.Pool)
		took, err := preloadHTTP(ctx, &o, p, n, o.Progress)
		if err != nil {
			return nil, fmt.Errorf("creating %d callbacks before the run: %w", n, err)
		}
		r.Preloaded, r.PreloadSeconds = n, took.Seconds()
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		return r, nil
	}

	cycle := o.Mix.cycle()
	var next, done, failed atomic.Int64
	tallies := make([]*tally, o.Connections)
	clients := make([]*client, o.Connections)
	start := timer.Now()
	stopProgress := progress(o.Progress, o.Label, start, &done, &failed)
	var wg sync.WaitGroup
	for w := range o.Connections {
		t, c := newTally(), newClient(&o, p, uint64(start.UnixNano())+uint64(w))
		tallies[w], clients[w] = t, c
		wg.Go(func() {
			defer c.conn.close()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if o.Requests > 0 && i >= int64(o.Requests) {
					return
				}
				sent := timer.Now()
				if o.Duration > 0 && sent.Sub(start) >= o.Duration {
					return
				}
				if o.Rate > 0 {
					due := start.Add(time.Duration(float64(i) / o.Rate * 1e9))
					if o.Duration > 0 && due.Sub(start) >= o.Duration {
						return
					}
					if wait := due.Sub(sent); wait > 0 && !sleep(ctx, wait) {
						return
					}
					sent = due
				}
				op, fail := c.do(cycle[i%int64(len(cycle))])
				t.record(op, timer.Now().Sub(sent), fail)
				done.Add(1)
				if fail != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := timer.Now().Sub(start)
	stopProgress()

	all := newTally()
	r.Elapsed = elapsed.Seconds()
	if o.Rate > 0 && o.Duration > 0 { // due within the run but never sent: the service fell behind
		due := int64(o.Rate * o.Duration.Seconds())
		if o.Requests > 0 {
			due = min(due, int64(o.Requests))
		}
		r.NotSent = int(max(0, due-done.Load()))
	}
	for w, t := range tallies {
		all.merge(t)
		r.Fallbacks += clients[w].fallback
		r.Created = append(r.Created, clients[w].created...)
	}
	r.summarise(all, elapsed)
	return r, nil
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// progress prints one line per second: time since start, requests
// answered in the last second, errors in the last second and in all.
// The returned func stops it.
func progress(w io.Writer, label string, start time.Time, done, failed *atomic.Int64) func() {
	var lastDone, lastFailed int64
	last := start
	return everySecond(w, func(now time.Time) string {
		d, f := done.Load(), failed.Load()
		rate := float64(d-lastDone) / now.Sub(last).Seconds()
		lastDone, lastFailed, last = d, f, now
		return fmt.Sprintf("%-9s %5.0fs %9.0f req/s  errors %d (total %d)", label, now.Sub(start).Seconds(), rate, f-lastFailed, f)
	})
}

// everySecond writes line's result to w once a second until the returned
// func is called; with no w it does nothing.
func everySecond(w io.Writer, line func(now time.Time) string) func() {
	if w == nil {
		return func() {}
	}
	stop, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				fmt.Fprintln(w, line(timer.Now()))
			}
		}
	}()
	return func() { close(stop); <-finished }
}

package loadgen

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
)

// preloadHTTP creates n scheduled callbacks over HTTP with the run's
// connections, puts them in the pool, and fails on the first refusal: a
// preload that does not load would make every later figure a lie.
func preloadHTTP(ctx context.Context, o *Options, p *pool, n int, w io.Writer) (time.Duration, error) {
	start := timer.Now()
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	stop := progressCount(w, "preload", start, int64(n), &done)
	defer stop()
	var wg sync.WaitGroup
	for k := range o.Connections {
		c := newClient(o, p, uint64(start.UnixNano())^uint64(k)<<32)
		c.keepIDs = false // preloaded callbacks are not the run's measured ones
		wg.Go(func() {
			defer c.conn.close()
			for ctx.Err() == nil && next.Add(1) <= int64(n) {
				if fail := c.start(OpStart, c.desired()); fail != nil {
					once.Do(func() { firstErr = fmt.Errorf("start refused: %+v", *fail) })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return timer.Now().Sub(start), firstErr
}

// progressCount prints, once a second, how far a preload has come.
func progressCount(w io.Writer, label string, start time.Time, n int64, done *atomic.Int64) func() {
	return everySecond(w, func(now time.Time) string {
		el, d := now.Sub(start).Seconds(), done.Load()
		return fmt.Sprintf("%-9s %5.0fs %9d of %d (%.0f/s)", label, el, d, n, float64(d)/el)
	})
}

// Importer stores already-validated callbacks in bulk: the server's
// callbacks.Manager over a store that implements callbackd.Importer.
type Importer interface {
	Import(ctx context.Context, service string, requests []callbacks.Params) ([]string, error)
}

// importChunk is how many callbacks go in one import transaction: large
// enough that the commit's fsync does not count, small enough to keep the
// requests of one chunk in memory.
const importChunk = 25_000

// PreloadImport writes n scheduled callbacks straight into a store,
// before any server runs on it: through the same validation as
// Start-Callback, but in transactions of 25,000 instead of one per
// callback, so a million take minutes rather than the hour one fsync per
// request would cost. One chunk per core at a time: validation (number
// parsing) runs in parallel while the store writes another chunk. Desired
// times are spread evenly over the week after now+1h, so each 5-minute
// bucket of the week gets n/2,016.
func PreloadImport(ctx context.Context, imp Importer, service string, n int, clock callbackd.Clock, numbers *Numbers, w io.Writer) error {
	if clock == nil {
		clock = callbackd.SystemClock{}
	}
	if numbers == nil {
		numbers = NewRandomNumbers()
	}
	now := clock.Now()
	start := timer.Now()
	var next, done atomic.Int64
	stop := progressCount(w, "preload", start, int64(n), &done)
	defer stop()
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(importChunk)) - importChunk
				if i >= n {
					return
				}
				reqs := make([]callbacks.Params, 0, min(importChunk, n-i))
				for j := i; j < min(i+importChunk, n); j++ {
					desired := now.Add(scheduleAhead + time.Duration(float64(scheduleWindow)*float64(j)/float64(n)))
					reqs = append(reqs, callbacks.Params{
						callbackd.KeyCustomerNumber: numbers.Next(),
						callbackd.KeyDesiredTime:    callbackd.FormatTime(desired),
						"usr_source":                "bench-preload",
					})
				}
				if _, err := imp.Import(ctx, service, reqs); err != nil {
					errs <- fmt.Errorf("import of callbacks %d-%d: %w", i, i+len(reqs)-1, err)
					return
				}
				done.Add(int64(len(reqs)))
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

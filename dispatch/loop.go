package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// The loop is a pipeline: Workers goroutines take claimed callbacks from a
// queue that holds at most Workers more, and the loop claims the next
// batch as soon as the last callback of the previous one is queued, while
// up to 2×Workers submissions of it are still ahead. A lockstep loop
// (claim, submit all, wait for the slowest, claim again) left the workers
// idle during every claim and behind every batch's slowest submission.
//
// A claimed callback waits behind at most Batch+Workers others before a
// worker takes it, about what it waited in lockstep (Batch); the lease
// rule in submit still hands back any claim whose lease is less than half
// left by then, so a slow platform costs claims handed back, never an
// attempt that outlives its lease.

// job is one claimed callback waiting for a worker, with the pause
// switches read after its claim.
type job struct {
	cb     *callbackd.Callback
	paused map[string]bool
}

// startWorkers runs n goroutines that submit what is queued until the
// queue is closed and empty; wait returns when they are done.
// Submissions finish even when the loop is stopping: a claimed callback
// that is not submitted, or whose result is not recorded, would cost a
// second attempt.
func (d *Dispatcher) startWorkers(ctx context.Context, n int) (queue chan job, wait func()) {
	queue = make(chan job, n)
	ctx = context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				d.submit(ctx, j.cb, j.paused, ViaLoop)
			}
		}()
	}
	return queue, wg.Wait
}

// feed claims one batch of due callbacks and queues them for the workers.
// It returns how many it claimed once they are all queued, not submitted.
func (d *Dispatcher) feed(ctx context.Context, queue chan<- job) (int, error) {
	jobs, err := d.claimJobs(ctx)
	for _, j := range jobs {
		queue <- j
	}
	return len(jobs), err
}

// claimJobs claims one batch of due callbacks and reads the pause
// switches they are submitted under.
func (d *Dispatcher) claimJobs(ctx context.Context) ([]job, error) {
	claimed, err := d.claim(ctx, "")
	if err != nil || len(claimed) == 0 {
		return nil, err // most polls: nothing due, nothing more to read
	}
	paused, err := d.paused(ctx)
	if err != nil {
		return nil, err
	}
	jobs := make([]job, len(claimed))
	for i, cb := range claimed {
		jobs[i] = job{cb: cb, paused: paused}
	}
	return jobs, nil
}

// RunOnce claims one batch of due callbacks and submits them, at most
// Workers at a time, and returns once every result is recorded. It
// returns how many it claimed. Tests drive the dispatcher with it; Start
// overlaps batches instead.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	jobs, err := d.claimJobs(ctx)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	queue, wait := d.startWorkers(ctx, min(d.o.Workers, len(jobs)))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wait()
	return len(jobs), nil
}

// Start runs the claim loop in the background until Stop.
func (d *Dispatcher) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	d.stop, d.done = cancel, make(chan struct{})
	queue, wait := d.startWorkers(ctx, d.o.Workers)
	go func() {
		defer close(d.done)
		defer wait()
		defer close(queue)
		d.loop(ctx, queue)
	}()
}

// loop claims and queues batches until ctx ends: at once after a full
// batch (more is due), within Poll or a Wake otherwise.
func (d *Dispatcher) loop(ctx context.Context, queue chan<- job) {
	var lastSweep time.Time
	failures := 0
	for ctx.Err() == nil {
		started := time.Now()
		if started.Sub(lastSweep) >= sweepEvery {
			if _, _, err := d.Sweep(ctx); err != nil && ctx.Err() == nil {
				d.o.Logger.ErrorContext(ctx, "dispatch: sweep failed", "error", err)
			}
			lastSweep = started
		}
		n, err := d.feed(ctx, queue)
		wait := d.o.Poll
		switch {
		case err != nil && ctx.Err() == nil:
			// The store is away (503 for clients meanwhile): back off, so
			// that an outage costs a few log lines, not fifty a second.
			failures++
			wait = min(d.o.Poll<<min(failures, 16), maxFailureWait)
			d.o.Logger.ErrorContext(ctx, "dispatch: claim failed", "error", err, "failures", failures, "retry_in", wait)
		case err == nil && failures > 0:
			d.o.Logger.InfoContext(ctx, "dispatch: claims work again", "after_failures", failures)
			failures = 0
		}
		if n == d.o.Batch && err == nil {
			// A full batch: more is due. Keep to the rate bound.
			if d.o.MaxPerSecond > 0 {
				d.o.Sleep(ctx, time.Duration(n)*time.Second/time.Duration(d.o.MaxPerSecond)-time.Since(started))
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Stop ends the loop and waits for the submissions it claimed, queued or
// in flight, and their results. Safe to call more than once, and without
// Start.
func (d *Dispatcher) Stop() {
	d.once.Do(func() {
		if d.stop != nil {
			d.stop()
			<-d.done
		}
	})
}

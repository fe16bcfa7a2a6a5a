package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// Policy is what the dispatcher asks of the use cases (package callbacks
// implements it): how a claimed callback is submitted, whether its service
// is paused, what a late one becomes.
type Policy interface {
	// Execution returns the effective options and parameters a callback
	// is submitted with, and the key of its service's pause switch; an
	// error when its service left the configuration.
	Execution(cb *callbackd.Callback) (opts callbackd.ServiceOptions, params map[string]string, pauseKey string, err error)
	// PausedServices returns the pause switches that are on.
	PausedServices(ctx context.Context) (map[string]bool, error)
	// Park moves a claimed callback of a paused service to PAUSED, inside
	// the dispatcher's update.
	Park(cb *callbackd.Callback, now time.Time) []callbackd.Event
	// Misfire says what to do with a claimed callback that is late, and
	// the slot a rescheduled one moves to.
	Misfire(ctx context.Context, cb *callbackd.Callback, now time.Time) (callbackd.MisfireAction, time.Time, error)
	// RescheduleMisfired moves a late callback to desired, inside the
	// dispatcher's update.
	RescheduleMisfired(ctx context.Context, cb *callbackd.Callback, desired, now time.Time) ([]callbackd.Event, error)
	// PruneThrottleUses deletes the throttle uses no window counts now.
	PruneThrottleUses(ctx context.Context, now time.Time, batch int) (int, error)
}

// Options configure a Dispatcher. Store, Executor, Clock, Config and
// Policy are required.
type Options struct {
	Store    callbackd.Store
	Executor callbackd.Executor
	Clock    callbackd.Clock
	Config   func() *callbackd.Config
	Logger   *slog.Logger
	// Owner names this node in leases; it must differ between nodes.
	Owner string
	// Lease is how long a claim protects an attempt (default 60 s).
	Lease time.Duration
	// Batch bounds one claim (default 100).
	Batch int
	// Workers bound concurrent submissions (default 16).
	Workers int
	// Poll is the longest wait between two claims when nothing wakes the
	// loop (default 20 ms): it bounds how late a scheduled callback goes
	// out. A claim that finds nothing due is one index read.
	Poll time.Duration
	// MaxPerSecond bounds submissions per second, so that a backlog after
	// downtime does not flood the agents (0: no bound).
	MaxPerSecond int
	// ProgressURL gives the URL a platform reports progress to.
	ProgressURL func(cb *callbackd.Callback) string
	// Backoff gives the wait before retrying attempt n (default: 1 s
	// doubling, at most 5 min).
	Backoff func(attempt int) time.Duration
	// Sleep waits d or until ctx ends (default: a timer). SubmitNow uses it
	// between attempts; tests move their clock instead.
	Sleep func(ctx context.Context, d time.Duration) bool
	// Policy builds submissions and decides about paused and late
	// callbacks.
	Policy Policy
	// Observer hears of hand-offs and failed attempts (metrics); nil
	// ignores them.
	Observer Observer
}

// Dispatcher moves due callbacks to execution.
type Dispatcher struct {
	o    Options
	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

// New returns a dispatcher; call Start to run its loop.
func New(o Options) *Dispatcher {
	if o.Store == nil || o.Executor == nil || o.Clock == nil || o.Config == nil || o.Policy == nil {
		panic("dispatch: Options.Store, Executor, Clock, Config and Policy are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = func(n int) time.Duration { return min(time.Second<<min(max(n-1, 0), 16), 5*time.Minute) }
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.ProgressURL == nil {
		o.ProgressURL = func(*callbackd.Callback) string { return "" }
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return &Dispatcher{o: o, wake: make(chan struct{}, 1)}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Wake makes the loop claim now (a new immediate callback, a resume).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) claim(ctx context.Context, id string) ([]*callbackd.Callback, error) {
	now := d.o.Clock.Now().UTC()
	limit := d.o.Batch
	if id != "" {
		limit = 1
	}
	return d.o.Store.ClaimDue(ctx, callbackd.ClaimQuery{Now: now, Limit: limit, ID: id},
		func(cb *callbackd.Callback) ([]callbackd.Event, error) {
			return cb.Claim(now, d.o.Owner, now.Add(d.o.Lease))
		})
}

// outcome is what one attempt ended in.
type outcome struct {
	done      bool  // submitted, cancelled meanwhile, or lease lost
	retryable bool  // failed, and will be retried
	err       error // the failure, when it is final
	max       int
}

var errLeaseLost = errors.New("lease lost")

// paused returns the pause switches that are on.
func (d *Dispatcher) paused(ctx context.Context) (map[string]bool, error) {
	return d.o.Policy.PausedServices(ctx)
}

// submit runs one attempt of a claimed callback and records its result;
// via says who claimed it (ViaLoop, ViaRequest), for the Observer.
func (d *Dispatcher) submit(ctx context.Context, cb *callbackd.Callback, paused map[string]bool, via string) outcome {
	if left := cb.LeaseUntil.Sub(d.o.Clock.Now()); left < d.o.Lease/2 {
		// The claim waited in its batch for a worker (a slow platform) and
		// its lease is nearly over: another node may rescue it as soon as
		// it ends, so do not start an attempt that could still be running
		// then. Hand the claim back unused, with its due time and attempt
		// number: that key was never sent.
		d.o.Logger.WarnContext(ctx, "dispatch: lease nearly over before the submission started; claim handed back", "id", cb.ID, "left", left)
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
			c.Unclaim(now, c.DueAt)
			return nil
		})
		return outcome{done: true}
	}
	attempt := cb.SubmitAttempts
	opts, params, pauseKey, err := d.o.Policy.Execution(cb)
	if err == nil && paused[pauseKey] {
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event { return d.o.Policy.Park(c, now) })
		return outcome{done: true}
	}
	if err != nil {
		// The service vanished from the configuration (a reload): keep the
		// callback and try again later rather than fail it.
		d.o.Logger.ErrorContext(ctx, "dispatch: cannot build submission", "id", cb.ID, "service", cb.Service, "error", err)
		d.o.Observer.SubmitFailed(FailureConfiguration)
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
			c.Unclaim(now, now.Add(time.Minute)) // nothing was sent
			return nil
		})
		return outcome{done: true}
	}
	if done := d.misfire(ctx, cb); done {
		return outcome{done: true}
	}
	sub := callbackd.Submission{Callback: cb, Attempt: attempt, IdempotencyKey: callbackd.IdempotencyKey(cb.ID, attempt),
		Options: opts, Params: params, ProgressURL: d.o.ProgressURL(cb)}
	session, serr := d.o.Executor.Submit(ctx, sub)
	if serr == nil {
		if !cb.DueAt.IsZero() {
			d.o.Observer.HandedOff(via, max(d.o.Clock.Now().Sub(cb.DueAt), 0))
		}
		if opts.RecordsHandOver() {
			// Recorded by the executor, which also refuses a callback
			// cancelled meanwhile.
			return outcome{done: true}
		}
		var cancelled bool
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
			if c.State == callbackd.StateCompleted {
				cancelled = true
				return nil
			}
			return []callbackd.Event{c.Submitted(now, session)}
		})
		if cancelled { // cancelled while the submission was in flight
			gone := cb.Clone()
			gone.SessionID = session
			if err := d.o.Executor.Cancel(ctx, gone); err != nil {
				d.o.Logger.ErrorContext(ctx, "dispatch: callback cancelled during submission; cancelling its session failed", "id", cb.ID, "session", session, "error", err)
			}
		}
		return outcome{done: true}
	}
	retryable := true
	var se *callbackd.SubmitError
	if errors.As(serr, &se) {
		retryable = se.Retryable
	}
	d.o.Logger.WarnContext(ctx, "dispatch: submission failed", "id", cb.ID, "attempt", attempt, "max", opts.MaxORSSubmitAttempts, "retryable", retryable, "error", serr)
	switch {
	case !retryable:
		d.o.Observer.SubmitFailed(FailurePermanent)
	case attempt < opts.MaxORSSubmitAttempts:
		d.o.Observer.SubmitFailed(FailureRetryable)
	default:
		d.o.Observer.SubmitFailed(FailureMaxAttempts)
	}
	if retryable && attempt < opts.MaxORSSubmitAttempts {
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
			c.RetryAt(now, now.Add(d.o.Backoff(attempt)))
			return nil
		})
		return outcome{retryable: true, max: opts.MaxORSSubmitAttempts}
	}
	d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
		ev, err := c.Transition(callbackd.StateCompleted, callbackd.ReasonSubmitError, now, "dispatcher")
		if err != nil {
			return nil
		}
		ev.WithProps("message", serr.Error(), "_attempt", strconv.Itoa(attempt))
		return []callbackd.Event{ev}
	})
	return outcome{err: serr, max: opts.MaxORSSubmitAttempts}
}

// record writes the result of an attempt, if the lease is still ours.
func (d *Dispatcher) record(ctx context.Context, claimed *callbackd.Callback, change func(c *callbackd.Callback, now time.Time) []callbackd.Event) {
	_, err := d.o.Store.UpdateCallback(ctx, claimed.ID, func(c *callbackd.Callback) ([]callbackd.Event, error) {
		if c.State != callbackd.StateCompleted && (c.LeaseOwner != d.o.Owner || c.SubmitAttempts != claimed.SubmitAttempts) {
			return nil, errLeaseLost
		}
		return change(c, d.o.Clock.Now().UTC()), nil
	})
	if err != nil {
		d.o.Logger.ErrorContext(ctx, "dispatch: recording an attempt failed", "id", claimed.ID, "attempt", claimed.SubmitAttempts, "error", err)
	}
}

// misfire applies the service's misfire policy to a late callback; it
// reports whether the callback was dealt with (rescheduled or expired)
// instead of being submitted.
func (d *Dispatcher) misfire(ctx context.Context, cb *callbackd.Callback) bool {
	now := d.o.Clock.Now().UTC()
	action, slot, err := d.o.Policy.Misfire(ctx, cb, now)
	if err != nil {
		d.o.Logger.ErrorContext(ctx, "dispatch: misfire policy failed; submitting", "id", cb.ID, "error", err)
		return false
	}
	switch action {
	case callbackd.MisfireExpire:
		d.o.Logger.InfoContext(ctx, "dispatch: expired instead of submitted", "id", cb.ID, "due", cb.DueAt, "expiration", cb.ExpirationTime)
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
			ev, err := c.Transition(callbackd.StateCompleted, callbackd.ReasonFailTimeoutTTL, now, "dispatcher")
			if err != nil {
				return nil
			}
			ev.WithProps("_misfire", "expired")
			return []callbackd.Event{ev}
		})
		return true
	case callbackd.MisfireReschedule:
		d.o.Logger.InfoContext(ctx, "dispatch: late callback rescheduled", "id", cb.ID, "due", cb.DueAt, "to", slot)
		d.record(ctx, cb, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
			evs, err := d.o.Policy.RescheduleMisfired(ctx, c, slot, now) // unclaims it
			if err != nil {
				d.o.Logger.ErrorContext(ctx, "dispatch: rescheduling a late callback failed", "id", c.ID, "error", err)
				c.Unclaim(now, now.Add(time.Minute))
				return nil
			}
			return evs
		})
		return true
	}
	return false
}

// maxFailureWait bounds the loop's back-off while claims fail.
const maxFailureWait = 5 * time.Second

// sweepEvery is how often the loop expires and purges.
const sweepEvery = 30 * time.Second

// Sweep completes, with FAIL_TIMEOUT_TTL, unfinished callbacks past their
// expiration time that are not in execution (a service without _ors, a
// callback never due), purges COMPLETED callbacks older than the
// [callback] retention, with their history, and prunes the throttle uses
// no window counts any more. It works in bounded batches and returns how
// many callbacks it expired and purged.
func (d *Dispatcher) Sweep(ctx context.Context) (expired, purged int, err error) {
	now := d.o.Clock.Now().UTC()
	for {
		got, err := d.o.Store.ClaimDue(ctx, callbackd.ClaimQuery{Now: now, Limit: d.o.Batch, Expired: true},
			func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonFailTimeoutTTL, now, "dispatcher")
				ev.WithProps("_expired", callbackd.FormatTime(cb.ExpirationTime))
				return []callbackd.Event{ev}, err
			})
		if err != nil {
			return expired, purged, err
		}
		expired += len(got)
		if len(got) < d.o.Batch {
			break
		}
	}
	if retention := d.o.Config().Callback.Retention; retention > 0 {
		for {
			n, err := d.o.Store.PurgeCompleted(ctx, now.Add(-retention), d.o.Batch)
			if err != nil {
				return expired, purged, err
			}
			purged += n
			if n < d.o.Batch {
				break
			}
		}
	}
	if _, err := d.o.Policy.PruneThrottleUses(ctx, now, d.o.Batch); err != nil {
		return expired, purged, err
	}
	return expired, purged, nil
}

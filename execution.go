package callbackd

import (
	"context"
	"time"
)

// Executor types: a service's _type names the executor that runs its
// callbacks.
const (
	// TypeORS hands callbacks to an external orchestration platform over
	// HTTP (package ors).
	TypeORS = "ors"
	// TypeBuiltin runs callbacks in callbackd's own engine (package
	// engine): virtual queues, agents, dialing.
	TypeBuiltin = "builtin"
)

// Executed is the one rule that says whether a service's callbacks go to
// execution at all. A builtin service always executes them. An ors
// service needs _ors, the platform's address: without it callbackd only
// stores and schedules callbacks (a platform reads them through the
// queries), and they wait until they expire.
func (o ServiceOptions) Executed() bool {
	switch o.Type {
	case TypeBuiltin:
		return true
	case TypeORS:
		return o.ORS != ""
	}
	return false
}

// RecordsHandOver is the one rule for who records a successful
// submission (the session id, the lease released). The built-in engine
// records it itself, in the write that puts the callback in its queue,
// so that its progress can never be stored before its hand-over; the
// dispatcher then has nothing left to record (trying would find its
// lease already released). For the HTTP hand-off the dispatcher records
// what the platform answered.
func (o ServiceOptions) RecordsHandOver() bool { return o.Type == TypeBuiltin }

// ExecutionPlan is spec 001's rule for when a callback is executed: it is
// immediate (QUEUED, due now) when its desired time falls before
// now + _request_execution_time_buffer + the estimated wait ewt; otherwise
// it is SCHEDULED and due at desired - buffer - ewt, so that an agent is
// free at the desired time. Whether it is executed at all is Executed's.
func ExecutionPlan(o ServiceOptions, desired, now time.Time, ewt time.Duration) (State, time.Time) {
	lead := o.RequestExecutionTimeBuffer + ewt
	if desired.Before(now.Add(lead)) {
		return StateQueued, now
	}
	return StateScheduled, desired.Add(-lead)
}

// Executors routes each callback to the executor of its service's _type.
// The dispatcher and the use cases hold one Executor; which one runs a
// callback is decided here and nowhere else.
type Executors struct {
	// Config is the configuration in force: Cancel reads the service's
	// _type from it.
	Config func() *Config
	// ByType maps a _type to its executor.
	ByType map[string]Executor
}

var _ Executor = Executors{}

// Submit hands the submission to the executor of s.Options.Type. A type
// without an executor is a permanent failure.
func (e Executors) Submit(ctx context.Context, s Submission) (string, error) {
	x, ok := e.ByType[s.Options.Type]
	if !ok {
		return "", &SubmitError{Message: "no executor for _type=" + s.Options.Type}
	}
	return x.Submit(ctx, s)
}

// Cancel stops the callback's session at the executor of its service's
// _type. A service that left the configuration is cancelled at the HTTP
// hand-off, the only executor whose sessions outlive the process.
func (e Executors) Cancel(ctx context.Context, cb *Callback) error {
	typ := TypeORS
	if cfg := e.Config(); cfg != nil {
		if svc, ok := cfg.Service(cb.Service); ok && svc.Options.Type != "" {
			typ = svc.Options.Type
		}
	}
	x, ok := e.ByType[typ]
	if !ok {
		return nil // nothing of ours runs it
	}
	return x.Cancel(ctx, cb)
}

// MisfireAction is what to do with a claimed callback that is late
// (its due time passed while no dispatcher ran).
type MisfireAction int

// Misfire actions (the service's _misfire_grace and _misfire_policy).
const (
	MisfireSubmit     MisfireAction = iota // on time, or late within the grace period with the office open
	MisfireReschedule                      // to the next open slot with room
	MisfireExpire                          // COMPLETED with FAIL_TIMEOUT_TTL
)

package callbackd

import (
	"context"
	"strconv"
	"time"
)

// Executor runs callbacks: it is the seam between callbackd and whatever
// calls the customer (an external orchestration platform over HTTP, or
// the built-in engine). Executors routes each service to its own.
type Executor interface {
	// Submit hands a callback to execution and returns the execution
	// session id (_ors_session_id). The same IdempotencyKey may arrive more
	// than once after a crash; an executor must start at most one session
	// per key. A *SubmitError says whether trying again may help.
	Submit(ctx context.Context, s Submission) (sessionID string, err error)

	// Cancel stops the execution session of a callback that was handed
	// over. An error means the session may still be running.
	Cancel(ctx context.Context, cb *Callback) error
}

// Submission is one attempt to hand a callback to execution.
type Submission struct {
	Callback *Callback
	// Attempt counts submissions of this callback, from 1.
	Attempt int
	// IdempotencyKey is "<callback id>-<attempt>".
	IdempotencyKey string
	// Options are the service's effective options for this callback
	// (the request's allowed overrides applied): Executors routes by
	// their Type, and the built-in engine reads its execution options
	// from them.
	Options ServiceOptions
	// Params are what execution receives (spec 001: "the provisioned data
	// for the execution service ... along with the input parameters from
	// the request"): the service's options, overridden by the request's
	// allowed ones, plus the callback's properties and fields.
	Params map[string]string
	// ProgressURL is where the executor reports state changes (PUT
	// _callback_state) for this callback.
	ProgressURL string
}

// IdempotencyKey builds the key of one submission attempt.
func IdempotencyKey(id string, attempt int) string {
	return id + "-" + strconv.Itoa(attempt)
}

// SubmitError is a failed submission.
type SubmitError struct {
	// Retryable is true when the failure may pass (network, 5xx, 429).
	Retryable bool
	Message   string
}

func (e *SubmitError) Error() string { return e.Message }

// EWTProvider estimates how long a customer would wait for an agent, from
// a _request_queue_time_stat statistic. It decides whether a callback is
// immediate and when a scheduled one is due. The built-in execution engine
// will compute it from live queues; until then StaticEWT answers.
type EWTProvider interface {
	// EWT returns the estimated wait time for the statistic. A statistic
	// that cannot be parsed yields a BAD_CONFIGURATION *Error.
	EWT(ctx context.Context, service, statistic string) (time.Duration, error)

	// VirtualQueueEWT estimates the wait in a virtual queue (ewt-for-vq,
	// read by web widgets before they offer a callback).
	VirtualQueueEWT(ctx context.Context, vq string) (time.Duration, error)
}

// StaticEWT answers every well-formed statistic with the same value (the
// [callback] static-ewt option).
type StaticEWT struct {
	Value time.Duration
}

// EWT implements EWTProvider.
func (s StaticEWT) EWT(_ context.Context, service, statistic string) (time.Duration, error) {
	if statistic == "" {
		return 0, nil
	}
	if !ValidStatistic(statistic) {
		return 0, BadConfiguration(service, "Unable to parse option: _request_queue_time_stat=%s", statistic)
	}
	return s.Value, nil
}

// ValidStatistic checks the form "Statistic;ObjectType;Object;Tenant" of
// spec 001 ("ExpectedWaitTime;Queue;8999@SIP_Server;Environment"): four
// non-empty fields.
func ValidStatistic(s string) bool {
	n := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ';' {
			if i == start {
				return false
			}
			n++
			start = i + 1
		}
	}
	return n == 4
}

// VirtualQueueEWT implements EWTProvider.
func (s StaticEWT) VirtualQueueEWT(context.Context, string) (time.Duration, error) {
	return s.Value, nil
}

// QueueReporter tells where a callback handed to execution stands in its
// queue (check-queue-position). The HTTP hand-off has no such call, so
// callbackd answers from its own records; the built-in engine will answer
// from its live queues.
type QueueReporter interface {
	QueuePosition(ctx context.Context, cb *Callback) (QueuePosition, error)
}

// QueuePosition is what check-queue-position answers.
type QueuePosition struct {
	// Position is 1 for the next callback to be served, 0 when the
	// callback is not waiting in the queue.
	Position int
	// TotalWaiting counts the callbacks waiting in the queue.
	TotalWaiting int
	// ETA is the expected wait until an agent is available; EWT the
	// queue's estimated wait time.
	ETA, EWT time.Duration
	// AgentReadyThresholdPassed is true once an agent is expected to be
	// ready for the callback (no wait left).
	AgentReadyThresholdPassed bool
	// Waited is how long the callback has waited in its queue (wt);
	// AgentsLoggedIn counts the agents logged in to the queue; Priority
	// is the callback's priority class there. The built-in engine fills
	// them; the HTTP hand-off cannot tell.
	Waited         time.Duration
	AgentsLoggedIn int
	Priority       int
}

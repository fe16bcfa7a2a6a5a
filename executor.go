package callbackd

import (
	"context"
	"time"
)

// Executor runs callbacks: it is the seam between callbackd and whatever
// calls the customer (an external orchestration platform over HTTP today,
// the built-in engine later).
type Executor interface {
	// Cancel stops the execution session of a callback that was handed
	// over. An error means the session may still be running.
	Cancel(ctx context.Context, cb *Callback) error
}

// EWTProvider estimates how long a customer would wait for an agent, from
// a _request_queue_time_stat statistic. It decides whether a callback is
// immediate and when a scheduled one is due. The built-in execution engine
// will compute it from live queues; until then StaticEWT answers.
type EWTProvider interface {
	// EWT returns the estimated wait time for the statistic. A statistic
	// that cannot be parsed yields a BAD_CONFIGURATION *Error.
	EWT(ctx context.Context, service, statistic string) (time.Duration, error)
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

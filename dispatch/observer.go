package dispatch

import "time"

// Observer hears what the dispatcher does, for monitoring (package prom
// turns it into Prometheus series; dispatch itself knows no metrics
// library). Its methods are called on the submission path, so they must be
// quick and safe for concurrent use.
type Observer interface {
	// HandedOff reports a callback the executor accepted, late by how long
	// after its due time (business time, from the Clock). via is ViaRequest
	// for an immediate callback submitted within its Start request, ViaLoop
	// for one the dispatch loop claimed.
	HandedOff(via string, late time.Duration)
	// SubmitFailed reports an attempt that did not hand the callback over,
	// by kind: one of the Failure constants.
	SubmitFailed(kind string)
}

// Where a hand-off happened (Observer.HandedOff).
const (
	ViaRequest = "request"
	ViaLoop    = "loop"
)

// Kinds of failed attempts (Observer.SubmitFailed). Each failed attempt
// has exactly one kind.
const (
	// FailureRetryable: the executor failed in a way that may pass
	// (network, 5xx, 429) and the attempt will be retried.
	FailureRetryable = "retryable"
	// FailureMaxAttempts: as above, on the last attempt the service
	// allows; the callback is COMPLETED with SUBMIT_ERROR.
	FailureMaxAttempts = "max_attempts"
	// FailurePermanent: the executor refused the callback (4xx); it is
	// COMPLETED with SUBMIT_ERROR at once.
	FailurePermanent = "permanent"
	// FailureConfiguration: no submission could be built (the service left
	// the configuration); nothing was sent and the callback waits a minute.
	FailureConfiguration = "configuration"
)

// nopObserver is the Observer when none is given.
type nopObserver struct{}

func (nopObserver) HandedOff(string, time.Duration) {}
func (nopObserver) SubmitFailed(string)             {}

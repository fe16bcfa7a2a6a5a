package callbackd

import (
	"strings"
	"time"
)

// Properties the built-in engine keeps on a callback it runs. They are the
// engine's durable state: a restarted node reads them to know where each
// callback stood (waiting in which queue since when, offered to whom,
// which dial attempt was placed), so that nothing is lost and no attempt
// is dialled twice. Clients read them (returned-keys, check-queue-position)
// but cannot set them: Start drops them and PUT refuses them.
const (
	// KeyVQ is the virtual queue the callback waits in (GMS's _vq).
	KeyVQ = "_vq"
	// KeyVQEntered is when it entered the queue: its place in line.
	KeyVQEntered = "_vq_entered"
	// KeyVQPriority is its priority when it entered the queue.
	KeyVQPriority = "_vq_priority"
	// KeyAgent is the agent that holds it (reserved, on the call, in
	// after-call work), or that last handled it.
	KeyAgent = "_agent_id"
	// KeyEngineStep is where the engine stands: one of the Step constants.
	KeyEngineStep = "_engine_step"
	// KeyNotBefore is the earliest time it may be offered again (a
	// reject's or a failed dial's retry timeout).
	KeyNotBefore = "_not_before"
	// KeyRejects counts the agents' preview rejects.
	KeyRejects = "_agent_rejects"
	// KeyDialAttempt is the number of the last dial attempt to the
	// customer, written before the dial, so a key is never reused.
	KeyDialAttempt = "_dial_attempt"
	// KeyDialResult and KeyDialCause are the last attempt's outcome and
	// its cause (detection, network).
	KeyDialResult = "_dial_result"
	KeyDialCause  = "_dial_cause"
	// KeyCallID is the customer leg's network id (SIP Call-ID).
	KeyCallID = "_call_id"
	// KeyTimeCustomerConnected is when the customer answered.
	KeyTimeCustomerConnected = "_time_customer_connected"
	// KeyEWTAtOffer and KeyPosAtOffer are the estimated wait and position
	// when the callback entered its queue.
	KeyEWTAtOffer = "_ewt_at_offer"
	KeyPosAtOffer = "_pos_at_offer"
	// KeyDisposition and KeyDispositionNotes are what the agent chose
	// after the call (_enable_disposition_dialog).
	KeyDisposition      = "_disposition"
	KeyDispositionNotes = "_disposition_notes"
)

// Engine steps (KeyEngineStep).
const (
	StepWaiting   = "waiting"    // in its virtual queue, waiting for an agent
	StepOffered   = "offered"    // reserved for an agent, invitation out
	StepDialing   = "dialing"    // a dial attempt is placed
	StepOnHold    = "on_hold"    // the customer is on the line, waiting for an agent
	StepConnected = "connected"  // customer and agent talk
	StepWrapUp    = "wrap_up"    // the call ended; the agent picks a disposition
	StepRetry     = "retry_wait" // a dial attempt failed; waiting to dial again
)

// engineKeys are the keys above, for IsEngineKey.
var engineKeys = map[string]bool{
	KeyVQ: true, KeyVQEntered: true, KeyVQPriority: true, KeyAgent: true, KeyEngineStep: true,
	KeyNotBefore: true, KeyRejects: true, KeyDialAttempt: true, KeyDialResult: true, KeyDialCause: true,
	KeyCallID: true, KeyTimeCustomerConnected: true, KeyEWTAtOffer: true, KeyPosAtOffer: true,
	KeyDisposition: true, KeyDispositionNotes: true,
}

// IsEngineKey reports whether key is one of the engine's own properties,
// which no client may set.
func IsEngineKey(key string) bool { return engineKeys[key] || strings.HasPrefix(key, "_engine_") }

// RescheduleAfterCall sends a callback whose call has ended back to
// SCHEDULED at desired, because the agent chose to call the customer again
// then (the disposition dialog's reschedule). It is the one way back from
// ROUTING or PROCESSING, which Transition refuses so that no accident can
// queue a customer twice; this one is asked for by a person. The engine's
// step properties are cleared, so the next run starts afresh; its dial
// attempts keep counting from the last (keys are never reused).
func (cb *Callback) RescheduleAfterCall(desired time.Time, ttl time.Duration, due, now time.Time, source string) ([]Event, error) {
	if cb.State == StateCompleted {
		return nil, cb.completedError()
	}
	if cb.State != StateRouting && cb.State != StateProcessing && cb.State != StateQueued {
		return nil, InvalidOperation(map[string]any{"id": cb.ID, "state": string(cb.State)},
			"Callback %s cannot be rescheduled after a call - _callback_state=%s", cb.ID, cb.State)
	}
	ev := cb.event(now, EventRescheduled, source)
	ev.From, ev.To = cb.State, StateScheduled
	ev.Properties = withProps(ev.Properties, "_previous_desired_time", FormatTime(cb.DesiredTime), KeyDesiredTime, FormatTime(desired))
	cb.State = StateScheduled
	cb.DesiredTime = desired
	cb.ExpirationTime = desired.Add(ttl)
	cb.DueAt = due
	cb.SessionID = ""
	cb.LeaseOwner, cb.LeaseUntil = "", time.Time{}
	for _, k := range []string{KeyEngineStep, KeyNotBefore, KeyRejects, KeyVQEntered, KeyVQPriority} {
		delete(cb.Properties, k)
	}
	cb.UpdatedAt = now
	return []Event{ev}, nil
}

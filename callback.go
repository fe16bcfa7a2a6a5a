package callbackd

import (
	"maps"
	"slices"
	"strconv"
	"time"
)

// Callback is one callback request and everything known about it. The
// fields the service reasons about are typed; every other property the
// client or the execution side gave (keys without a leading "_" are user
// data) is kept verbatim in Properties.
//
// A Callback is changed only through its methods (Transition, Reschedule,
// SetProperty), so that a COMPLETED record can never change again and every
// state change yields the Event that reporting needs.
type Callback struct {
	ID             string
	Service        string
	State          State
	Reason         Reason
	CustomerNumber string
	DesiredTime    time.Time
	ExpirationTime time.Time
	// SessionID is the executor's session (_ors_session_id).
	SessionID      string
	SubmitAttempts int
	// DueAt is when the callback is next to be handed to execution; zero
	// when it is not waiting for that (handed over, finished, or paused).
	DueAt time.Time
	// LeaseOwner and LeaseUntil mark a claim by a dispatcher: until then
	// no other dispatcher may submit the callback. A lease that expires
	// (its dispatcher died) makes the callback claimable again, with the
	// next attempt number.
	LeaseOwner string
	LeaseUntil time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Properties holds every other property, as strings.
	Properties map[string]string
	// Holds are the units of limited counters this callback uses: its
	// capacity bucket, its place among the customer's queued callbacks...
	// The store keeps every counter equal to the number of holds on it, in
	// the same transaction as the record, so limits are exact under any
	// concurrency and availability reads counters instead of counting rows.
	// A COMPLETED callback holds nothing.
	Holds []Hold
	// Lookup holds the values of the service's lookup keys at creation and
	// after every update: key -> value as indexed. The store keeps every
	// value a key ever had, because a query finds callbacks whose property
	// "is or was" equal to the value (spec 001).
	Lookup map[string]string
}

// Property names the service itself owns. They are not stored in
// Properties but in typed fields, and a client cannot set them through
// Properties.
const (
	KeyID             = "_id"
	KeyServiceName    = "_service_name"
	KeyState          = "_callback_state"
	KeyReason         = "_callback_reason"
	KeyCustomerNumber = "_customer_number"
	KeyDesiredTime    = "_desired_time"
	KeyExpirationTime = "_expiration_time"
	KeySessionID      = "_ors_session_id"
	KeySubmitAttempts = "_submit_attempts"
)

// Clone returns a deep copy, so that a failed update leaves the original
// untouched.
func (cb *Callback) Clone() *Callback {
	c := *cb
	c.Properties = maps.Clone(cb.Properties)
	c.Lookup = maps.Clone(cb.Lookup)
	c.Holds = slices.Clone(cb.Holds)
	return &c
}

// Get returns any property by its API name, typed fields included.
func (cb *Callback) Get(key string) (string, bool) {
	switch key {
	case KeyID:
		return cb.ID, true
	case KeyServiceName:
		return cb.Service, true
	case KeyState:
		return string(cb.State), true
	case KeyReason:
		return string(cb.Reason), cb.Reason != ""
	case KeyCustomerNumber:
		return cb.CustomerNumber, cb.CustomerNumber != ""
	case KeyDesiredTime:
		return FormatTime(cb.DesiredTime), true
	case KeyExpirationTime:
		return FormatTime(cb.ExpirationTime), true
	case KeySessionID:
		return cb.SessionID, cb.SessionID != ""
	}
	v, ok := cb.Properties[key]
	return v, ok
}

// completedError is the specification's answer to any change of a
// COMPLETED record.
func (cb *Callback) completedError() *Error {
	return InvalidOperation(
		map[string]any{"id": cb.ID, "service": cb.Service, "time": FormatTime(cb.DesiredTime), "state": string(cb.State)},
		"Rejecting update : %s=[%s @ %s] - reached state COMPLETED", cb.Service, cb.ID, FormatTime(cb.DesiredTime))
}

// Transition moves the callback to a new state, validated against the one
// transition table, and returns the event that records it. reason is kept
// only for COMPLETED; source says who asked (api, executor, dispatcher...).
func (cb *Callback) Transition(to State, reason Reason, now time.Time, source string) (Event, error) {
	if cb.State == StateCompleted {
		return Event{}, cb.completedError()
	}
	if !CanTransition(cb.State, to) {
		return Event{}, InvalidOperation(
			map[string]any{"id": cb.ID, "service": cb.Service, "state": string(cb.State)},
			"Callback %s cannot move from %s to %s", cb.ID, cb.State, to)
	}
	ev := cb.event(now, EventStateChanged, source)
	ev.From, ev.To = cb.State, to
	cb.State = to
	cb.Holds = slices.DeleteFunc(cb.Holds, func(h Hold) bool { return h.While != "" && h.While != to })
	if to != StateScheduled && to != StateQueued && to != StatePaused {
		cb.DueAt = time.Time{} // PAUSED keeps it, so a resume restores the order
	}
	if to != StateQueued {
		cb.LeaseOwner, cb.LeaseUntil = "", time.Time{}
	}
	if to == StateCompleted {
		if reason == "" {
			reason = ReasonNotAvailable
		}
		cb.Reason = reason
		cb.Holds = nil // a finished callback frees its slot and its place
		ev.Type = EventCompleted
		ev.Reason = reason
	}
	cb.UpdatedAt = now
	return ev, nil
}

// Reschedule changes the desired time of a SCHEDULED callback; state is
// the state the new time implies (SCHEDULED, or QUEUED when it is due
// now). The expiration time moves with the desired time.
func (cb *Callback) Reschedule(desired time.Time, ttl time.Duration, state State, now time.Time, source string) ([]Event, error) {
	if cb.State == StateCompleted {
		return nil, cb.completedError()
	}
	if cb.State != StateScheduled {
		return nil, InvalidOperation(
			map[string]any{"id": cb.ID, "service": cb.Service, "state": string(cb.State)},
			"Callback %s is no longer scheduled. State=%s", cb.ID, cb.State)
	}
	ev := cb.event(now, EventRescheduled, source)
	ev.From, ev.To = cb.State, cb.State
	ev.Properties = withProps(ev.Properties, "_previous_desired_time", FormatTime(cb.DesiredTime), KeyDesiredTime, FormatTime(desired))
	cb.DesiredTime = desired
	cb.ExpirationTime = desired.Add(ttl)
	cb.UpdatedAt = now
	events := []Event{ev}
	if state != cb.State {
		sev, err := cb.Transition(state, "", now, source)
		if err != nil {
			return nil, err
		}
		events = append(events, sev)
	}
	return events, nil
}

// SetProperty sets a property, or removes it when value is "" (a PUT with
// an empty value removes the key, CLIENTS.md).
func (cb *Callback) SetProperty(key, value string, now time.Time) error {
	if cb.State == StateCompleted {
		return cb.completedError()
	}
	switch key {
	case KeySessionID:
		cb.SessionID = value
	case KeyCustomerNumber:
		cb.CustomerNumber = value
	default:
		if value == "" {
			delete(cb.Properties, key)
		} else {
			if cb.Properties == nil {
				cb.Properties = map[string]string{}
			}
			cb.Properties[key] = value
		}
	}
	cb.UpdatedAt = now
	return nil
}

func (cb *Callback) event(now time.Time, typ EventType, source string) Event {
	ev := Event{Time: now, CallbackID: cb.ID, Service: cb.Service, Type: typ, Source: source}
	for _, k := range ReportingKeys {
		if v, ok := cb.Properties[k]; ok {
			if ev.Properties == nil {
				ev.Properties = map[string]string{}
			}
			ev.Properties[k] = v
		}
	}
	return ev
}

// ReportingKeys link a callback to the call it came from in historical
// reporting (spec 003). They are kept as properties when a request carries
// _originating_interaction_id, so execution receives them, and every event
// of the callback repeats them.
var ReportingKeys = []string{"_originating_interaction_id", "_CB_SERVICE_ID", "_CB_T_SERVICE_START", "_CB_T_CALLBACK_ACCEPTED"}

// Accepted is the event that records a new callback.
func (cb *Callback) Accepted(now time.Time, source string) Event {
	ev := cb.event(now, EventAccepted, source)
	ev.To = cb.State
	return ev
}

// Hold is one unit of a counter. Limit, when positive, is the most the
// counter may reach when this hold is taken; a store refuses the write with
// a *LimitError instead of going over it.
//
// A hold with a Window is a rate hold instead: one use of Key at At, refused
// when Limit uses of Key already lie within Window before At (a sliding
// window). Rate holds are taken when a callback is created, never released
// and not stored with the callback.
type Hold struct {
	Key   string `json:"k"`
	Limit int    `json:"l,omitempty"`
	// While, when set, releases the hold when the callback leaves that
	// state (the queued-callbacks limit counts QUEUED callbacks only).
	While  State         `json:"w,omitempty"`
	Window time.Duration `json:"-"`
	At     time.Time     `json:"-"`
}

// IsRate reports whether h is a rate hold.
func (h Hold) IsRate() bool { return h.Window > 0 }

// LimitError is returned by a Store when taking a hold would push its
// counter over the limit. Nothing of the write is kept.
type LimitError struct {
	Key   string
	Limit int
}

func (e *LimitError) Error() string {
	return "callbackd: limit " + e.Key + " reached"
}

// Claim leases the callback to a dispatcher for one submission attempt:
// it becomes QUEUED, its attempt count grows, and no other dispatcher may
// take it before until. The store writes this before the executor is
// called, so a crash at any later instant leaves a record of the attempt.
func (cb *Callback) Claim(now time.Time, owner string, until time.Time) ([]Event, error) {
	if cb.State != StateScheduled && cb.State != StateQueued {
		return nil, InvalidOperation(map[string]any{"id": cb.ID, "state": string(cb.State)},
			"Callback %s cannot be submitted - _callback_state=%s", cb.ID, cb.State)
	}
	var events []Event
	if cb.State == StateScheduled {
		ev, err := cb.Transition(StateQueued, "", now, "dispatcher")
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	cb.SubmitAttempts++
	cb.LeaseOwner, cb.LeaseUntil = owner, until
	cb.UpdatedAt = now
	return events, nil
}

// Submitted records a successful hand-over: the callback now has an
// execution session and waits for no further submission.
func (cb *Callback) Submitted(now time.Time, sessionID string) Event {
	cb.SessionID = sessionID
	cb.DueAt, cb.LeaseOwner, cb.LeaseUntil = time.Time{}, "", time.Time{}
	cb.UpdatedAt = now
	ev := cb.event(now, EventSubmitted, "dispatcher")
	ev.From, ev.To = cb.State, cb.State
	ev.Properties = withProps(ev.Properties, KeySessionID, sessionID, "_attempt", strconv.Itoa(cb.SubmitAttempts))
	return ev
}

// Unclaim gives back a claim that was not an attempt, because nothing was
// sent (the service is paused or left the configuration, a late callback
// was rescheduled, the lease ran low before the submission began): the
// attempt count returns to what it was, so the next claim reuses the same
// idempotency key, and the callback is due again at t (zero: not due).
func (cb *Callback) Unclaim(now, t time.Time) {
	if cb.SubmitAttempts > 0 {
		cb.SubmitAttempts--
	}
	cb.RetryAt(now, t)
}

// RetryAt releases the lease after a failed attempt and makes the callback
// due again at t.
func (cb *Callback) RetryAt(now, t time.Time) {
	cb.DueAt, cb.LeaseOwner, cb.LeaseUntil = t, "", time.Time{}
	cb.UpdatedAt = now
}

// withProps adds key, value pairs to an event's properties.
func withProps(p map[string]string, kv ...string) map[string]string {
	if p == nil {
		p = make(map[string]string, len(kv)/2)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// WithProps adds key, value pairs to the event's properties.
func (ev *Event) WithProps(kv ...string) { ev.Properties = withProps(ev.Properties, kv...) }

// Dialed is the event that records one dial attempt to the customer: its
// number, the outcome with its cause, the call's network id, and when it
// began and was answered; the event's time is when the result was known.
func (cb *Callback) Dialed(now time.Time, attempt int, res DialResult) Event {
	ev := cb.event(now, EventDialed, "engine")
	ev.From, ev.To = cb.State, cb.State
	ev.WithProps("_dial_attempt", strconv.Itoa(attempt), "_dial_result", string(res.Outcome), "_dial_cause", res.Cause)
	if res.CallID != "" {
		ev.WithProps("_call_id", res.CallID)
	}
	if !res.Started.IsZero() {
		ev.WithProps("_dial_started", FormatTime(res.Started))
	}
	if !res.Answered.IsZero() {
		ev.WithProps("_dial_answered", FormatTime(res.Answered))
	}
	return ev
}

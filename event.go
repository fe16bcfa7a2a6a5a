package callbackd

import "time"

// EventType says what happened to a callback; reporting consumers group by
// it.
type EventType string

// Event types. Every accepted callback and every state change produces one,
// written in the same transaction as the change itself, so the history can
// never disagree with the record.
const (
	EventAccepted     EventType = "accepted"
	EventRejected     EventType = "rejected"
	EventStateChanged EventType = "state_changed"
	EventRescheduled  EventType = "rescheduled"
	EventCompleted    EventType = "completed"
	EventSubmitted    EventType = "submitted"
	// EventDialed records one dial attempt to the customer and what it
	// found (the built-in engine): contact history's phone call.
	EventDialed EventType = "dialed"
)

// Event is one record of the callback's history.
type Event struct {
	Seq        int64 // assigned by the store, ascending
	Time       time.Time
	CallbackID string
	Service    string
	Type       EventType
	From       State
	To         State
	Reason     Reason
	// Source is who caused it: "api", "executor", "dispatcher", "admin".
	Source string
	// Subject is the customer an event without a stored callback is about
	// (a refused request's normalised number), so Forget-me can find it.
	Subject string
	// Properties carries reporting key-values (spec 003's _CB_* keys, the
	// previous desired time of a reschedule, ...).
	Properties map[string]string
}

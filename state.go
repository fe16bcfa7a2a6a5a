package callbackd

import (
	"regexp"
	"strings"
)

// State is a callback's _callback_state.
type State string

// The states of spec 001 ("Understanding Callback States").
const (
	StateScheduled  State = "SCHEDULED"
	StateQueued     State = "QUEUED"
	StateRouting    State = "ROUTING"
	StateProcessing State = "PROCESSING"
	StatePaused     State = "PAUSED"
	StateCompleted  State = "COMPLETED"
)

// States lists every state, in lifecycle order.
var States = []State{StateScheduled, StateQueued, StateRouting, StateProcessing, StatePaused, StateCompleted}

// ParseState accepts a state name in any letter case, as clients send it.
func ParseState(s string) (State, bool) {
	st := State(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range States {
		if st == known {
			return st, true
		}
	}
	return "", false
}

// InExecution reports whether the execution side owns the callback: it has
// been handed over and not finished. Watermarks count these.
func (s State) InExecution() bool {
	return s == StateQueued || s == StateRouting || s == StateProcessing
}

// transitions is the one table of allowed state changes. Staying in the same
// state is always allowed (execution platforms repeat themselves). Moving
// back from ROUTING or PROCESSING to an earlier state is not: once the
// customer's phone rang, the callback must not be scheduled or queued again
// by accident, because that would dial the customer twice.
var transitions = map[State][]State{
	StateScheduled:  {StateQueued, StateRouting, StateProcessing, StatePaused, StateCompleted},
	StateQueued:     {StateScheduled, StateRouting, StateProcessing, StatePaused, StateCompleted},
	StateRouting:    {StateProcessing, StateCompleted},
	StateProcessing: {StateCompleted},
	StatePaused:     {StateScheduled, StateQueued, StateCompleted},
	StateCompleted:  nil,
}

// CanTransition reports whether a callback in state from may move to to.
func CanTransition(from, to State) bool {
	if from == to {
		return from != StateCompleted
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Reason is a callback's _callback_reason, set when it is COMPLETED.
type Reason string

// The COMPLETED reasons of spec 001 ("Callback reasons in COMPLETED State").
const (
	ReasonAbandonedInQueue             Reason = "ABANDONED_IN_QUEUE"
	ReasonFailLoadMessageFile          Reason = "FAIL_LOAD_MESSAGE_FILE"
	ReasonCancelled                    Reason = "CANCELLED"
	ReasonNotAvailable                 Reason = "NOT_AVAILABLE"
	ReasonFailInteractionDeleted       Reason = "FAIL_INTERACTION_DELETED"
	ReasonAgentConnected               Reason = "AGENT_CONNECTED"
	ReasonAMConnected                  Reason = "AM_CONNECTED"
	ReasonFailTargetNotFound           Reason = "FAIL_TARGET_NOT_FOUND"
	ReasonFailError                    Reason = "FAIL_ERROR"
	ReasonFailTimeoutTTL               Reason = "FAIL_TIMEOUT_TTL"
	ReasonFailIxnUnknownMediaType      Reason = "FAIL_IXN_UNKNOWN_MEDIA_TYPE"
	ReasonFailNoCustomerNumber         Reason = "FAIL_NO_CUSTOMER_NUMBER"
	ReasonFailUserNoConfirm            Reason = "FAIL_USER_NO_CONFIRM"
	ReasonFailQueueing                 Reason = "FAIL_QUEUEING"
	ReasonFailAgentConnect             Reason = "FAIL_AGENT_CONNECT"
	ReasonFailCallToCustomer           Reason = "FAIL_CALL_TO_CUSTOMER"
	ReasonFailIncorrectConfigMediaType Reason = "FAIL_INCORRECT_CONFIG_MEDIA_TYPE"
	ReasonFailFaxReached               Reason = "FAIL_FAX_REACHED"
	ReasonSubmitError                  Reason = "SUBMIT_ERROR"
	ReasonFailUserUnreachable          Reason = "FAIL_USER_UNREACHABLE"
	// ReasonCancelledByAdmin is what the admin bulk cancel records by
	// default (CLIENTS.md); the CSV export of cancelled callbacks selects it.
	ReasonCancelledByAdmin Reason = "CANCELLED_BY_ADMIN"
)

// Reasons lists the fixed reasons; AGENT_PREVIEW_CANCEL_AFTER_<n>REJECTS is
// matched by pattern in ParseReason.
var Reasons = []Reason{
	ReasonAbandonedInQueue, ReasonFailLoadMessageFile, ReasonCancelled, ReasonNotAvailable,
	ReasonFailInteractionDeleted, ReasonAgentConnected, ReasonAMConnected, ReasonFailTargetNotFound,
	ReasonFailError, ReasonFailTimeoutTTL, ReasonFailIxnUnknownMediaType, ReasonFailNoCustomerNumber,
	ReasonFailUserNoConfirm, ReasonFailQueueing, ReasonFailAgentConnect, ReasonFailCallToCustomer,
	ReasonFailIncorrectConfigMediaType, ReasonFailFaxReached, ReasonSubmitError, ReasonFailUserUnreachable,
	ReasonCancelledByAdmin,
}

var previewRejects = regexp.MustCompile(`^AGENT_PREVIEW_CANCEL_AFTER_[0-9]{1,4}REJECTS$`)

// ParseReason accepts a reason of spec 001 in any letter case.
func ParseReason(s string) (Reason, bool) {
	r := Reason(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range Reasons {
		if r == known {
			return r, true
		}
	}
	if previewRejects.MatchString(string(r)) {
		return r, true
	}
	return "", false
}

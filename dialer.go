package callbackd

import (
	"context"
	"errors"
	"time"
)

// Dialer places the calls of the built-in engine: the customer leg and the
// agent leg of a callback. Implementations: the simulated dialer (package
// simdialer) and, later, SIP and telephony engines. The engine owns the
// call flow; a Dialer only places, bridges and ends calls.
type Dialer interface {
	// Dial places one call and returns once it is answered (with the
	// detection result when r.Detect) or has failed. A failed call is a
	// DialResult with a failing Outcome and a nil Call, not an error: the
	// error is for a dial that could not be attempted (ErrAlreadyDialled,
	// the dialer shutting down). Cancelling ctx abandons a ringing call.
	//
	// The same Key is never dialled twice: a second Dial with a key the
	// dialer has seen returns ErrAlreadyDialled and places no call. The
	// engine writes the attempt to the store before dialling, so after a
	// crash it never reuses a key it may have dialled.
	Dial(ctx context.Context, r DialRequest) (Call, DialResult, error)
}

// ErrAlreadyDialled is Dial's answer for a key it has already dialled.
var ErrAlreadyDialled = errors.New("callbackd: attempt already dialled")

// Call legs.
const (
	LegCustomer = "customer"
	LegAgent    = "agent"
)

// DialRequest is one call to place.
type DialRequest struct {
	// Key identifies the attempt: "<callback id>/<leg>/<attempt>".
	Key string
	// Leg is LegCustomer or LegAgent.
	Leg string
	// Number is what to call: the customer's E.164 number, or the agent's
	// phone (a number or a SIP URI).
	Number string
	// Prefix (_prefix_dial_out) goes before the number when dialling out.
	Prefix string
	// CallerID and CallerName (_calling_party_number,
	// _calling_party_display_name) are what the called party sees.
	CallerID   string
	CallerName string
	// Detect asks for call progress detection (_cpd_enable): person,
	// answering machine or fax.
	Detect bool
	// Ring bounds the ringing; 0 means the dialer's own default.
	Ring time.Duration
}

// DialOutcome is how a dial attempt ended.
type DialOutcome string

// Dial outcomes. Human is an answered call that detection took for a
// person, or any answered call when detection is off.
const (
	OutcomeHuman    DialOutcome = "human"
	OutcomeMachine  DialOutcome = "machine"
	OutcomeFax      DialOutcome = "fax"
	OutcomeBusy     DialOutcome = "busy"
	OutcomeNoAnswer DialOutcome = "no_answer"
	OutcomeInvalid  DialOutcome = "invalid"
	OutcomeError    DialOutcome = "error"
)

// DialOutcomes lists every outcome.
var DialOutcomes = []DialOutcome{OutcomeHuman, OutcomeMachine, OutcomeFax, OutcomeBusy, OutcomeNoAnswer, OutcomeInvalid, OutcomeError}

// Answered reports whether the far end picked up (a person, a machine or a
// fax): a call exists.
func (o DialOutcome) Answered() bool {
	return o == OutcomeHuman || o == OutcomeMachine || o == OutcomeFax
}

// DialResult is what one dial attempt found.
type DialResult struct {
	Outcome DialOutcome
	// Cause says why: the detection's reason ("long greeting", "CNG
	// tone"), or the network's ("486 Busy Here").
	Cause string
	// CallID identifies the call on the network (the SIP Call-ID, the
	// simulated dialer's id): contact history's tconnection_id.
	CallID string
	// Started and Answered are when the dial began and when the far end
	// picked up (zero when it did not).
	Started, Answered time.Time
}

// Call is an answered call.
type Call interface {
	// ID is the call's network id (DialResult.CallID).
	ID() string
	// Bridge connects this call's audio with other's, until either ends;
	// then the other is hung up too.
	Bridge(ctx context.Context, other Call) error
	// Hangup ends the call; hanging up an ended call does nothing.
	Hangup(ctx context.Context) error
	// Done is closed when the call has ended, whoever hung up.
	Done() <-chan struct{}
}

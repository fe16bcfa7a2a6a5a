package simdialer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbackd/callbackd"
)

// Options configure a Dialer. The zero Options give a dialer on the
// system clock where every number answers as a person at once and every
// bridged conversation ends at once: the fastest dialer, for benchmarks.
type Options struct {
	// Clock is the only time the dialer knows; nil means
	// callbackd.SystemClock. Tests pass a callbackd.ManualClock.
	Clock callbackd.Clock
	// Rules choose a number's outcome: the first that matches wins; none
	// matching means OutcomeHuman.
	Rules []Rule
	// Ring is how long a call rings before it is answered or given up;
	// 0 turns ringing off (see the package doc for DialRequest.Ring).
	Ring time.Duration
	// Talk is how long a bridged conversation with a person lasts before
	// the customer hangs up.
	Talk time.Duration
	// Journal, when set, gets one JSON line per call placed, written
	// before the call rings: the record of every number a real dialer
	// would have called ([dialer] journal). It outlives the process, so
	// a crash test can count dials across restarts.
	Journal io.Writer
}

// Rule makes the numbers its Pattern matches end with Outcome, so a demo
// or a test picks an outcome by picking a number.
type Rule struct {
	// Outcome is one of callbackd.DialOutcomes.
	Outcome callbackd.DialOutcome
	// Pattern is matched against DialRequest.Number, unanchored; nil
	// matches every number.
	Pattern *regexp.Regexp
}

// Dialer is the simulated callbackd.Dialer. It is safe for concurrent use.
type Dialer struct {
	clock callbackd.Clock
	rules []Rule
	ring  time.Duration
	talk  time.Duration

	// seq numbers the dials: it makes CallIDs unique, and orders the locks
	// of two calls being bridged.
	seq  atomic.Uint64
	keys keySet

	journalMu sync.Mutex
	journal   io.Writer
}

var _ callbackd.Dialer = (*Dialer)(nil)

// New returns a Dialer. It panics on a Rule whose Outcome is not one of
// callbackd.DialOutcomes: that is a mistake in the code or configuration
// that builds the rules, and the dialer would otherwise report an outcome
// the engine does not know.
func New(o Options) *Dialer {
	for _, r := range o.Rules {
		if !slices.Contains(callbackd.DialOutcomes, r.Outcome) {
			panic(fmt.Sprintf("simdialer: rule for %v has unknown outcome %q", r.Pattern, r.Outcome))
		}
	}
	if o.Clock == nil {
		o.Clock = callbackd.SystemClock{}
	}
	return &Dialer{
		clock:   o.Clock,
		rules:   slices.Clone(o.Rules),
		ring:    o.Ring,
		talk:    o.Talk,
		keys:    keySet{seen: make(map[string]struct{})},
		journal: o.Journal,
	}
}

// Dial simulates one call: it picks the outcome from the rules, rings on
// the clock for as long as the outcome takes, and returns a *Call for an
// answered outcome. See the package doc for the rules, the timing and
// cancellation.
func (d *Dialer) Dial(ctx context.Context, r callbackd.DialRequest) (callbackd.Call, callbackd.DialResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, callbackd.DialResult{}, err
	}
	started := d.clock.Now()
	if !d.keys.add(r.Key, started) {
		return nil, callbackd.DialResult{}, callbackd.ErrAlreadyDialled
	}
	n := d.seq.Add(1)
	outcome, cause := d.outcome(r)
	if err := d.record(r, started, outcome); err != nil {
		return nil, callbackd.DialResult{}, err
	}
	res := callbackd.DialResult{
		Outcome: outcome,
		Cause:   cause,
		CallID:  "sim-" + strconv.FormatUint(n, 10),
		Started: started,
	}
	if ring := d.ringFor(outcome, r.Ring); ring > 0 {
		select {
		case <-callbackd.After(d.clock, ring):
		case <-ctx.Done():
			res.Outcome, res.Cause = callbackd.OutcomeNoAnswer, "cancelled"
			return nil, res, nil
		}
	}
	if !outcome.Answered() {
		return nil, res, nil
	}
	res.Answered = d.clock.Now()
	return newCall(d, n, res.CallID, r.Leg, outcome), res, nil
}

// outcome is the outcome the rules give r's number, as reported with or
// without detection, and its Cause.
func (d *Dialer) outcome(r callbackd.DialRequest) (callbackd.DialOutcome, string) {
	i := slices.IndexFunc(d.rules, func(rule Rule) bool {
		return rule.Pattern == nil || rule.Pattern.MatchString(r.Number)
	})
	if i < 0 {
		return callbackd.OutcomeHuman, "simulated: no rule matches, answered by a person"
	}
	o := d.rules[i].Outcome
	cause := "simulated: number matches outcome." + string(o)
	if !r.Detect && (o == callbackd.OutcomeMachine || o == callbackd.OutcomeFax) {
		return callbackd.OutcomeHuman, cause + ", reported as human: detection off"
	}
	return o, cause
}

// ringFor is how long a call with outcome o rings when the request bounds
// the ringing to req (0: no bound).
func (d *Dialer) ringFor(o callbackd.DialOutcome, req time.Duration) time.Duration {
	switch {
	case d.ring <= 0:
		return 0
	case o == callbackd.OutcomeNoAnswer && req > 0:
		return req
	case o == callbackd.OutcomeNoAnswer:
		return d.ring
	case o.Answered() && req > 0:
		return min(d.ring, req)
	case o.Answered():
		return d.ring
	default:
		return 0
	}
}

// record writes the journal's line for a call about to be placed. A call
// that cannot be recorded is not placed: the journal is the audit trail.
func (d *Dialer) record(r callbackd.DialRequest, at time.Time, outcome callbackd.DialOutcome) error {
	if d.journal == nil {
		return nil
	}
	line, _ := json.Marshal(map[string]string{"time": callbackd.FormatTime(at), "key": r.Key, "leg": r.Leg,
		"number": r.Number, "outcome": string(outcome)})
	d.journalMu.Lock()
	defer d.journalMu.Unlock()
	if _, err := d.journal.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("simdialer: journal: %w", err)
	}
	return nil
}

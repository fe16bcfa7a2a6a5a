package engine

import (
	"context"
	"time"

	"github.com/callbackd/callbackd"
)

// QueuePosition implements callbackd.QueueReporter from the live queue:
// the callback's place (1 = next), how many wait, the wait expected
// before an agent takes it (Stats), and whether an agent is expected to
// be ready for it (_eta_pos_threshold). A callback already offered to an
// agent or on a call is at position 0 with its threshold passed; one the
// engine does not hold (scheduled, finished) is at 0.
func (e *Engine) QueuePosition(ctx context.Context, cb *callbackd.Callback) (callbackd.QueuePosition, error) {
	opts, _, _, err := e.o.Policy.Execution(cb)
	if err != nil {
		return callbackd.QueuePosition{}, err
	}
	vq := opts.VirtualQueue(cb.Service)
	if v := cb.Properties[callbackd.KeyVQ]; v != "" {
		vq = v
	}
	waiting, free, staffed := e.live(vq)
	aht := e.o.Stats.AHT(vq)
	pos := callbackd.QueuePosition{TotalWaiting: waiting, EWT: estimateWith(aht, waiting, free, staffed), AgentsLoggedIn: e.loggedIn(vq)}
	e.mu.Lock()
	j, held := e.jobs[cb.ID]
	var entered time.Time
	if held {
		entered = j.entered
		pos.Priority = j.rank.class
		switch {
		case j.queue != nil:
			pos.Position = j.queue.position(j)
		case j.sess != nil:
			pos.AgentReadyThresholdPassed = true
		}
	}
	e.mu.Unlock()
	now := e.o.Clock.Now().UTC()
	if !entered.IsZero() {
		pos.Waited = now.Sub(entered)
	}
	if pos.Position > 0 {
		pos.ETA = estimateWith(aht, pos.Position-1, free, staffed)
		pos.AgentReadyThresholdPassed = thresholdPassed(opts, pos.ETA, pos.Position, pos.Waited)
	}
	return pos, nil
}

// thresholdPassed applies _eta_pos_threshold: the threshold is passed
// when some seconds:position pair has the ETA at most its seconds and the
// position at most its position (0:10 — an agent is expected now and the
// callback is among the first ten; 30:1 — first in line and an agent
// within 30 s), or once the callback has waited
// _max_time_to_reach_eta_pos_threshold. A pair with position 0 never
// matches (positions start at 1): the default table's 40:0 ends it.
func thresholdPassed(o callbackd.ServiceOptions, eta time.Duration, position int, waited time.Duration) bool {
	if o.MaxTimeToReachETAPosThreshold > 0 && waited >= o.MaxTimeToReachETAPosThreshold {
		return true
	}
	for _, t := range o.ETAPosThreshold {
		if eta <= time.Duration(t.Seconds)*time.Second && position <= t.Position {
			return true
		}
	}
	return false
}

// loggedIn counts the agents logged in that serve vq.
func (e *Engine) loggedIn(vq string) int {
	cfg := e.o.Config()
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, a := range e.agents {
		if c, ok := cfg.Agents[a.Name]; ok && a.State != callbackd.AgentLoggedOut && contains(c.Queues, vq) {
			n++
		}
	}
	return n
}

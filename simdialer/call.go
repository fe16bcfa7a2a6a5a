package simdialer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// Who ended a call, as (*Call).HungUpBy reports it.
const (
	// HungUpRemote: the far end hung up: the customer at the end of the
	// talk time, or the bridged peer's end.
	HungUpRemote = "remote"
	// HungUpLocal: Hangup was called on this call.
	HungUpLocal = "local"
)

// ErrCallEnded is Bridge's answer when either call has already ended: the
// engine lost the race with a hangup, and must not count the bridge as a
// conversation.
var ErrCallEnded = errors.New("simdialer: call has ended")

// Call is an answered simulated call, the callbackd.Call that Dial
// returns. It is safe for concurrent use.
type Call struct {
	d       *Dialer
	seq     uint64
	id      string
	leg     string
	outcome callbackd.DialOutcome
	done    chan struct{}

	mu    sync.Mutex
	ended bool
	by    string
	peer  *Call
}

var _ callbackd.Call = (*Call)(nil)

// newCall returns the up call of dial number seq.
func newCall(d *Dialer, seq uint64, id, leg string, outcome callbackd.DialOutcome) *Call {
	return &Call{d: d, seq: seq, id: id, leg: leg, outcome: outcome, done: make(chan struct{})}
}

// ID is the call's DialResult.CallID, "sim-<n>".
func (c *Call) ID() string { return c.id }

// Done is closed when the call has ended, whoever hung up.
func (c *Call) Done() <-chan struct{} { return c.done }

// HungUpBy says who ended the call, HungUpRemote or HungUpLocal, or ""
// while it is up: the engine records whether the customer or the agent
// side ended a conversation, and tests assert it.
func (c *Call) HungUpBy() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.by
}

// Hangup ends the call and the call bridged with it; hanging up an ended
// call does nothing. It never fails: nothing is on a network.
func (c *Call) Hangup(context.Context) error {
	c.end(HungUpLocal)
	return nil
}

// Bridge connects c with other, a call of the same Dialer, until either
// ends. When the customer leg was answered by a person, the customer hangs
// up after Options.Talk of clock time. It returns at once, with
// ErrCallEnded when either call has ended, and an error when other is not
// an up call of the same Dialer or either call is already bridged: a
// simulated call has one conversation.
func (c *Call) Bridge(_ context.Context, other callbackd.Call) error {
	o, ok := other.(*Call)
	switch {
	case !ok || o == nil:
		return fmt.Errorf("simdialer: cannot bridge %s with %T, not a simulated call", c.id, other)
	case o == c:
		return fmt.Errorf("simdialer: cannot bridge %s with itself", c.id)
	case o.d != c.d:
		return fmt.Errorf("simdialer: cannot bridge %s with %s of another dialer", c.id, o.id)
	}
	if err := c.link(o); err != nil {
		return err
	}
	if cust := customerOf(c, o); cust != nil && cust.outcome == callbackd.OutcomeHuman {
		// The timer is taken before Bridge returns, so the talk starts at
		// the bridge on the clock, and a test sees it in Waiters at once.
		go cust.talk(callbackd.After(c.d.clock, c.d.talk))
	}
	return nil
}

// link makes c and o each other's peer, or says why it cannot. Both locks
// are held, in dial order, so a concurrent end either comes first (and
// link fails) or sees the peer (and ends it too).
func (c *Call) link(o *Call) error {
	first, second := c, o
	if o.seq < c.seq {
		first, second = o, c
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()
	for _, x := range []*Call{c, o} {
		if x.ended {
			return fmt.Errorf("bridge %s with %s: %s: %w", c.id, o.id, x.id, ErrCallEnded)
		}
		if x.peer != nil {
			return fmt.Errorf("simdialer: bridge %s with %s: %s is already bridged with %s", c.id, o.id, x.id, x.peer.id)
		}
	}
	c.peer, o.peer = o, c
	return nil
}

// customerOf is the customer leg of a bridge, nil when neither is.
func customerOf(a, b *Call) *Call {
	switch {
	case a.leg == callbackd.LegCustomer:
		return a
	case b.leg == callbackd.LegCustomer:
		return b
	default:
		return nil
	}
}

// talk hangs the customer up when timer fires, and gives up when the call
// ends first, so no goroutine outlives its call.
func (c *Call) talk(timer <-chan time.Time) {
	select {
	case <-timer:
		c.end(HungUpRemote)
	case <-c.done:
	}
}

// end ends c, hung up by by, then its peer, which from its side was hung
// up by the far end. Only c's lock is held at a time, so two peers ending
// at once cannot deadlock.
func (c *Call) end(by string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended, c.by = true, by
	close(c.done)
	peer := c.peer
	c.mu.Unlock()
	if peer != nil {
		peer.end(HungUpRemote)
	}
}

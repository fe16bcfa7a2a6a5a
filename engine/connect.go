package engine

import (
	"context"
	"errors"
	"time"

	"github.com/callbackd/callbackd"
)

// connect bridges the customer and the agent (PROCESSING), waits for the
// end of the conversation, then the disposition if the service asks for
// one, and finishes the callback AGENT_CONNECTED.
func (s *session) connect(ctx context.Context, customer, agentLeg callbackd.Call) {
	e, j, a := s.e, s.j, s.a
	if err := customer.Bridge(ctx, agentLeg); err != nil {
		// The customer hung up while the agent's phone rang.
		hangup(agentLeg)
		hangup(customer)
		s.free("")
		e.complete(ctx, j, callbackd.ReasonAbandonedInQueue)
		return
	}
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		var evs []callbackd.Event
		if c.State == callbackd.StateQueued { // the agent's phone was first
			c.Properties[callbackd.KeyTimeCustomerConnected] = callbackd.FormatTime(now)
			ev, err := c.Transition(callbackd.StateRouting, "", now, "engine")
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepConnected
		ev, err := c.Transition(callbackd.StateProcessing, "", now, "engine")
		if err != nil {
			return nil, err
		}
		ev.WithProps(callbackd.KeyAgent, a.Name)
		return append(evs, ev), nil
	})
	if err != nil {
		hangup(customer)
		s.free("")
		if !errors.Is(err, errGone) {
			e.o.Logger.Error("engine: recording a connected call failed", "id", j.id, "error", err)
			e.complete(ctx, j, callbackd.ReasonFailError)
		}
		return
	}
	e.mu.Lock()
	s.step = sessConnected
	e.mu.Unlock()
	e.hub.publish(a.Name, AgentEvent{Type: "call", Data: callData(j, "connected", "", nil)})
	hungUp := s.talk(ctx, customer, agentLeg)
	e.o.Stats.observe(j.vq, e.o.Clock.Now().Sub(s.offeredAt))
	e.hub.publish(a.Name, AgentEvent{Type: "call", Data: callData(j, "ended", "", nil)})
	if ctx.Err() != nil {
		answer(hungUp)
		return // stopping: the next start finishes the callback
	}
	if !j.opts.EnableDispositionDialog {
		s.free("")
		e.complete(ctx, j, callbackd.ReasonAgentConnected)
		answer(hungUp)
		return
	}
	s.wrapUp(ctx, hungUp)
}

// talk waits for the end of the conversation: either party hangs up, or
// the agent hangs up from the desktop. Then both calls are ended. When
// the agent's hangup ended it, talk returns the hangup's reply, for the
// caller to answer once what follows (the agent freed, or in after-call
// work) is recorded: the API answers with the agent's state then.
func (s *session) talk(ctx context.Context, customer, agentLeg callbackd.Call) (hungUp chan error) {
	defer hangup(customer)
	defer hangup(agentLeg)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-customer.Done():
			return nil
		case <-agentLeg.Done():
			return nil
		case act := <-s.actions:
			if act.kind == "hangup" {
				return act.reply
			}
			act.reply <- errNotNow
		}
	}
}

// answer replies to an action whose effects are recorded; a nil reply
// (no action waits) is left alone.
func answer(reply chan error) {
	if reply != nil {
		reply <- nil
	}
}

// wrapUp is the disposition dialog: the agent is in AFTER_CALL_WORK until
// it gives a disposition or _agent_disposition_timeout passes. hungUp, the
// reply of the hangup that ended the call, is answered once the agent is
// in AFTER_CALL_WORK.
func (s *session) wrapUp(ctx context.Context, hungUp chan error) {
	e, j, a := s.e, s.j, s.a
	timeout := j.opts.AgentDispositionTimeout
	_, _ = e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepWrapUp
		return nil, nil
	})
	e.mu.Lock()
	s.step = sessWrapUp
	now := e.o.Clock.Now().UTC()
	e.setState(a, callbackd.AgentAfterCallWork, "", now)
	e.mu.Unlock()
	_ = e.saveAgent(ctx, a)
	expired := callbackd.After(e.o.Clock, timeout) // before the agent hears of it
	e.publishState(a)
	e.hub.publish(a.Name, AgentEvent{Type: "disposition", Data: map[string]any{
		"callback": j.id, "deadline": callbackd.FormatTime(now.Add(timeout)), "timeout": int64(timeout / time.Second),
	}})
	answer(hungUp)
	for {
		select {
		case <-ctx.Done():
			return
		case <-expired:
			s.free("")
			e.complete(ctx, j, callbackd.ReasonAgentConnected)
			return
		case act := <-s.actions:
			if act.kind != "disposition" {
				act.reply <- errNotNow
				continue
			}
			err := s.dispose(ctx, act.disposition)
			act.reply <- err
			if err == nil {
				return
			}
		}
	}
}

// dispose records the agent's disposition: the callback is COMPLETED
// AGENT_CONNECTED, or, with a reschedule, SCHEDULED again at that time.
// An error (a closed office, a full slot) leaves the dialog open.
func (s *session) dispose(ctx context.Context, d Disposition) error {
	e, j := s.e, s.j
	if d.Reschedule.IsZero() {
		s.free("")
		e.complete(ctx, j, callbackd.ReasonAgentConnected, callbackd.KeyDisposition, d.Disposition, callbackd.KeyDispositionNotes, d.Notes)
		return nil
	}
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		c.Properties[callbackd.KeyDisposition] = d.Disposition
		c.Properties[callbackd.KeyDispositionNotes] = d.Notes
		return e.o.Policy.RescheduleAfterCall(ctx, c, d.Reschedule, now)
	})
	var le *callbackd.LimitError
	if errors.As(err, &le) {
		return callbackd.Errorf(callbackd.CodeSlotUnavailable, map[string]any{"id": j.id, "reschedule": callbackd.FormatTime(d.Reschedule)},
			"Callback %s cannot be rescheduled to %s: the time slot is full", j.id, callbackd.FormatTime(d.Reschedule))
	}
	if err != nil && !errors.Is(err, errGone) {
		return err
	}
	s.free("")
	e.mu.Lock()
	e.drop(j)
	e.mu.Unlock()
	e.o.Logger.Info("engine: callback rescheduled by its agent", "id", j.id, "agent", s.a.Name, "desired", d.Reschedule)
	return nil
}

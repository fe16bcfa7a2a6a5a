package engine

import (
	"context"

	"github.com/callbackd/callbackd"
)

// The agent's actions on the callback it holds. Each is checked against
// the session's step under the lock, so a wrong action (a callback the
// agent does not hold, a second accept, a disposition before the call
// ends) is refused with the spec's error format and changes nothing.

// Accept accepts the invitation: the call begins.
func (e *Engine) Accept(ctx context.Context, agent, id string) error {
	return e.act(ctx, agent, id, "accept", Disposition{})
}

// Reject declines a previewed callback (_agent_preview with
// _agent_preview_allow_reject above 0).
func (e *Engine) Reject(ctx context.Context, agent, id string) error {
	return e.act(ctx, agent, id, "reject", Disposition{})
}

// Hangup ends the agent's call.
func (e *Engine) Hangup(ctx context.Context, agent, id string) error {
	return e.act(ctx, agent, id, "hangup", Disposition{})
}

// Dispose gives the disposition after the call (_enable_disposition_dialog).
func (e *Engine) Dispose(ctx context.Context, agent, id string, d Disposition) error {
	return e.act(ctx, agent, id, "disposition", d)
}

func (e *Engine) act(ctx context.Context, agentName, id, kind string, d Disposition) error {
	if _, err := e.agentConfig(agentName); err != nil {
		return err
	}
	e.mu.Lock()
	a := e.agentLocked(agentName)
	a.SeenAt = e.o.Clock.Now().UTC()
	s := a.sess
	if s == nil || s.j.id != id {
		e.mu.Unlock()
		return callbackd.InvalidOperation(map[string]any{"agent": agentName, "id": id},
			"Agent %s does not hold callback %s", agentName, id)
	}
	if err := s.allows(kind); err != nil {
		e.mu.Unlock()
		return err
	}
	if kind == "accept" {
		s.accepted = true // a second accept is refused from now on
	}
	e.mu.Unlock()
	reply := make(chan error, 1)
	select {
	case s.actions <- action{kind: kind, disposition: d, reply: reply}:
	case <-s.stopped:
		return gone(agentName, id)
	case <-s.ended:
		return gone(agentName, id)
	case <-ctx.Done():
		return ctx.Err()
	}
	answered := func(err error) error {
		if err == errNotNow {
			return notNow(id, kind, "the callback has moved on")
		}
		return err
	}
	// A session that stops or ends may have taken the action just
	// before: its reply, already sent, is the answer then.
	lastReply := func() error {
		select {
		case err := <-reply:
			return answered(err)
		default:
			return gone(agentName, id)
		}
	}
	select {
	case err := <-reply:
		return answered(err)
	case <-s.stopped:
		return lastReply()
	case <-s.ended:
		return lastReply()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// allows checks an action against the session's step; e.mu is held.
func (s *session) allows(kind string) error {
	id, o := s.j.id, s.j.opts
	switch kind {
	case "accept":
		if s.step != sessOffered || s.accepted {
			return notNow(id, kind, "it was already accepted")
		}
	case "reject":
		switch {
		case s.step != sessOffered || s.accepted:
			return notNow(id, kind, "it was already accepted")
		case !o.AgentPreview || o.AgentPreviewAllowReject == 0:
			return notNow(id, kind, "the service does not allow rejects (_agent_preview, _agent_preview_allow_reject)")
		}
	case "hangup":
		if s.step != sessCalling && s.step != sessConnected {
			return notNow(id, kind, "there is no call")
		}
	case "disposition":
		switch {
		case !o.EnableDispositionDialog:
			return notNow(id, kind, "the service has no disposition dialog (_enable_disposition_dialog)")
		case s.step != sessWrapUp:
			return notNow(id, kind, "the call has not ended")
		}
	}
	return nil
}

func notNow(id, kind, why string) error {
	return callbackd.InvalidOperation(map[string]any{"id": id, "action": kind}, "Callback %s cannot take %s: %s", id, kind, why)
}

func gone(agent, id string) error {
	return callbackd.InvalidOperation(map[string]any{"agent": agent, "id": id}, "Agent %s no longer holds callback %s", agent, id)
}

package engine

import (
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// AgentEvent is one server-sent event for an agent's desktop: Type is the
// SSE event name (invitation, call, disposition, state), Data its JSON.
type AgentEvent struct {
	Type string
	Data any
}

// hub fans an agent's events out to its open streams. A stream that does
// not keep up is closed rather than blocking the engine: the desktop
// reconnects and is sent the current state again (Subscribe).
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan AgentEvent]struct{}
}

const streamBuffer = 64

func (h *hub) publish(agent string, ev AgentEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs[agent] {
		select {
		case c <- ev:
		default:
			delete(h.subs[agent], c)
			close(c)
		}
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for agent, cs := range h.subs {
		for c := range cs {
			close(c)
		}
		delete(h.subs, agent)
	}
}

// Subscribe opens an event stream for an agent. The stream starts with
// the agent's state and, when a callback is offered to it or it is on a
// call, the invitation, so a desktop that reconnects sees where it is.
// While a stream is open the agent is not logged out for silence. The
// channel closes when the stream falls behind or the engine stops; call
// the returned function when the client goes away.
func (e *Engine) Subscribe(name string) (<-chan AgentEvent, func(), error) {
	if _, err := e.agentConfig(name); err != nil {
		return nil, nil, err
	}
	c := make(chan AgentEvent, streamBuffer)
	e.mu.Lock()
	a := e.agentLocked(name)
	a.streams++
	a.SeenAt = e.o.Clock.Now().UTC()
	c <- AgentEvent{Type: "state", Data: stateData(e.view(a))}
	if a.sess != nil && a.sess.invitation != nil {
		c <- AgentEvent{Type: "invitation", Data: a.sess.invitation}
	}
	e.hub.mu.Lock()
	if e.hub.subs[name] == nil {
		e.hub.subs[name] = map[chan AgentEvent]struct{}{}
	}
	e.hub.subs[name][c] = struct{}{}
	e.hub.mu.Unlock()
	e.mu.Unlock()
	var once sync.Once
	return c, func() {
		once.Do(func() {
			e.hub.mu.Lock()
			if _, ok := e.hub.subs[name][c]; ok {
				delete(e.hub.subs[name], c)
				close(c)
			}
			e.hub.mu.Unlock()
			e.mu.Lock()
			a.streams--
			a.SeenAt = e.o.Clock.Now().UTC() // the heartbeat counts from the stream's end
			e.mu.Unlock()
		})
	}, nil
}

func stateData(v AgentView) map[string]any {
	return map[string]any{"agent": v.Name, "state": string(v.State), "since": callbackd.FormatTime(v.Since),
		"reason": v.Reason, "callback": v.Callback}
}

// invitationData is what the agent sees of an offered callback: the
// number, the desired time, the properties _agent_preview_data names, the
// actions it may take, and until when.
func invitationData(j *job, deadline time.Time, timeout time.Duration) map[string]any {
	preview := map[string]string{}
	for _, k := range j.opts.AgentPreviewData {
		if v, ok := j.params[k]; ok {
			preview[k] = v
		}
	}
	actions := []string{"accept"}
	if j.opts.AgentPreview && j.opts.AgentPreviewAllowReject > 0 {
		actions = append(actions, "reject")
	}
	return map[string]any{
		"callback": j.id, "service": j.service, "_customer_number": j.number,
		"_desired_time": callbackd.FormatTime(j.desired), "preview": preview, "actions": actions,
		"deadline": callbackd.FormatTime(deadline), "timeout": int64(timeout / time.Second),
		"on_hold": j.call != nil, "rejects": j.rejects,
	}
}

// callData describes a step of the call for the agent's desktop.
func callData(j *job, status, leg string, res *callbackd.DialResult) map[string]any {
	d := map[string]any{"callback": j.id, "status": status, "attempt": j.attempt}
	if leg != "" {
		d["leg"] = leg
	}
	if res != nil {
		d["outcome"], d["cause"] = string(res.Outcome), res.Cause
		if res.CallID != "" {
			d["call_id"] = res.CallID
		}
	}
	return d
}

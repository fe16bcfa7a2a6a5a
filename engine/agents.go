package engine

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// agent is the engine's record of one agent: its stored state, plus what
// lives only while the process runs.
type agent struct {
	callbackd.Agent
	// sess is the session of the callback the agent holds.
	sess *session
	// streams counts the agent's open event streams: an agent with one is
	// alive, whatever its heartbeat.
	streams int
	// afterCall, when set, is the NOT_READY reason the agent asked for
	// while holding a callback: it applies when the agent is freed.
	afterCall string
	// wmu orders the agent's writes, so the last one stored is the last
	// one made.
	wmu sync.Mutex
}

// AgentView is an agent as the agent API shows it.
type AgentView struct {
	Name     string
	State    callbackd.AgentState
	Since    time.Time
	Reason   string
	Queues   []string
	Callback string
	Phone    string
}

// agentConfig returns the configured agent, or the NOT_FOUND error the
// API answers for a name no [agent.NAME] section defines.
func (e *Engine) agentConfig(name string) (*callbackd.AgentConfig, error) {
	if a, ok := e.o.Config().Agents[name]; ok {
		return a, nil
	}
	return nil, callbackd.Errorf(callbackd.CodeNotFound, map[string]any{"agent": name}, "Agent %s is not configured", name)
}

// agentLocked returns the engine's record of a configured agent, created
// LOGGED_OUT on first use. e.mu is held.
func (e *Engine) agentLocked(name string) *agent {
	a, ok := e.agents[name]
	if !ok {
		a = &agent{Agent: callbackd.Agent{Name: name, State: callbackd.AgentLoggedOut}}
		e.agents[name] = a
	}
	return a
}

func (e *Engine) view(a *agent) AgentView {
	v := AgentView{Name: a.Name, State: a.State, Since: a.Since, Reason: a.Reason, Callback: a.Callback}
	if c, ok := e.o.Config().Agents[a.Name]; ok {
		v.Queues, v.Phone = slices.Clone(c.Queues), c.Phone
	}
	return v
}

// Agent returns an agent's state.
func (e *Engine) Agent(name string) (AgentView, error) {
	if _, err := e.agentConfig(name); err != nil {
		return AgentView{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.view(e.agentLocked(name)), nil
}

// Agents returns every configured agent, by name.
func (e *Engine) Agents() []AgentView {
	cfg := e.o.Config()
	names := make([]string, 0, len(cfg.Agents))
	for n := range cfg.Agents {
		names = append(names, n)
	}
	sort.Strings(names)
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]AgentView, len(names))
	for i, n := range names {
		out[i] = e.view(e.agentLocked(n))
	}
	return out
}

// setState moves an agent to a state; e.mu is held.
func (e *Engine) setState(a *agent, st callbackd.AgentState, reason string, now time.Time) {
	if a.State != st || a.Reason != reason {
		a.Since = now
	}
	a.State, a.Reason = st, reason
	if st == callbackd.AgentReady && a.Callback == "" {
		a.IdleSince = now
	}
}

// change runs fn on an agent under the lock, stores the result and tells
// the agent's desktops. fn returns an error to refuse the change (nothing
// is stored then).
func (e *Engine) change(ctx context.Context, name string, fn func(a *agent, now time.Time) error) (AgentView, error) {
	if _, err := e.agentConfig(name); err != nil {
		return AgentView{}, err
	}
	e.mu.Lock()
	a := e.agentLocked(name)
	now := e.o.Clock.Now().UTC()
	if err := fn(a, now); err != nil {
		e.mu.Unlock()
		return AgentView{}, err
	}
	a.SeenAt = now
	v := e.view(a)
	e.mu.Unlock()
	if err := e.saveAgent(ctx, a); err != nil {
		return v, err
	}
	e.hub.publish(name, AgentEvent{Type: "state", Data: stateData(v)})
	e.mu.Lock()
	e.offerTo(a, e.o.Clock.Now().UTC())
	e.mu.Unlock()
	return v, nil
}

// saveAgent stores the agent's latest state.
func (e *Engine) saveAgent(ctx context.Context, a *agent) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	e.mu.Lock()
	snap := a.Agent
	e.mu.Unlock()
	if err := e.o.Agents.PutAgents(ctx, []*callbackd.Agent{&snap}); err != nil {
		e.o.Logger.Error("engine: storing an agent's state failed", "agent", a.Name, "error", err)
		return err
	}
	return nil
}

func notLoggedIn(a *agent) error {
	return callbackd.InvalidOperation(map[string]any{"agent": a.Name, "state": string(a.State)}, "Agent %s is not logged in", a.Name)
}

// Login logs an agent in, NOT_READY; logging in again changes nothing.
func (e *Engine) Login(ctx context.Context, name string) (AgentView, error) {
	return e.change(ctx, name, func(a *agent, now time.Time) error {
		if a.State == callbackd.AgentLoggedOut {
			e.setState(a, callbackd.AgentNotReady, "login", now)
		}
		return nil
	})
}

// Ready makes an agent available for callbacks. While it holds one, it
// cancels a NOT_READY asked for after the call.
func (e *Engine) Ready(ctx context.Context, name string) (AgentView, error) {
	return e.change(ctx, name, func(a *agent, now time.Time) error {
		switch {
		case a.State == callbackd.AgentLoggedOut:
			return notLoggedIn(a)
		case a.Callback != "":
			a.afterCall = ""
		default:
			e.setState(a, callbackd.AgentReady, "", now)
		}
		return nil
	})
}

// NotReady makes an agent unavailable, with a reason. While it holds a
// callback, the agent finishes it first and is NOT_READY afterwards.
func (e *Engine) NotReady(ctx context.Context, name, reason string) (AgentView, error) {
	if reason == "" {
		reason = "not-ready"
	}
	return e.change(ctx, name, func(a *agent, now time.Time) error {
		switch {
		case a.State == callbackd.AgentLoggedOut:
			return notLoggedIn(a)
		case a.Callback != "":
			a.afterCall = reason
		default:
			e.setState(a, callbackd.AgentNotReady, reason, now)
		}
		return nil
	})
}

// Logout logs an agent out. An agent on a call or in after-call work must
// finish first; an invitation not yet accepted goes back to its queue,
// keeping its place.
func (e *Engine) Logout(ctx context.Context, name string) (AgentView, error) {
	return e.change(ctx, name, func(a *agent, now time.Time) error {
		if a.sess != nil {
			if !a.sess.withdrawable() {
				return callbackd.InvalidOperation(map[string]any{"agent": a.Name, "state": string(a.State), "callback": a.Callback},
					"Agent %s holds callback %s: hang up and finish it before logging out", a.Name, a.Callback)
			}
			a.sess.stop(stopWithdrawn)
		}
		a.afterCall = ""
		e.setState(a, callbackd.AgentLoggedOut, "", now)
		return nil
	})
}

// Touch records a sign of life from an agent (any request).
func (e *Engine) Touch(name string) {
	e.mu.Lock()
	if a, ok := e.agents[name]; ok {
		a.SeenAt = e.o.Clock.Now().UTC()
	}
	e.mu.Unlock()
}

// heartbeat is how long an agent may stay silent, without an event
// stream, before it is logged out.
func (e *Engine) heartbeat() time.Duration {
	if h := e.o.Config().AgentPolicy.Heartbeat; h > 0 {
		return h
	}
	return time.Minute
}

// logoutSilent logs out agents that have no event stream open and sent
// nothing for a heartbeat, so that no ghost READY agent is offered
// callbacks. An agent holding a callback is left alone: its session ends
// by its own timeouts. e.mu is held.
func (e *Engine) logoutSilent(now time.Time) {
	hb := e.heartbeat()
	for _, a := range e.agents {
		if a.State == callbackd.AgentLoggedOut || a.streams > 0 || a.Callback != "" || now.Sub(a.SeenAt) < hb {
			continue
		}
		e.o.Logger.Warn("engine: agent silent for longer than the heartbeat; logged out", "agent", a.Name, "seen", a.SeenAt, "heartbeat", hb)
		e.setState(a, callbackd.AgentLoggedOut, "", now)
		a.Reason = "heartbeat"
		v := e.view(a)
		e.running.Add(1)
		go func() {
			defer e.running.Done()
			if e.saveAgent(e.ctx, a) == nil {
				e.hub.publish(a.Name, AgentEvent{Type: "state", Data: stateData(v)})
			}
		}()
	}
}

// serves reports whether a READY agent may be offered callbacks of q.
func (e *Engine) serves(a *agent, q string) bool {
	c, ok := e.o.Config().Agents[a.Name]
	return ok && a.State == callbackd.AgentReady && a.sess == nil && slices.Contains(c.Queues, q)
}

// offerTo gives a free READY agent the best first callback of the queues
// it serves, if any. e.mu is held.
func (e *Engine) offerTo(a *agent, now time.Time) {
	if a.State != callbackd.AgentReady || a.sess != nil {
		return
	}
	c, ok := e.o.Config().Agents[a.Name]
	if !ok {
		return
	}
	var best *job
	for _, name := range c.Queues {
		if q, ok := e.queues[name]; ok {
			if j := q.first(); j != nil && (best == nil || j.rank.less(best.rank)) {
				best = j
			}
		}
	}
	if best != nil {
		e.reserve(best, a, now)
	}
}

// match offers q's first callbacks to its longest-idle READY agents, one
// callback per agent, while both last. e.mu is held.
func (e *Engine) match(q *vqueue, now time.Time) {
	for q.first() != nil {
		var best *agent
		for _, a := range e.agents {
			if e.serves(a, q.name) && (best == nil || a.IdleSince.Before(best.IdleSince) ||
				(a.IdleSince.Equal(best.IdleSince) && a.Name < best.Name)) {
				best = a
			}
		}
		if best == nil {
			return
		}
		e.reserve(q.first(), best, now)
	}
}

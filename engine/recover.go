package engine

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/callbackd/callbackd"
)

// recover rebuilds the engine from the store when it starts: who is
// logged in, and every callback it was running, each taken up where its
// stored step says it stood. Calls do not survive a process (their media
// went with it), so:
//
//   - waiting, offered or waiting to retry: back in its queue, with its
//     place in line (the invitation is offered again);
//   - a dial attempt placed, or the customer reached and not yet
//     connected: that attempt is over, counted as failed ("interrupted"),
//     and the next one follows the service's retry rules; its key is
//     never dialled again;
//   - connected, or in after-call work: COMPLETED AGENT_CONNECTED, the
//     customer and the agent did talk.
//
// Agents that held a callback are freed: READY again, with a heartbeat's
// time to reconnect their desktop.
func (e *Engine) recover(ctx context.Context) error {
	if err := e.recoverAgents(ctx); err != nil {
		return err
	}
	q := callbackd.Query{States: []callbackd.State{callbackd.StateQueued, callbackd.StateRouting, callbackd.StateProcessing}, Limit: 1000}
	n := 0
	for {
		page, err := e.o.Store.FindCallbacks(ctx, q)
		if err != nil {
			return fmt.Errorf("engine: recovering callbacks: %w", err)
		}
		for _, cb := range page {
			if cb.SessionID == sessionID(cb.ID) && e.recoverCallback(ctx, cb) {
				n++
			}
		}
		if len(page) < q.Limit {
			break
		}
		q.After = callbackd.CursorOf(page[len(page)-1])
	}
	// Offers wait until every callback is back: then they go in rank
	// order (pages come by desired time), and cost one look at the agents
	// per offer instead of one per callback taken up.
	e.mu.Lock()
	now := e.o.Clock.Now().UTC()
	for _, q := range e.queues {
		e.match(q, now)
	}
	e.mu.Unlock()
	if n > 0 {
		e.o.Logger.Info("engine: callbacks taken up after a restart", "count", n)
	}
	return nil
}

// recoverAgents loads the stored agents of the configuration.
func (e *Engine) recoverAgents(ctx context.Context) error {
	stored, err := e.o.Agents.ListAgents(ctx)
	if err != nil {
		return fmt.Errorf("engine: recovering agents: %w", err)
	}
	cfg := e.o.Config()
	now := e.o.Clock.Now().UTC()
	var freed []*callbackd.Agent
	e.mu.Lock()
	for _, s := range stored {
		if _, ok := cfg.Agents[s.Name]; !ok {
			continue
		}
		a := e.agentLocked(s.Name)
		a.Agent = *s
		if a.State != callbackd.AgentLoggedOut {
			a.SeenAt = now // a heartbeat's time to reconnect
		}
		if a.Callback != "" || a.State == callbackd.AgentReserved || a.State == callbackd.AgentBusy || a.State == callbackd.AgentAfterCallWork {
			a.Callback = ""
			e.setState(a, callbackd.AgentReady, "", now)
			snap := a.Agent
			freed = append(freed, &snap)
		}
	}
	e.mu.Unlock()
	if len(freed) > 0 {
		if err := e.o.Agents.PutAgents(ctx, freed); err != nil {
			return fmt.Errorf("engine: freeing agents: %w", err)
		}
		e.o.Logger.Info("engine: agents freed after a restart", "count", len(freed))
	}
	return nil
}

// recoverCallback takes up one stored callback; it reports whether the
// engine holds it now or finished it.
func (e *Engine) recoverCallback(ctx context.Context, cb *callbackd.Callback) bool {
	opts, params, _, err := e.o.Policy.Execution(cb)
	if err != nil {
		e.o.Logger.Error("engine: cannot take up a callback after a restart; it waits for its service to return", "id", cb.ID, "service", cb.Service, "error", err)
		return false
	}
	if opts.Type != callbackd.TypeBuiltin {
		return false
	}
	now := e.o.Clock.Now().UTC()
	j := e.newJob(cb, opts, params, cb.SubmitAttempts)
	p := cb.Properties
	j.entered = parseTime(p[callbackd.KeyVQEntered], cb.UpdatedAt)
	prio, err := strconv.Atoi(p[callbackd.KeyVQPriority])
	if err != nil {
		prio = opts.VQPriority
	}
	j.rank = rankOf(opts, prio, j.entered, j.id)
	j.deadline = j.entered.Add(opts.URSQueuedTTL)
	j.attempt, _ = strconv.Atoi(p[callbackd.KeyDialAttempt])
	j.rejects, _ = strconv.Atoi(p[callbackd.KeyRejects])
	j.notBefore = parseTime(p[callbackd.KeyNotBefore], time.Time{})
	step := p[callbackd.KeyEngineStep]

	if !e.hold(j) {
		return false // held already (a hand-over seen twice)
	}
	switch {
	case cb.State == callbackd.StateProcessing:
		e.complete(ctx, j, callbackd.ReasonAgentConnected, "_engine_interrupted", step)
		return true
	case cb.State == callbackd.StateRouting || step == callbackd.StepDialing:
		res := callbackd.DialResult{Outcome: callbackd.OutcomeError, Cause: "interrupted: the node stopped during the call"}
		v := judge(j, res)
		if !v.retry {
			e.completeDial(ctx, j, v.reason, res)
			return true
		}
		notBefore, ok := e.retryLater(ctx, j, res)
		if !ok {
			e.mu.Lock()
			e.drop(j)
			e.mu.Unlock()
			return false
		}
		j.notBefore = notBefore
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !opts.WaitForAgent {
		if j.notBefore.After(now) {
			j.gen++
			e.timers.add(j.notBefore, timerRedial, j)
			return true
		}
		e.running.Add(1)
		go e.dialFirst(j)
		return true
	}
	e.place(j, now) // offered once all are back (recover)
	return true
}

// parseTime reads a stored time property, or def.
func parseTime(v string, def time.Time) time.Time {
	if t, err := callbackd.ParseTime(v); err == nil {
		return t.UTC()
	}
	return def
}

// hold makes the engine hold j, unless it holds that callback already.
func (e *Engine) hold(j *job) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, held := e.jobs[j.id]; held {
		return false
	}
	e.jobs[j.id] = j
	return true
}

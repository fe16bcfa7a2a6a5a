package engine

import (
	"context"
	"errors"
	"time"

	"github.com/callbackd/callbackd"
)

// call runs the calls of an accepted callback: both legs in the order
// the service asks (_userterminated_first_connect_party), the bridge, the
// conversation, and the agent's release.
func (s *session) call(ctx context.Context) {
	e, j := s.e, s.j
	var customer, agentLeg callbackd.Call
	switch {
	case j.call != nil: // the customer is on hold (_wait_for_agent=false)
		customer = j.call
		if agentLeg = s.dialAgent(ctx); agentLeg == nil {
			s.agentUnreached(ctx) // still holding: the next agent
			return
		}
	case j.opts.FirstConnectParty == callbackd.PartyAgent:
		if agentLeg = s.dialAgent(ctx); agentLeg == nil {
			s.agentUnreached(ctx)
			return
		}
		var res callbackd.DialResult
		if customer, res = e.dialCustomer(ctx, j, s); customer == nil {
			hangup(agentLeg)
			s.customerFailed(ctx, res)
			return
		}
	default:
		var res callbackd.DialResult
		if customer, res = e.dialCustomer(ctx, j, s); customer == nil {
			s.customerFailed(ctx, res)
			return
		}
		if !e.reached(ctx, j, res) {
			hangup(customer)
			s.free("")
			return
		}
		if agentLeg = s.dialAgent(ctx); agentLeg == nil {
			hangup(customer)
			if s.interrupted(ctx) {
				s.free("")
				return
			}
			s.free("no-answer")
			e.complete(ctx, j, callbackd.ReasonFailAgentConnect)
			return
		}
	}
	s.connect(ctx, customer, agentLeg)
}

// interrupted reports whether the session was cancelled or the engine is
// stopping: then a failed call is no one's fault and nothing is written.
func (s *session) interrupted(ctx context.Context) bool {
	return ctx.Err() != nil || isDone(s.stopped) || isDone(s.j.done)
}

// agentUnreached handles an agent's phone that never answered before the
// customer was reached: the callback goes to the next agent, keeping its
// place, and the agent goes NOT_READY (no-answer).
func (s *session) agentUnreached(ctx context.Context) {
	if s.interrupted(ctx) {
		s.free("")
		return
	}
	s.requeue(time.Time{})
	s.free("no-answer")
}

// dialCustomer places the next dial attempt to the customer. The attempt
// number is stored before the dial, so that after a crash the engine
// knows the attempt may have been placed and never dials its key again.
// It returns the call when a person answered (or anyone, with detection
// off), else nil and what happened.
func (e *Engine) dialCustomer(ctx context.Context, j *job, s *session) (callbackd.Call, callbackd.DialResult) {
	attempt := j.attempt + 1
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		c.Properties[callbackd.KeyDialAttempt] = itoa(attempt)
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepDialing
		delete(c.Properties, callbackd.KeyNotBefore)
		return nil, nil
	})
	if err != nil {
		return nil, callbackd.DialResult{Outcome: callbackd.OutcomeError, Cause: "not dialled: " + err.Error()}
	}
	j.attempt = attempt
	agentName := ""
	if s != nil {
		agentName = s.a.Name
		e.hub.publish(agentName, AgentEvent{Type: "call", Data: callData(j, "dialing", callbackd.LegCustomer, nil)})
	}
	dctx, cancel := e.jobContext(ctx, j, s)
	defer cancel()
	o := j.opts
	call, res, err := e.o.Dialer.Dial(dctx, callbackd.DialRequest{
		Key: j.key + "/" + callbackd.LegCustomer + "/" + itoa(attempt), Leg: callbackd.LegCustomer,
		Number: j.number, Prefix: o.PrefixDialOut, CallerID: o.CallingPartyNumber, CallerName: o.CallingPartyDisplayName,
		Detect: o.CPDEnable,
	})
	if err != nil {
		res.Outcome, res.Cause = callbackd.OutcomeError, err.Error()
	}
	if agentName != "" {
		e.hub.publish(agentName, AgentEvent{Type: "call", Data: callData(j, reachedStatus("customer", res), callbackd.LegCustomer, &res)})
	}
	if res.Outcome != callbackd.OutcomeHuman || call == nil {
		if call != nil {
			hangup(call)
		}
		return nil, res
	}
	return call, res
}

// reached records that the customer answered: the callback is ROUTING.
// It reports false when the callback was cancelled meanwhile.
func (e *Engine) reached(ctx context.Context, j *job, res callbackd.DialResult) bool {
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		setResult(c.Properties, res)
		c.Properties[callbackd.KeyTimeCustomerConnected] = callbackd.FormatTime(now)
		dialed := c.Dialed(now, j.attempt, res)
		if c.State == callbackd.StateRouting {
			return []callbackd.Event{dialed}, nil
		}
		ev, err := c.Transition(callbackd.StateRouting, "", now, "engine")
		if err != nil {
			return nil, err
		}
		ev.WithProps(callbackd.KeyDialResult, string(res.Outcome), callbackd.KeyDialAttempt, itoa(j.attempt))
		return []callbackd.Event{dialed, ev}, nil
	})
	if err != nil && !errors.Is(err, errGone) {
		e.o.Logger.Error("engine: recording a reached customer failed", "id", j.id, "error", err)
	}
	return err == nil
}

// setResult records a dial attempt's result on the callback.
func setResult(p map[string]string, res callbackd.DialResult) {
	p[callbackd.KeyDialResult] = string(res.Outcome)
	p[callbackd.KeyDialCause] = res.Cause
	if res.CallID != "" {
		p[callbackd.KeyCallID] = res.CallID
	}
}

// jobContext is ctx, also cancelled when the job is let go (a cancel) or
// its session stopped, so a ringing call is abandoned then.
func (e *Engine) jobContext(ctx context.Context, j *job, s *session) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	var stopped <-chan struct{}
	if s != nil {
		stopped = s.stopped
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-j.done:
			cancel()
		case <-stopped:
			cancel()
		}
	}()
	return ctx, cancel
}

// dialAgent calls the agent's phone, up to _max_transfer_to_agent_attempts
// times; nil when it never answered.
func (s *session) dialAgent(ctx context.Context) callbackd.Call {
	e, j, a := s.e, s.j, s.a
	c, ok := e.o.Config().Agents[a.Name]
	if !ok {
		return nil
	}
	for n := 1; n <= max(j.opts.MaxTransferToAgentAttempts, 1); n++ {
		e.hub.publish(a.Name, AgentEvent{Type: "call", Data: callData(j, "dialing", callbackd.LegAgent, nil)})
		dctx, cancel := e.jobContext(ctx, j, s)
		call, res, err := e.o.Dialer.Dial(dctx, callbackd.DialRequest{
			Key: j.key + "/" + callbackd.LegAgent + "/" + itoa(j.attempt) + "/" + itoa(n), Leg: callbackd.LegAgent,
			Number: c.Phone, CallerID: j.number, CallerName: j.opts.CallingPartyDisplayName,
			Ring: j.opts.AgentReserveTimeout,
		})
		cancel()
		if err == nil && call != nil && res.Outcome.Answered() {
			return call
		}
		if call != nil {
			hangup(call)
		}
		if err != nil {
			res.Cause = err.Error()
		}
		e.hub.publish(a.Name, AgentEvent{Type: "call", Data: callData(j, reachedStatus("agent", res), callbackd.LegAgent, &res)})
		if ctx.Err() != nil || isDone(s.stopped) || isDone(j.done) {
			return nil
		}
	}
	return nil
}

// hangup ends a call, whatever the context.
func hangup(c callbackd.Call) { _ = c.Hangup(context.Background()) }

// verdict is what a failed dial attempt leads to.
type verdict struct {
	retry  bool
	reason callbackd.Reason
}

// judge decides after a failed dial attempt. An invalid number is final
// at once; a machine is final at once when the service leaves a message
// on machines (_treatment_call_failure_answering_machine), which is
// AM_CONNECTED. Any other failure is retried while attempts remain
// (_max_dial_attempts); the last one decides the reason: a fax is
// FAIL_FAX_REACHED, anything else FAIL_CALL_TO_CUSTOMER.
func judge(j *job, res callbackd.DialResult) verdict {
	switch {
	case res.Outcome == callbackd.OutcomeInvalid:
		return verdict{reason: callbackd.ReasonFailCallToCustomer}
	case res.Outcome == callbackd.OutcomeMachine && trimmed(j.params["_treatment_call_failure_answering_machine"]):
		return verdict{reason: callbackd.ReasonAMConnected}
	case j.attempt < j.opts.MaxDialAttempts:
		return verdict{retry: true}
	case res.Outcome == callbackd.OutcomeFax:
		return verdict{reason: callbackd.ReasonFailFaxReached}
	}
	return verdict{reason: callbackd.ReasonFailCallToCustomer}
}

// customerFailed handles a dial attempt that did not reach the customer,
// in a session: the agent is freed, and the callback waits
// _dial_retry_timeout in its queue for the next attempt, or is finished.
func (s *session) customerFailed(ctx context.Context, res callbackd.DialResult) {
	e, j := s.e, s.j
	if s.interrupted(ctx) {
		s.free("")
		return
	}
	v := judge(j, res)
	if !v.retry {
		s.free("")
		e.completeDial(ctx, j, v.reason, res)
		return
	}
	notBefore, ok := e.retryLater(ctx, j, res)
	if ok {
		s.requeue(notBefore)
	}
	s.free("")
}

// retryLater records a failed attempt and when to try again.
func (e *Engine) retryLater(ctx context.Context, j *job, res callbackd.DialResult) (time.Time, bool) {
	notBefore := e.o.Clock.Now().UTC().Add(j.opts.DialRetryTimeout)
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		setResult(c.Properties, res)
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepRetry
		c.Properties[callbackd.KeyNotBefore] = callbackd.FormatTime(notBefore)
		return []callbackd.Event{c.Dialed(now, j.attempt, res)}, nil
	})
	if err != nil && !errors.Is(err, errGone) {
		e.o.Logger.Error("engine: recording a failed dial attempt failed", "id", j.id, "error", err)
	}
	return notBefore, !errors.Is(err, errGone)
}

// completeDial finishes a callback after its last dial attempt, recording
// the attempt with the completion.
func (e *Engine) completeDial(ctx context.Context, j *job, reason callbackd.Reason, res callbackd.DialResult) {
	e.finish(ctx, j, reason, func(c *callbackd.Callback, now time.Time) []callbackd.Event {
		setResult(c.Properties, res)
		return []callbackd.Event{c.Dialed(now, j.attempt, res)}
	})
}

// dialFirst is the customer-first flow (_wait_for_agent=false): dial the
// customer when the callback is due; once a person answers, the customer
// waits on the line in the virtual queue for an agent, at most
// _max_time_to_wait_for_agent_on_the_call.
func (e *Engine) dialFirst(j *job) {
	defer e.running.Done()
	ctx := e.ctx
	call, res := e.dialCustomer(ctx, j, nil)
	if ctx.Err() != nil || isDone(j.done) {
		if call != nil {
			hangup(call)
		}
		return
	}
	if call == nil {
		v := judge(j, res)
		if !v.retry {
			e.completeDial(ctx, j, v.reason, res)
			return
		}
		if notBefore, ok := e.retryLater(ctx, j, res); ok {
			e.mu.Lock()
			j.gen++
			e.timers.add(notBefore, timerRedial, j)
			e.poke()
			e.mu.Unlock()
		}
		return
	}
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		setResult(c.Properties, res)
		c.Properties[callbackd.KeyTimeCustomerConnected] = callbackd.FormatTime(now)
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepOnHold
		dialed := c.Dialed(now, j.attempt, res)
		ev, err := c.Transition(callbackd.StateRouting, "", now, "engine")
		if err != nil {
			return nil, err
		}
		ev.WithProps(callbackd.KeyDialResult, string(res.Outcome), callbackd.KeyDialAttempt, itoa(j.attempt))
		return []callbackd.Event{dialed, ev}, nil
	})
	if err != nil {
		hangup(call)
		if !errors.Is(err, errGone) {
			e.o.Logger.Error("engine: recording a reached customer failed", "id", j.id, "error", err)
		}
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, held := e.jobs[j.id]; !held {
		hangup(call)
		return
	}
	now := e.o.Clock.Now().UTC()
	j.call = call
	j.deadline = now.Add(j.opts.MaxTimeToWaitForAgent)
	j.notBefore = time.Time{}
	e.running.Add(1)
	go e.watchHold(j, call)
	e.enqueue(j, now)
}

// watchHold completes a callback whose customer hangs up while waiting in
// the queue (ABANDONED_IN_QUEUE). A session that holds the callback sees
// the hang-up itself.
func (e *Engine) watchHold(j *job, call callbackd.Call) {
	defer e.running.Done()
	select {
	case <-j.done:
		return
	case <-e.ctx.Done():
		return
	case <-call.Done():
	}
	e.mu.Lock()
	waiting := j.queue != nil && j.sess == nil
	if waiting {
		e.drop(j)
	}
	e.mu.Unlock()
	if waiting {
		e.complete(e.ctx, j, callbackd.ReasonAbandonedInQueue)
	}
}

// reachedStatus names a dial's result for the agent's desktop:
// customer_answered (outcome says who: a person, a machine, a fax) or
// customer_not_reached (busy, no answer...); likewise for the agent leg.
func reachedStatus(leg string, res callbackd.DialResult) string {
	if res.Outcome.Answered() {
		return leg + "_answered"
	}
	return leg + "_not_reached"
}

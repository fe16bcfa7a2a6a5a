package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// Why a session was stopped from outside.
type stopKind int

const (
	stopCancelled stopKind = iota + 1 // the callback was cancelled
	stopWithdrawn                     // the agent logged out before accepting
)

// Session steps, as the agent API sees them (under e.mu).
const (
	sessOffered   = "offered"
	sessCalling   = "calling"
	sessConnected = "connected"
	sessWrapUp    = "wrap_up"
)

// session is one callback offered to one agent, from the reservation to
// the agent's release: the invitation, the calls, the disposition. It
// runs in its own goroutine and reads like the call flow it carries out;
// the agent's actions reach it through actions.
type session struct {
	e *Engine
	j *job
	a *agent

	actions chan action
	stopped chan struct{}
	// ended is closed when run returns: an action sent that the session
	// never took (a hangup queued while the customer's phone rang, when
	// the customer was not reached) is answered then, not left waiting.
	ended chan struct{}
	once  sync.Once
	why   stopKind

	// Under e.mu: where the session stands, for the agent API's checks.
	step       string
	accepted   bool
	invitation map[string]any
	offeredAt  time.Time
}

// action is an agent's request to its session; reply carries the result
// the API answers.
type action struct {
	kind        string // accept, reject, hangup, disposition
	disposition Disposition
	reply       chan error
}

// Disposition is what an agent chooses after the call
// (_enable_disposition_dialog).
type Disposition struct {
	Disposition string
	Notes       string
	// Reschedule, when set, sends the callback back to SCHEDULED then:
	// the customer is called again.
	Reschedule time.Time
}

func (s *session) stop(why stopKind) {
	s.once.Do(func() {
		s.why = why
		close(s.stopped)
	})
}

// withdrawable reports whether the invitation can still be taken back
// (not accepted yet). e.mu is held.
func (s *session) withdrawable() bool { return s.step == sessOffered && !s.accepted }

// reserve offers j to a: out of the queue, the agent RESERVED, and a
// session to run the rest. e.mu is held.
func (e *Engine) reserve(j *job, a *agent, now time.Time) {
	if q := j.queue; q != nil {
		q.remove(j)
	}
	j.gen++
	s := &session{e: e, j: j, a: a, actions: make(chan action, 4), stopped: make(chan struct{}), ended: make(chan struct{}), step: sessOffered, offeredAt: now}
	j.sess, a.sess, a.Callback = s, s, j.id
	e.setState(a, callbackd.AgentReserved, "", now)
	e.running.Add(1)
	go s.run()
}

// run is the session's life.
func (s *session) run() {
	defer s.e.running.Done()
	defer close(s.ended)
	ctx := s.e.ctx
	e, j, a := s.e, s.j, s.a
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		c.Properties[callbackd.KeyAgent] = a.Name
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepOffered
		return nil, nil
	})
	if err != nil {
		if !errors.Is(err, errGone) {
			e.o.Logger.Error("engine: recording a reservation failed; callback back in its queue", "id", j.id, "agent", a.Name, "error", err)
			s.requeue(time.Time{})
		}
		s.free("")
		return
	}
	_ = e.saveAgent(ctx, a)
	if !s.offer(ctx) {
		return
	}
	s.call(ctx)
}

// offer sends the invitation and waits for the agent's answer; it
// reports whether the agent accepted.
func (s *session) offer(ctx context.Context) bool {
	e, j, a := s.e, s.j, s.a
	timeout := j.opts.AgentReserveTimeout
	if j.opts.AgentPreview {
		timeout = j.opts.AgentPreviewTimeout
	}
	e.mu.Lock()
	now := e.o.Clock.Now().UTC()
	s.invitation = invitationData(j, now.Add(timeout), timeout)
	inv := s.invitation
	auto := false
	if c, ok := e.o.Config().Agents[a.Name]; ok && c.AutoAnswer {
		auto, s.accepted = true, true
	}
	e.mu.Unlock()
	// The timer runs before the agent hears of the invitation: the
	// deadline it is shown is the one that applies.
	expired := callbackd.After(e.o.Clock, timeout)
	e.hub.publish(a.Name, AgentEvent{Type: "invitation", Data: inv})
	e.publishState(a)
	if auto {
		return s.accept(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-s.stopped:
			s.stoppedEarly()
			return false
		case <-customerGone(j):
			s.abandoned(ctx)
			return false
		case act := <-s.actions:
			switch act.kind {
			// The API answers with the agent's state once the reply
			// comes, so the reply follows what the action leads to.
			case "accept":
				ok := s.accept(ctx)
				act.reply <- nil
				return ok
			case "reject":
				s.rejected(ctx)
				act.reply <- nil
				return false
			}
			act.reply <- errNotNow
		case <-expired:
			e.mu.Lock()
			accepted := s.accepted // an accept raced the timeout: it wins
			e.mu.Unlock()
			if accepted {
				continue
			}
			s.noAnswer()
			return false
		}
	}
}

// errNotNow answers an action that arrived in the wrong step (the API
// checks first; this covers a race with the session moving on).
var errNotNow = errors.New("engine: action not possible at this step")

// customerGone is the customer's hang-up while on hold, or nil.
func customerGone(j *job) <-chan struct{} {
	if j.call == nil {
		return nil
	}
	return j.call.Done()
}

// accept makes the agent BUSY and goes on with the call.
func (s *session) accept(ctx context.Context) bool {
	e := s.e
	e.mu.Lock()
	s.step = sessCalling
	e.setState(s.a, callbackd.AgentBusy, "", e.o.Clock.Now().UTC())
	e.mu.Unlock()
	_ = e.saveAgent(ctx, s.a)
	e.publishState(s.a)
	return true
}

// stoppedEarly handles a cancel or a withdrawal before the call began.
func (s *session) stoppedEarly() {
	if s.why == stopWithdrawn {
		s.requeue(time.Time{})
	}
	s.free("")
}

// noAnswer handles an invitation left unanswered: the agent goes
// NOT_READY (no-answer), and the callback goes to the next agent, keeping
// its place in line.
func (s *session) noAnswer() {
	s.e.o.Logger.Info("engine: agent did not answer the invitation", "agent", s.a.Name, "id", s.j.id)
	s.requeue(time.Time{})
	s.free("no-answer")
}

// rejected counts an agent's reject: after _agent_preview_allow_reject of
// them the callback is COMPLETED with AGENT_PREVIEW_CANCEL_AFTER_<n>REJECTS;
// before, it goes back to its queue, offered again after
// _agent_reject_retry_timeout.
func (s *session) rejected(ctx context.Context) {
	e, j := s.e, s.j
	j.rejects++
	allowed := j.opts.AgentPreviewAllowReject
	if j.rejects >= allowed {
		reason := callbackd.Reason("AGENT_PREVIEW_CANCEL_AFTER_" + itoa(allowed) + "REJECTS")
		s.free("")
		e.complete(ctx, j, reason, callbackd.KeyRejects, itoa(j.rejects))
		return
	}
	notBefore := e.o.Clock.Now().UTC().Add(j.opts.AgentRejectRetryTimeout)
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		c.Properties[callbackd.KeyRejects] = itoa(j.rejects)
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepWaiting
		setOrDelete(c.Properties, callbackd.KeyNotBefore, notBefore, notBefore.After(now))
		return nil, nil
	})
	if errors.Is(err, errGone) {
		s.free("")
		return
	}
	s.requeue(notBefore)
	s.free("")
}

// abandoned handles a customer who hung up while waiting for an agent.
func (s *session) abandoned(ctx context.Context) {
	s.free("")
	s.e.complete(ctx, s.j, callbackd.ReasonAbandonedInQueue)
}

// requeue puts the job back in its queue with its old rank (its place in
// line), to be offered from notBefore.
func (s *session) requeue(notBefore time.Time) {
	e, j := s.e, s.j
	e.mu.Lock()
	defer e.mu.Unlock()
	if j.sess == s {
		j.sess = nil
	}
	if _, held := e.jobs[j.id]; !held || e.stopped {
		return
	}
	if j.call != nil && isDone(j.call.Done()) {
		e.running.Add(1)
		go func() { defer e.running.Done(); e.complete(e.ctx, j, callbackd.ReasonAbandonedInQueue) }()
		return
	}
	j.notBefore = notBefore
	e.enqueue(j, e.o.Clock.Now().UTC())
}

// free lets the agent go: READY again (the longest idle from now), or
// NOT_READY with notReady, or with the reason it asked for during the
// call; an agent that logged out stays out.
func (s *session) free(notReady string) {
	e, a := s.e, s.a
	e.mu.Lock()
	if a.sess != s {
		e.mu.Unlock()
		return
	}
	if s.j.sess == s {
		s.j.sess = nil
	}
	a.sess, a.Callback = nil, ""
	now := e.o.Clock.Now().UTC()
	switch {
	case a.State == callbackd.AgentLoggedOut:
	case notReady != "":
		e.setState(a, callbackd.AgentNotReady, notReady, now)
	case a.afterCall != "":
		e.setState(a, callbackd.AgentNotReady, a.afterCall, now)
	default:
		e.setState(a, callbackd.AgentReady, "", now)
	}
	a.afterCall = ""
	e.mu.Unlock()
	_ = e.saveAgent(e.ctx, a)
	e.publishState(a)
	e.mu.Lock()
	e.offerTo(a, e.o.Clock.Now().UTC())
	e.mu.Unlock()
}

// publishState tells the agent's desktops its state.
func (e *Engine) publishState(a *agent) {
	e.mu.Lock()
	v := e.view(a)
	e.mu.Unlock()
	e.hub.publish(a.Name, AgentEvent{Type: "state", Data: stateData(v)})
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// setOrDelete sets key to t, or removes it when !set.
func setOrDelete(p map[string]string, key string, t time.Time, set bool) {
	if set {
		p[key] = callbackd.FormatTime(t)
	} else {
		delete(p, key)
	}
}

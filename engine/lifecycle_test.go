package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/engine"
)

// TestDispositionDialog: with _enable_disposition_dialog the agent is in
// AFTER_CALL_WORK after the call and the callback stays PROCESSING until
// the disposition; a disposition with a reschedule sends the callback back
// to SCHEDULED at that time, with a fresh session to come.
func TestDispositionDialog(t *testing.T) {
	ini := strings.Replace(autoAnswer(baseConfig("_enable_disposition_dialog = true")), "[dialer]", "[dialer]\ntalk_seconds = 30", 1)
	f := newFixture(t, ini)
	events := f.subscribe("alice")
	f.ready("alice")
	id := f.submit("+14155550114")
	for c := nextEvent(t, events, "call"); c["status"] != "connected"; c = nextEvent(t, events, "call") {
	}
	f.waitState(id, callbackd.StateProcessing, "")
	var e *callbackd.Error
	if err := f.eng.Dispose(f.ctx, "alice", id, engine.Disposition{Disposition: "sale"}); !errors.As(err, &e) || !strings.Contains(e.Message, "the call has not ended") {
		t.Fatalf("disposition during the call: %v", err)
	}
	f.clock.Advance(30 * time.Second) // the customer hangs up (the talk timer runs from the bridge)
	f.waitAgent("alice", callbackd.AgentAfterCallWork)
	if cb := f.get(id); cb.State != callbackd.StateProcessing || cb.Properties[callbackd.KeyEngineStep] != callbackd.StepWrapUp {
		t.Fatalf("after the call: %s %v", cb.State, cb.Properties)
	}
	again := f.clock.Now().Add(24 * time.Hour).Truncate(time.Minute)
	if err := f.eng.Dispose(f.ctx, "alice", id, engine.Disposition{Disposition: "call back", Notes: "wants a quote", Reschedule: again}); err != nil {
		t.Fatal(err)
	}
	cb := f.waitState(id, callbackd.StateScheduled, "")
	if !cb.DesiredTime.Equal(again) || !cb.DueAt.Equal(again) || cb.SessionID != "" ||
		cb.Properties[callbackd.KeyDisposition] != "call back" || cb.Properties[callbackd.KeyDispositionNotes] != "wants a quote" {
		t.Fatalf("rescheduled: desired %s due %s session %q props %v", cb.DesiredTime, cb.DueAt, cb.SessionID, cb.Properties)
	}
	f.waitAgent("alice", callbackd.AgentReady)
}

// TestDispositionTimeout: without a disposition within
// _agent_disposition_timeout the callback is COMPLETED AGENT_CONNECTED and
// the agent freed.
func TestDispositionTimeout(t *testing.T) {
	f := newFixture(t, autoAnswer(baseConfig("_enable_disposition_dialog = true\n_agent_disposition_timeout = 45")))
	events := f.subscribe("alice")
	f.ready("alice")
	id := f.submit("+14155550115")
	if d := nextEvent(t, events, "disposition"); d["callback"] != id || d["timeout"] != int64(45) {
		t.Fatalf("disposition event %v", d)
	}
	f.clock.Advance(44 * time.Second)
	if v, _ := f.eng.Agent("alice"); v.State != callbackd.AgentAfterCallWork {
		t.Fatalf("alice %s before the timeout", v.State)
	}
	f.clock.Advance(time.Second)
	f.waitState(id, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
	f.waitAgent("alice", callbackd.AgentReady)
}

// TestCancelFreesTheAgent: a callback cancelled while offered is
// withdrawn from the agent, who is READY again; one cancelled while
// waiting leaves its queue.
func TestCancelFreesTheAgent(t *testing.T) {
	f := newFixture(t, baseConfig(""))
	waiting := f.submit("+14155550116")
	if err := f.eng.Cancel(f.ctx, f.get(waiting)); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.eng.QueuePosition(f.ctx, f.get(waiting)); p.Position != 0 || p.TotalWaiting != 0 {
		t.Fatalf("cancelled callback still queued: %+v", p)
	}
	f.ready("alice")
	offered := f.submit("+14155550117")
	f.waitAgent("alice", callbackd.AgentReserved)
	if err := f.eng.Cancel(f.ctx, f.get(offered)); err != nil {
		t.Fatal(err)
	}
	v := f.waitAgent("alice", callbackd.AgentReady)
	if v.Callback != "" {
		t.Fatalf("alice still holds %s", v.Callback)
	}
	if n := len(f.dialer.keys(callbackd.LegCustomer)); n != 0 {
		t.Fatalf("%d dials after cancel", n)
	}
}

// TestSilentAgentIsLoggedOut: an agent without an event stream that sends
// nothing for [agents] heartbeat is logged out, so no ghost READY agent
// is offered callbacks; an open stream keeps it in.
func TestSilentAgentIsLoggedOut(t *testing.T) {
	f := newFixture(t, baseConfig("")+"\n[agents]\nheartbeat = 60\n")
	f.ready("alice")
	f.ready("bob")
	_, stop, err := f.eng.Subscribe("bob")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	f.advance(59 * time.Second)
	if v, _ := f.eng.Agent("alice"); v.State != callbackd.AgentReady {
		t.Fatalf("alice %s before the heartbeat", v.State)
	}
	f.advance(time.Second)
	if v, _ := f.eng.Agent("alice"); v.State != callbackd.AgentLoggedOut {
		t.Fatalf("alice %s after a silent heartbeat, want LOGGED_OUT", v.State)
	}
	if v, _ := f.eng.Agent("bob"); v.State != callbackd.AgentReady {
		t.Fatalf("bob, with a stream open, is %s", v.State)
	}
	f.eventually("alice's logout stored", func() bool {
		a, err := f.store.GetAgent(f.ctx, "alice")
		return err == nil && a.State == callbackd.AgentLoggedOut
	})
}

// TestRestartTakesUpWhereItStood: after a restart, a callback waiting in
// its queue keeps its place, an agent that held a callback is freed, and a
// dial attempt that may have been placed is never dialled again with the
// same key: it counts as failed and the next attempt follows the retry
// rules.
func TestRestartTakesUpWhereItStood(t *testing.T) {
	f := newFixture(t, baseConfig("_max_dial_attempts = 3"))
	first := f.submit("+14155550118")
	second := f.submit("+14155550119")
	f.ready("alice")
	f.waitAgent("alice", callbackd.AgentReserved)
	f.eventually("the reservation stored", func() bool {
		return f.get(first).Properties[callbackd.KeyEngineStep] == callbackd.StepOffered
	})
	// As if the process died while the first callback's dial rang: the
	// attempt is recorded (as dialCustomer records it before dialling).
	if _, err := f.store.UpdateCallback(f.ctx, first, func(c *callbackd.Callback) ([]callbackd.Event, error) {
		c.Properties[callbackd.KeyDialAttempt] = "1"
		c.Properties[callbackd.KeyEngineStep] = callbackd.StepDialing
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.restart()
	if a, _ := f.store.GetAgent(f.ctx, "alice"); a.State != callbackd.AgentReady && a.State != callbackd.AgentReserved {
		t.Fatalf("alice stored as %s after the restart", a.State)
	}
	cb := f.get(first)
	if cb.Properties[callbackd.KeyEngineStep] != callbackd.StepRetry || cb.Properties[callbackd.KeyDialResult] != "error" ||
		!strings.HasPrefix(cb.Properties[callbackd.KeyDialCause], "interrupted") {
		t.Fatalf("interrupted attempt: %v", cb.Properties)
	}
	// The second callback is offered now (the first waits its retry).
	if v := f.waitAgent("alice", callbackd.AgentReserved); v.Callback != second {
		t.Fatalf("alice holds %q, want %s", v.Callback, second)
	}
	if err := f.eng.Accept(f.ctx, "alice", second); err != nil {
		t.Fatal(err)
	}
	f.waitState(second, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
	f.waitAgent("alice", callbackd.AgentReady)
	f.advance(60 * time.Second)
	f.waitAgent("alice", callbackd.AgentReserved)
	if err := f.eng.Accept(f.ctx, "alice", first); err != nil {
		t.Fatal(err)
	}
	f.waitState(first, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
	if got := joined(f.dialer.keys(callbackd.LegCustomer)); got != second+"/1/customer/1 "+first+"/1/customer/2" {
		t.Fatalf("customer dials %s: attempt 1 of %s must never be dialled again", got, first)
	}
}

// TestCancelWhileTheAgentPhoneRings: a callback cancelled once its
// customer is reached (ROUTING) while the agent's phone rings: the
// customer is hung up, the agent is READY again (not NOT_READY for a
// missed call), and the engine writes nothing over the cancel.
func TestCancelWhileTheAgentPhoneRings(t *testing.T) {
	ini := strings.Replace(autoAnswer(baseConfig("")), "[dialer]", "[dialer]\nring_seconds = 10\noutcome.no_answer = ^sip:alice", 1)
	f := newFixture(t, ini)
	events := f.subscribe("alice")
	f.ready("alice")
	id := f.submit("+14155550123")
	nextEvent(t, events, "call") // dialing the customer: it rings 10 s
	f.eventually("the customer to answer", func() bool {
		f.clock.Advance(time.Second) // a second at a time: the agent's phone then rings 30 s
		return f.get(id).State == callbackd.StateRouting
	})
	f.eventually("the agent's phone ringing", func() bool { return len(f.dialer.keys(callbackd.LegAgent)) == 1 })
	if err := f.eng.Cancel(f.ctx, f.get(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateCallback(f.ctx, id, func(c *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := c.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, f.clock.Now(), "api")
		return []callbackd.Event{ev}, err
	}); err != nil {
		t.Fatal(err)
	}
	v := f.waitAgent("alice", callbackd.AgentReady)
	if v.Reason != "" || v.Callback != "" {
		t.Fatalf("alice %+v after the cancel, want READY", v)
	}
	if cb := f.get(id); cb.Reason != callbackd.ReasonCancelled {
		t.Fatalf("reason %s, want CANCELLED", cb.Reason)
	}
}

// TestRestartOffersInQueueOrder: after a restart, a free agent is offered
// the first callback in line (priority, then arrival), not the first one
// read back from the store (by desired time).
func TestRestartOffersInQueueOrder(t *testing.T) {
	f := newFixture(t, baseConfig("_urs_vq_priority_increment = 1\n_urs_vq_priority_increment_interval = 10\n_overwritable_options = _urs_vq_priority"))
	held := f.submit("+14155550120")
	f.ready("alice") // alice holds the first callback when the node stops: she is freed at the restart
	f.waitAgent("alice", callbackd.AgentReserved)
	f.clock.Advance(time.Second)
	f.submit("+14155550121")
	f.clock.Advance(time.Second)
	urgent := f.submit("+14155550122", "_urs_vq_priority", "10") // worth 100 s of waiting: first in line
	f.eventually("the reservation stored", func() bool {
		return f.get(held).Properties[callbackd.KeyEngineStep] == callbackd.StepOffered
	})
	f.restart()
	if v := f.waitAgent("alice", callbackd.AgentReserved); v.Callback != urgent {
		t.Fatalf("alice offered %q after the restart, want %s, first in line", v.Callback, urgent)
	}
}

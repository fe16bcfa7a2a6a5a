package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/engine"
)

// TestAgentFirstFlowCompletesAgentConnected: the default call flow
// (_wait_for_agent=true): the callback waits QUEUED until an agent is
// reserved and accepts, then the customer is dialled (ROUTING once a
// person answers), the agent's phone is connected (PROCESSING) and the
// callback is COMPLETED AGENT_CONNECTED when the call ends. The agent is
// READY again.
func TestAgentFirstFlowCompletesAgentConnected(t *testing.T) {
	f := newFixture(t, baseConfig(""))
	id := f.submit("+14155550100", "firstname", "Ann")
	if cb := f.get(id); cb.State != callbackd.StateQueued || cb.SessionID != "builtin-"+id ||
		cb.Properties[callbackd.KeyVQ] != "support" || cb.Properties[callbackd.KeyEngineStep] != callbackd.StepWaiting {
		t.Fatalf("after submit: %s session %q props %v", cb.State, cb.SessionID, cb.Properties)
	}
	if len(f.dialer.keys(callbackd.LegCustomer)) != 0 {
		t.Fatal("customer dialled before an agent was reserved")
	}
	events := f.subscribe("alice")
	f.ready("alice")
	v := f.waitAgent("alice", callbackd.AgentReserved)
	if v.Callback != id {
		t.Fatalf("alice holds %q, want %s", v.Callback, id)
	}
	inv := nextEvent(t, events, "invitation")
	if inv["callback"] != id || inv["_customer_number"] != "+14155550100" {
		t.Fatalf("invitation %v", inv)
	}
	if err := f.eng.Accept(f.ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	cb := f.waitState(id, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
	if got := joined(f.events(id)); got != "accepted:QUEUED submitted:QUEUED dialed:QUEUED state_changed:ROUTING state_changed:PROCESSING completed:COMPLETED:AGENT_CONNECTED" {
		t.Fatalf("events %s", got)
	}
	if cb.Properties[callbackd.KeyAgent] != "alice" || cb.Properties[callbackd.KeyDialResult] != "human" || cb.Properties[callbackd.KeyDialAttempt] != "1" {
		t.Fatalf("properties %v", cb.Properties)
	}
	f.waitAgent("alice", callbackd.AgentReady)
	if got := joined(f.dialer.keys(callbackd.LegCustomer)); got != id+"/1/customer/1" {
		t.Fatalf("customer dials %s", got)
	}
	if got := joined(f.dialer.keys(callbackd.LegAgent)); got != id+"/1/agent/1/1" {
		t.Fatalf("agent dials %s", got)
	}
	stored, err := f.store.GetAgent(f.ctx, "alice")
	if err != nil || stored.State != callbackd.AgentReady || stored.Callback != "" {
		t.Fatalf("stored alice %+v, %v", stored, err)
	}
}

// nextEvent reads events until one of the type, with a real-time guard.
func nextEvent(t *testing.T, c <-chan engine.AgentEvent, typ string) map[string]any {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c:
			if !ok {
				t.Fatalf("stream closed before a %s event", typ)
			}
			if ev.Type == typ {
				return ev.Data.(map[string]any)
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

// TestLongestIdleAgentGetsTheFirstCallback: of two READY agents, the one
// idle for longer is offered the queue's first callback; the next goes to
// the other.
func TestLongestIdleAgentGetsTheFirstCallback(t *testing.T) {
	f := newFixture(t, baseConfig(""))
	f.ready("bob")
	f.clock.Advance(time.Second)
	f.ready("alice")
	first := f.submit("+14155550101")
	if v := f.waitAgent("bob", callbackd.AgentReserved); v.Callback != first {
		t.Fatalf("bob holds %q, want %s", v.Callback, first)
	}
	second := f.submit("+14155550102")
	if v := f.waitAgent("alice", callbackd.AgentReserved); v.Callback != second {
		t.Fatalf("alice holds %q, want %s", v.Callback, second)
	}
}

// TestQueueOrderIsPriorityThenArrival: with priorities that grow at the
// same pace, a callback with a higher _urs_vq_priority is offered first;
// among equals, the earlier arrival.
func TestQueueOrderIsPriorityThenArrival(t *testing.T) {
	f := newFixture(t, baseConfig("_urs_vq_priority_increment = 1\n_urs_vq_priority_increment_interval = 10\n_overwritable_options = _urs_vq_priority"))
	a := f.submit("+14155550103")
	f.clock.Advance(time.Minute)
	b := f.submit("+14155550104", "_urs_vq_priority", "10") // worth 100 s of waiting
	f.clock.Advance(time.Second)
	c := f.submit("+14155550105")
	pos := func(id string) int {
		p, err := f.eng.QueuePosition(f.ctx, f.get(id))
		if err != nil {
			t.Fatal(err)
		}
		return p.Position
	}
	if pa, pb, pc := pos(a), pos(b), pos(c); pb != 1 || pa != 2 || pc != 3 {
		t.Fatalf("positions a=%d b=%d c=%d, want b=1 a=2 c=3", pa, pb, pc)
	}
	f.ready("alice")
	if v := f.waitAgent("alice", callbackd.AgentReserved); v.Callback != b {
		t.Fatalf("alice offered %q, want the higher priority %s", v.Callback, b)
	}
}

// TestUnansweredInvitationGoesToTheNextAgent: an agent that lets
// _agent_reserve_timeout pass goes NOT_READY (no-answer); the callback is
// offered to the next agent, still first in line.
func TestUnansweredInvitationGoesToTheNextAgent(t *testing.T) {
	f := newFixture(t, baseConfig("_agent_reserve_timeout = 20"))
	events := f.subscribe("alice")
	f.ready("alice")
	id := f.submit("+14155550106")
	later := f.submit("+14155550107")
	if inv := nextEvent(t, events, "invitation"); inv["callback"] != id || inv["timeout"] != int64(20) {
		t.Fatalf("invitation %v", inv)
	}
	f.clock.Advance(19 * time.Second)
	if v, _ := f.eng.Agent("alice"); v.State != callbackd.AgentReserved {
		t.Fatalf("alice %s before the timeout", v.State)
	}
	f.clock.Advance(time.Second)
	v := f.waitAgent("alice", callbackd.AgentNotReady)
	if v.Reason != "no-answer" || v.Callback != "" {
		t.Fatalf("alice %+v, want NOT_READY no-answer", v)
	}
	f.ready("bob")
	if v := f.waitAgent("bob", callbackd.AgentReserved); v.Callback != id {
		t.Fatalf("bob offered %q, want %s (it keeps its place before %s)", v.Callback, id, later)
	}
}

// TestPreviewRejectsCompleteAfterTheAllowedNumber: with
// _agent_preview_allow_reject = 2, the second reject completes the
// callback AGENT_PREVIEW_CANCEL_AFTER_2REJECTS; a first reject puts it
// back, offered again after _agent_reject_retry_timeout.
func TestPreviewRejectsCompleteAfterTheAllowedNumber(t *testing.T) {
	f := newFixture(t, baseConfig("_agent_preview = true\n_agent_preview_allow_reject = 2\n_agent_reject_retry_timeout = 30"))
	f.ready("alice")
	id := f.submit("+14155550108")
	f.waitAgent("alice", callbackd.AgentReserved)
	if err := f.eng.Reject(f.ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	f.waitAgent("alice", callbackd.AgentReady)
	if cb := f.get(id); cb.State != callbackd.StateQueued || cb.Properties[callbackd.KeyRejects] != "1" {
		t.Fatalf("after one reject: %s %v", cb.State, cb.Properties)
	}
	f.advance(29 * time.Second)
	if v, _ := f.eng.Agent("alice"); v.State != callbackd.AgentReady {
		t.Fatalf("offered again before _agent_reject_retry_timeout: %+v", v)
	}
	f.advance(time.Second)
	f.waitAgent("alice", callbackd.AgentReserved)
	if err := f.eng.Reject(f.ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	f.waitState(id, callbackd.StateCompleted, "AGENT_PREVIEW_CANCEL_AFTER_2REJECTS")
	f.waitAgent("alice", callbackd.AgentReady)
	if n := len(f.dialer.keys(callbackd.LegCustomer)); n != 0 {
		t.Fatalf("%d dials for a rejected preview", n)
	}
}

// TestAgentActionErrors: a wrong action is refused with the spec's error
// format and changes nothing.
func TestAgentActionErrors(t *testing.T) {
	f := newFixture(t, baseConfig(""))
	f.ready("alice")
	id := f.submit("+14155550109")
	f.waitAgent("alice", callbackd.AgentReserved)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"NotHeld", f.eng.Accept(f.ctx, "bob", id), "Agent bob does not hold callback " + id},
		{"RejectWithoutPreview", f.eng.Reject(f.ctx, "alice", id), "the service does not allow rejects"},
		{"DispositionBeforeTheCallEnds", f.eng.Dispose(f.ctx, "alice", id, engine.Disposition{Disposition: "sale"}), "the service has no disposition dialog"},
		{"HangupWithoutCall", f.eng.Hangup(f.ctx, "alice", id), "there is no call"},
		{"UnknownAgent", f.eng.Accept(f.ctx, "mallory", id), "Agent mallory is not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *callbackd.Error
			if !errors.As(tt.err, &e) || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("error %v, want one containing %q", tt.err, tt.want)
			}
		})
	}
	if v, _ := f.eng.Agent("alice"); v.State != callbackd.AgentReserved || v.Callback != id {
		t.Fatalf("alice %+v after refused actions, want still RESERVED with %s", v, id)
	}
	if err := f.eng.Accept(f.ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	var e *callbackd.Error
	if err := f.eng.Accept(f.ctx, "alice", id); !errors.As(err, &e) || e.Code != callbackd.CodeInvalidOperation {
		t.Fatalf("second accept: %v, want INVALID_OPERATION", err)
	}
	f.waitState(id, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
}

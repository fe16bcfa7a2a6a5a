package engine_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// TestDialOutcomes: what each outcome leads to with _max_dial_attempts = 2
// and an agent that auto-answers: a busy line or a fax is dialled twice,
// _dial_retry_timeout apart, then the callback completes with the reason
// of the last outcome; an invalid number is final at once; a machine with
// a message to leave is AM_CONNECTED at once.
func TestDialOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		number string
		extra  string
		dials  int
		reason callbackd.Reason
		result string
	}{
		{"BusyTwiceFailCallToCustomer", "+15550001111", "", 2, callbackd.ReasonFailCallToCustomer, "busy"},
		{"FaxTwiceFailFaxReached", "+15550021111", "", 2, callbackd.ReasonFailFaxReached, "fax"},
		{"MachineTwiceFailCallToCustomer", "+15550011111", "", 2, callbackd.ReasonFailCallToCustomer, "machine"},
		{"MachineWithMessageAMConnected", "+15550011111", "_treatment_call_failure_answering_machine = vm.wav", 1, callbackd.ReasonAMConnected, "machine"},
		{"InvalidNumberAtOnce", "+15550041111", "", 1, callbackd.ReasonFailCallToCustomer, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, autoAnswer(baseConfig("_max_dial_attempts = 2\n"+tt.extra)))
			f.ready("alice")
			id := f.submit(tt.number)
			if tt.dials == 2 {
				f.eventually("the first attempt's failure", func() bool {
					return f.get(id).Properties[callbackd.KeyEngineStep] == callbackd.StepRetry
				})
				f.waitAgent("alice", callbackd.AgentReady)
				if cb := f.get(id); cb.State != callbackd.StateQueued || cb.Properties[callbackd.KeyDialResult] != tt.result {
					t.Fatalf("after the first attempt: %s %v", cb.State, cb.Properties)
				}
				f.advance(59 * time.Second)
				if n := len(f.dialer.keys(callbackd.LegCustomer)); n != 1 {
					t.Fatalf("%d dials before _dial_retry_timeout, want 1", n)
				}
				f.advance(time.Second)
			}
			cb := f.waitState(id, callbackd.StateCompleted, tt.reason)
			if cb.Properties[callbackd.KeyDialResult] != tt.result {
				t.Fatalf("_dial_result %q, want %q", cb.Properties[callbackd.KeyDialResult], tt.result)
			}
			keys := f.dialer.keys(callbackd.LegCustomer)
			if len(keys) != tt.dials {
				t.Fatalf("dials %v, want %d", keys, tt.dials)
			}
			if tt.dials == 2 && keys[0] == keys[1] {
				t.Fatalf("one key dialled twice: %v", keys)
			}
			if n := len(f.dialer.keys(callbackd.LegAgent)); n != 0 {
				t.Fatalf("the agent's phone rang %d times for a customer never reached", n)
			}
			// Every attempt is in the callback's history with its outcome.
			evs, err := f.store.ListEvents(f.ctx, callbackd.EventQuery{CallbackID: id})
			if err != nil {
				t.Fatal(err)
			}
			var dialed []string
			for _, ev := range evs {
				if ev.Type == callbackd.EventDialed {
					dialed = append(dialed, ev.Properties["_dial_attempt"]+":"+ev.Properties["_dial_result"]+":"+ev.Properties["_call_id"])
				}
			}
			if len(dialed) != tt.dials {
				t.Fatalf("dialed events %v, want %d", dialed, tt.dials)
			}
			for i, d := range dialed {
				if !strings.HasPrefix(d, itoa(i+1)+":"+tt.result+":sim-") {
					t.Fatalf("dialed event %q, want attempt %d, %s, a call id", d, i+1, tt.result)
				}
			}
			f.waitAgent("alice", callbackd.AgentReady)
		})
	}
}

// autoAnswer makes alice answer her invitations at once.
func autoAnswer(ini string) string {
	return replaceOnce(ini, "phone = sip:alice@pbx", "phone = sip:alice@pbx\nauto_answer = true")
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	panic("replaceOnce: " + old + " not found")
}

// TestNoAgentWithinQueuedTTL: a callback no agent takes within
// _urs_queued_ttl is COMPLETED FAIL_TARGET_NOT_FOUND, never dialled.
func TestNoAgentWithinQueuedTTL(t *testing.T) {
	f := newFixture(t, baseConfig("_urs_queued_ttl = 600"))
	id := f.submit("+14155550110")
	f.advance(599 * time.Second)
	if cb := f.get(id); cb.State != callbackd.StateQueued {
		t.Fatalf("%s before _urs_queued_ttl", cb.State)
	}
	f.advance(time.Second)
	f.waitState(id, callbackd.StateCompleted, callbackd.ReasonFailTargetNotFound)
	if n := len(f.dialer.keys(callbackd.LegCustomer)) + len(f.dialer.keys(callbackd.LegAgent)); n != 0 {
		t.Fatalf("%d dials", n)
	}
}

// TestCustomerFirstFlow: with _wait_for_agent=false the customer is dialled
// when the callback is due, waits on the line (ROUTING) for an agent, and
// is connected once one accepts.
func TestCustomerFirstFlow(t *testing.T) {
	f := newFixture(t, baseConfig("_wait_for_agent = false"))
	id := f.submit("+14155550111")
	cb := f.waitState(id, callbackd.StateRouting, "")
	if cb.Properties[callbackd.KeyEngineStep] != callbackd.StepOnHold || cb.Properties[callbackd.KeyTimeCustomerConnected] == "" {
		t.Fatalf("on hold: %v", cb.Properties)
	}
	if n := len(f.dialer.keys(callbackd.LegCustomer)); n != 1 {
		t.Fatalf("%d customer dials", n)
	}
	f.ready("alice")
	f.waitAgent("alice", callbackd.AgentReserved)
	if err := f.eng.Accept(f.ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	f.waitState(id, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
	if got := joined(f.events(id)); got != "accepted:QUEUED submitted:QUEUED dialed:QUEUED state_changed:ROUTING state_changed:PROCESSING completed:COMPLETED:AGENT_CONNECTED" {
		t.Fatalf("events %s", got)
	}
}

// TestCustomerOnHoldTooLong: a reached customer that no agent takes within
// _max_time_to_wait_for_agent_on_the_call is COMPLETED FAIL_AGENT_CONNECT.
func TestCustomerOnHoldTooLong(t *testing.T) {
	f := newFixture(t, baseConfig("_wait_for_agent = false\n_max_time_to_wait_for_agent_on_the_call = 120"))
	id := f.submit("+14155550112")
	f.waitState(id, callbackd.StateRouting, "")
	f.eventually("the customer on hold in the queue", func() bool {
		p, err := f.eng.QueuePosition(f.ctx, f.get(id))
		return err == nil && p.Position == 1 // its deadline is set with its place
	})
	f.advance(119 * time.Second)
	if cb := f.get(id); cb.State != callbackd.StateRouting {
		t.Fatalf("%s before the limit", cb.State)
	}
	f.advance(time.Second)
	f.waitState(id, callbackd.StateCompleted, callbackd.ReasonFailAgentConnect)
}

// TestAgentPhoneFirst: with _userterminated_first_connect_party = AGENT,
// the agent's phone is called before the customer's.
func TestAgentPhoneFirst(t *testing.T) {
	f := newFixture(t, autoAnswer(baseConfig("_userterminated_first_connect_party = AGENT")))
	f.ready("alice")
	id := f.submit("+14155550113")
	f.waitState(id, callbackd.StateCompleted, callbackd.ReasonAgentConnected)
	f.dialer.mu.Lock()
	defer f.dialer.mu.Unlock()
	if len(f.dialer.dials) != 2 || f.dialer.dials[0].Leg != callbackd.LegAgent || f.dialer.dials[1].Leg != callbackd.LegCustomer {
		t.Fatalf("dials %+v, want the agent then the customer", f.dialer.dials)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

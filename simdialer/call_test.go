package simdialer_test

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/simdialer"
)

// bridgePair dials a customer at number and an agent on d, both answered.
func bridgePair(t *testing.T, d *simdialer.Dialer, number string) (customer, agent *simdialer.Call) {
	t.Helper()
	dial := func(leg, number string) *simdialer.Call {
		call, res, err := d.Dial(t.Context(), callbackd.DialRequest{Leg: leg, Number: number, Detect: true})
		if err != nil || call == nil {
			t.Fatalf("Dial %s %s = %q, %v; want answered", leg, number, res.Outcome, err)
		}
		return call.(*simdialer.Call)
	}
	return dial(callbackd.LegCustomer, number), dial(callbackd.LegAgent, "sip:agent7@pbx.example")
}

func TestBridgeTalk(t *testing.T) {
	const talk = 5 * time.Minute
	tests := []struct {
		name       string
		number     string
		fromAgent  bool // agent.Bridge(customer) instead of customer.Bridge(agent)
		wantTimer  bool
		wantHungUp string
	}{
		{"TalkTimerEndsBoth", "+15550000000", false, true, simdialer.HungUpRemote},
		{"TalkTimerBridgedFromAgent", "+15550000000", true, true, simdialer.HungUpRemote},
		{"MachineHasNoTalkTimer", "+15550000001", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock, Rules: rules, Talk: talk})
			customer, agent := bridgePair(t, d, tt.number)
			t.Cleanup(func() { customer.Hangup(context.Background()) })
			a, b := customer, agent
			if tt.fromAgent {
				a, b = agent, customer
			}
			if err := a.Bridge(t.Context(), b); err != nil {
				t.Fatalf("Bridge: %v", err)
			}
			if !tt.wantTimer {
				clock.Advance(24 * time.Hour)
				if ended(customer) || ended(agent) || clock.Waiters() != 0 {
					t.Fatalf("machine bridge ended or timed: customer %v agent %v waiters %d", ended(customer), ended(agent), clock.Waiters())
				}
				return
			}
			if clock.Waiters() != 1 {
				t.Fatalf("Waiters() = %d after Bridge, want the talk timer", clock.Waiters())
			}
			clock.Advance(talk - time.Nanosecond)
			if ended(customer) || ended(agent) || clock.Waiters() != 1 {
				t.Fatalf("conversation ended before Talk")
			}
			clock.Advance(time.Nanosecond)
			waitDone(t, customer)
			waitDone(t, agent)
			if customer.HungUpBy() != tt.wantHungUp || agent.HungUpBy() != tt.wantHungUp {
				t.Errorf("HungUpBy = customer %q agent %q, want %q", customer.HungUpBy(), agent.HungUpBy(), tt.wantHungUp)
			}
		})
	}
}

func TestBridgeTalkZeroEndsAtOnce(t *testing.T) {
	d := simdialer.New(simdialer.Options{Clock: callbackd.NewManualClock(epoch), Rules: rules})
	customer, agent := bridgePair(t, d, "+15550000000")
	if err := customer.Bridge(t.Context(), agent); err != nil {
		t.Fatal(err)
	}
	waitDone(t, customer)
	waitDone(t, agent)
	if customer.HungUpBy() != simdialer.HungUpRemote || agent.HungUpBy() != simdialer.HungUpRemote {
		t.Errorf("HungUpBy = customer %q agent %q, want remote", customer.HungUpBy(), agent.HungUpBy())
	}
}

func TestHangupEndsPeer(t *testing.T) {
	tests := []struct {
		name                    string
		agentHangsUp            bool
		wantCustomer, wantAgent string
	}{
		{"CustomerHangup", false, simdialer.HungUpLocal, simdialer.HungUpRemote},
		{"AgentHangup", true, simdialer.HungUpRemote, simdialer.HungUpLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock, Rules: rules, Talk: time.Hour})
			customer, agent := bridgePair(t, d, "+15550000000")
			before := runtime.NumGoroutine()
			if err := customer.Bridge(t.Context(), agent); err != nil {
				t.Fatal(err)
			}
			if customer.HungUpBy() != "" || agent.HungUpBy() != "" {
				t.Fatal("HungUpBy set on up calls")
			}
			local := customer
			if tt.agentHangsUp {
				local = agent
			}
			for range 2 { // idempotent
				if err := local.Hangup(t.Context()); err != nil {
					t.Fatalf("Hangup: %v", err)
				}
			}
			waitDone(t, customer)
			waitDone(t, agent)
			if customer.HungUpBy() != tt.wantCustomer || agent.HungUpBy() != tt.wantAgent {
				t.Errorf("HungUpBy = customer %q agent %q, want %q %q", customer.HungUpBy(), agent.HungUpBy(), tt.wantCustomer, tt.wantAgent)
			}
			// The talk timer's goroutine stops with the call, and the timer
			// firing later changes nothing.
			timeout := time.After(guard)
			for runtime.NumGoroutine() > before {
				select {
				case <-timeout:
					t.Fatalf("%d goroutines after Hangup, %d before Bridge", runtime.NumGoroutine(), before)
				default:
					runtime.Gosched()
				}
			}
			clock.Advance(time.Hour)
			if customer.HungUpBy() != tt.wantCustomer || agent.HungUpBy() != tt.wantAgent {
				t.Errorf("after the talk time HungUpBy = customer %q agent %q", customer.HungUpBy(), agent.HungUpBy())
			}
		})
	}
}

func TestHangupUnbridged(t *testing.T) {
	d := simdialer.New(simdialer.Options{Clock: callbackd.NewManualClock(epoch)})
	customer, agent := bridgePair(t, d, "+15550000000")
	if err := customer.Hangup(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitDone(t, customer)
	if customer.HungUpBy() != simdialer.HungUpLocal || ended(agent) {
		t.Errorf("HungUpBy = %q, agent ended %v; want local and agent up", customer.HungUpBy(), ended(agent))
	}
}

// foreignCall is a callbackd.Call of some other dialer.
type foreignCall struct{ callbackd.Call }

func TestBridgeRefused(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, d *simdialer.Dialer, customer, agent *simdialer.Call) (a *simdialer.Call, b callbackd.Call)
		wantErr error // nil: any error
	}{
		{"ErrCallEndedOther", func(t *testing.T, _ *simdialer.Dialer, c, a *simdialer.Call) (*simdialer.Call, callbackd.Call) {
			a.Hangup(t.Context())
			return c, a
		}, simdialer.ErrCallEnded},
		{"ErrCallEndedSelf", func(t *testing.T, _ *simdialer.Dialer, c, a *simdialer.Call) (*simdialer.Call, callbackd.Call) {
			c.Hangup(t.Context())
			return c, a
		}, simdialer.ErrCallEnded},
		{"Itself", func(_ *testing.T, _ *simdialer.Dialer, c, _ *simdialer.Call) (*simdialer.Call, callbackd.Call) {
			return c, c
		}, nil},
		{"AlreadyBridged", func(t *testing.T, d *simdialer.Dialer, c, a *simdialer.Call) (*simdialer.Call, callbackd.Call) {
			if err := c.Bridge(t.Context(), a); err != nil {
				t.Fatal(err)
			}
			_, other := bridgePair(t, d, "+15550000000")
			return c, other
		}, nil},
		{"OtherDialer", func(t *testing.T, _ *simdialer.Dialer, c, _ *simdialer.Call) (*simdialer.Call, callbackd.Call) {
			_, other := bridgePair(t, simdialer.New(simdialer.Options{Clock: callbackd.NewManualClock(epoch)}), "+15550000000")
			return c, other
		}, nil},
		{"NotSimulated", func(_ *testing.T, _ *simdialer.Dialer, c, _ *simdialer.Call) (*simdialer.Call, callbackd.Call) {
			return c, foreignCall{}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock, Rules: rules, Talk: time.Hour})
			customer, agent := bridgePair(t, d, "+15550000000")
			a, b := tt.setup(t, d, customer, agent)
			waiters := clock.Waiters()
			err := a.Bridge(t.Context(), b)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Bridge = %v, want %v", err, tt.wantErr)
			}
			if clock.Waiters() != waiters {
				t.Error("refused Bridge started a talk timer")
			}
		})
	}
}

func TestConcurrentBridgeAndHangup(t *testing.T) {
	clock := callbackd.NewManualClock(epoch)
	d := simdialer.New(simdialer.Options{Clock: clock, Talk: time.Minute})
	var calls [][2]*simdialer.Call
	for range 64 {
		customer, agent := bridgePair(t, d, "+15550000000")
		calls = append(calls, [2]*simdialer.Call{customer, agent})
	}
	var wg sync.WaitGroup
	for i, pair := range calls {
		customer, agent := pair[0], pair[1]
		wg.Go(func() { customer.Bridge(context.Background(), agent) })
		wg.Go(func() { pair[i%2].Hangup(context.Background()) })
		wg.Go(func() { clock.Advance(time.Minute) })
	}
	wg.Wait()
	// A bridge that came before the hangup ended both calls; one that
	// came after was refused and left the other call up: hang it up.
	for _, pair := range calls {
		for _, call := range pair {
			call.Hangup(t.Context())
			waitDone(t, call)
			if call.HungUpBy() == "" {
				t.Errorf("%s ended without HungUpBy", call.ID())
			}
		}
	}
}

// TestJournalRecordsEveryCallPlaced: with a journal, every dial placed is
// one JSON line, written before it rings; a refused duplicate key writes
// nothing.
func TestJournalRecordsEveryCallPlaced(t *testing.T) {
	var buf strings.Builder
	d := simdialer.New(simdialer.Options{Clock: callbackd.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), Journal: &buf,
		Rules: []simdialer.Rule{{Outcome: callbackd.OutcomeBusy, Pattern: regexp.MustCompile(`^\+1555000`)}}})
	ctx := context.Background()
	for _, r := range []callbackd.DialRequest{
		{Key: "a/1/customer/1", Leg: callbackd.LegCustomer, Number: "+15550001234"},
		{Key: "a/1/customer/1", Leg: callbackd.LegCustomer, Number: "+15550001234"},
		{Key: "a/1/agent/1/1", Leg: callbackd.LegAgent, Number: "sip:alice@pbx"},
	} {
		_, _, _ = d.Dial(ctx, r)
	}
	want := `{"key":"a/1/customer/1","leg":"customer","number":"+15550001234","outcome":"busy","time":"2026-03-02T09:00:00.000Z"}` + "\n" +
		`{"key":"a/1/agent/1/1","leg":"agent","number":"sip:alice@pbx","outcome":"human","time":"2026-03-02T09:00:00.000Z"}` + "\n"
	if buf.String() != want {
		t.Fatalf("journal\n%s\nwant\n%s", buf.String(), want)
	}
}

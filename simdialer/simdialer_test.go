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

// guard bounds every wait on the code under test in real time: it only
// turns a hang into a failure, no test waits for it to pass.
const guard = 5 * time.Second

var epoch = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// rules give each outcome a number ending: +1555000000<digit>.
var rules = []simdialer.Rule{
	{Outcome: callbackd.OutcomeBusy, Pattern: regexp.MustCompile(`^\+1555999`)},
	{Outcome: callbackd.OutcomeHuman, Pattern: regexp.MustCompile(`0$`)},
	{Outcome: callbackd.OutcomeMachine, Pattern: regexp.MustCompile(`1$`)},
	{Outcome: callbackd.OutcomeFax, Pattern: regexp.MustCompile(`2$`)},
	{Outcome: callbackd.OutcomeBusy, Pattern: regexp.MustCompile(`3$`)},
	{Outcome: callbackd.OutcomeNoAnswer, Pattern: regexp.MustCompile(`4$`)},
	{Outcome: callbackd.OutcomeInvalid, Pattern: regexp.MustCompile(`5$`)},
	{Outcome: callbackd.OutcomeError, Pattern: regexp.MustCompile(`6$`)},
	{Outcome: callbackd.OutcomeFax, Pattern: regexp.MustCompile(`^9`)},
}

// dialed is what one Dial returned.
type dialed struct {
	call callbackd.Call
	res  callbackd.DialResult
	err  error
}

// dialAsync runs Dial in a goroutine and delivers its return.
func dialAsync(ctx context.Context, d *simdialer.Dialer, r callbackd.DialRequest) <-chan dialed {
	ch := make(chan dialed, 1)
	go func() {
		call, res, err := d.Dial(ctx, r)
		ch <- dialed{call, res, err}
	}()
	return ch
}

// receive waits for a Dial to return.
func receive(t *testing.T, ch <-chan dialed) dialed {
	t.Helper()
	select {
	case got := <-ch:
		return got
	case <-time.After(guard):
		t.Fatal("Dial did not return")
		return dialed{}
	}
}

// waitWaiters waits until the code under test waits on n After channels
// of clock, so that moving the clock reaches it.
func waitWaiters(t *testing.T, clock *callbackd.ManualClock, n int) {
	t.Helper()
	timeout := time.After(guard)
	for clock.Waiters() < n {
		select {
		case <-timeout:
			t.Fatalf("Waiters() = %d, want %d", clock.Waiters(), n)
		default:
			runtime.Gosched()
		}
	}
}

// waitDone waits until call has ended.
func waitDone(t *testing.T, call callbackd.Call) {
	t.Helper()
	select {
	case <-call.Done():
	case <-time.After(guard):
		t.Fatalf("%s did not end", call.ID())
	}
}

// ended reports whether call has ended, without waiting.
func ended(call callbackd.Call) bool {
	select {
	case <-call.Done():
		return true
	default:
		return false
	}
}

func TestDialOutcome(t *testing.T) {
	tests := []struct {
		name      string
		req       callbackd.DialRequest
		want      callbackd.DialOutcome
		wantCause string
	}{
		{"Human", callbackd.DialRequest{Number: "+15550000000", Detect: true}, callbackd.OutcomeHuman, "simulated: number matches outcome.human"},
		{"Machine", callbackd.DialRequest{Number: "+15550000001", Detect: true}, callbackd.OutcomeMachine, "simulated: number matches outcome.machine"},
		{"Fax", callbackd.DialRequest{Number: "+15550000002", Detect: true}, callbackd.OutcomeFax, "simulated: number matches outcome.fax"},
		{"Busy", callbackd.DialRequest{Number: "+15550000003", Detect: true}, callbackd.OutcomeBusy, "simulated: number matches outcome.busy"},
		{"NoAnswer", callbackd.DialRequest{Number: "+15550000004", Detect: true}, callbackd.OutcomeNoAnswer, "simulated: number matches outcome.no_answer"},
		{"Invalid", callbackd.DialRequest{Number: "+15550000005", Detect: true}, callbackd.OutcomeInvalid, "simulated: number matches outcome.invalid"},
		{"Error", callbackd.DialRequest{Number: "+15550000006", Detect: true}, callbackd.OutcomeError, "simulated: number matches outcome.error"},
		{"FirstMatchingRuleWins", callbackd.DialRequest{Number: "+15559990001", Detect: true}, callbackd.OutcomeBusy, "simulated: number matches outcome.busy"},
		{"NoRuleIsHuman", callbackd.DialRequest{Number: "+15550000008", Detect: true}, callbackd.OutcomeHuman, "simulated: no rule matches, answered by a person"},
		{"PrefixIsNotMatched", callbackd.DialRequest{Number: "+15550000008", Prefix: "9", Detect: true}, callbackd.OutcomeHuman, "simulated: no rule matches, answered by a person"},
		{"DetectionOffMachineIsHuman", callbackd.DialRequest{Number: "+15550000001"}, callbackd.OutcomeHuman, "simulated: number matches outcome.machine, reported as human: detection off"},
		{"DetectionOffFaxIsHuman", callbackd.DialRequest{Number: "+15550000002"}, callbackd.OutcomeHuman, "simulated: number matches outcome.fax, reported as human: detection off"},
		{"DetectionOffBusyIsBusy", callbackd.DialRequest{Number: "+15550000003"}, callbackd.OutcomeBusy, "simulated: number matches outcome.busy"},
		{"AgentLegIsHuman", callbackd.DialRequest{Leg: callbackd.LegAgent, Number: "sip:agent7@pbx.example"}, callbackd.OutcomeHuman, "simulated: no rule matches, answered by a person"},
		{"AgentLegMatchingRule", callbackd.DialRequest{Leg: callbackd.LegAgent, Number: "+15550000003"}, callbackd.OutcomeBusy, "simulated: number matches outcome.busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock, Rules: rules})
			call, res, err := d.Dial(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if res.Outcome != tt.want || res.Cause != tt.wantCause {
				t.Errorf("Dial = %q %q, want %q %q", res.Outcome, res.Cause, tt.want, tt.wantCause)
			}
			if !strings.HasPrefix(res.CallID, "sim-") || !res.Started.Equal(epoch) {
				t.Errorf("CallID %q Started %v, want sim-<n> %v", res.CallID, res.Started, epoch)
			}
			if !tt.want.Answered() {
				if call != nil || !res.Answered.IsZero() {
					t.Errorf("unanswered: call %v Answered %v, want nil and zero", call, res.Answered)
				}
				return
			}
			if call == nil || call.ID() != res.CallID || !res.Answered.Equal(epoch) {
				t.Fatalf("answered: call %v Answered %v, want call %s and %v", call, res.Answered, res.CallID, epoch)
			}
			if ended(call) {
				t.Error("answered call has ended")
			}
		})
	}
}

func TestDialNilPatternMatchesAll(t *testing.T) {
	d := simdialer.New(simdialer.Options{Rules: []simdialer.Rule{{Outcome: callbackd.OutcomeInvalid}}})
	_, res, err := d.Dial(t.Context(), callbackd.DialRequest{Number: "+15550000000"})
	if err != nil || res.Outcome != callbackd.OutcomeInvalid {
		t.Fatalf("Dial = %q, %v; want invalid", res.Outcome, err)
	}
}

func TestNewUnknownOutcomePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New did not panic")
		}
	}()
	simdialer.New(simdialer.Options{Rules: []simdialer.Rule{{Outcome: "voicemail"}}})
}

func TestDialCallIDsUnique(t *testing.T) {
	d := simdialer.New(simdialer.Options{Rules: rules})
	seen := map[string]bool{}
	for _, n := range []string{"+15550000000", "+15550000003", "+15550000000", "+15550000005"} {
		_, res, err := d.Dial(t.Context(), callbackd.DialRequest{Number: n})
		if err != nil {
			t.Fatal(err)
		}
		if seen[res.CallID] {
			t.Fatalf("CallID %s given twice", res.CallID)
		}
		seen[res.CallID] = true
	}
}

func TestDialRing(t *testing.T) {
	const (
		human    = "+15550000000"
		machine  = "+15550000001"
		busy     = "+15550000003"
		noAnswer = "+15550000004"
		invalid  = "+15550000005"
		failed   = "+15550000006"
	)
	tests := []struct {
		name     string
		ring     time.Duration // Options.Ring
		number   string
		reqRing  time.Duration // DialRequest.Ring
		wantRing time.Duration
	}{
		{"AnsweredRingsForRing", 10 * time.Second, human, 0, 10 * time.Second},
		{"AnsweredRingsAtMostRequestRing", 10 * time.Second, human, 4 * time.Second, 4 * time.Second},
		{"AnsweredLongRequestRingKeepsRing", 10 * time.Second, human, 30 * time.Second, 10 * time.Second},
		{"MachineRingsLikeHuman", 10 * time.Second, machine, 0, 10 * time.Second},
		{"NoAnswerRingsForRing", 10 * time.Second, noAnswer, 0, 10 * time.Second},
		{"NoAnswerRingsForRequestRing", 10 * time.Second, noAnswer, 30 * time.Second, 30 * time.Second},
		{"NoAnswerShortRequestRing", 10 * time.Second, noAnswer, 4 * time.Second, 4 * time.Second},
		{"BusyAtOnce", 10 * time.Second, busy, 0, 0},
		{"InvalidAtOnce", 10 * time.Second, invalid, 0, 0},
		{"ErrorAtOnce", 10 * time.Second, failed, 0, 0},
		{"RingZeroAnsweredAtOnce", 0, human, 30 * time.Second, 0},
		{"RingZeroNoAnswerAtOnce", 0, noAnswer, 30 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock, Rules: rules, Ring: tt.ring})
			ch := dialAsync(t.Context(), d, callbackd.DialRequest{Number: tt.number, Detect: true, Ring: tt.reqRing})
			if tt.wantRing > 0 {
				waitWaiters(t, clock, 1)
				clock.Advance(tt.wantRing - time.Nanosecond)
				if clock.Waiters() != 1 {
					t.Fatalf("ring ended before %v", tt.wantRing)
				}
				select {
				case got := <-ch:
					t.Fatalf("Dial returned %q before the ring ended", got.res.Outcome)
				default:
				}
				clock.Advance(time.Nanosecond)
			}
			got := receive(t, ch)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if clock.Waiters() != 0 {
				t.Errorf("Waiters() = %d after Dial, want 0", clock.Waiters())
			}
			if !got.res.Started.Equal(epoch) {
				t.Errorf("Started = %v, want %v", got.res.Started, epoch)
			}
			if want := epoch.Add(tt.wantRing); got.res.Outcome.Answered() && !got.res.Answered.Equal(want) {
				t.Errorf("Answered = %v, want %v", got.res.Answered, want)
			}
		})
	}
}

func TestDialCancelDuringRing(t *testing.T) {
	for _, number := range []string{"+15550000000", "+15550000004"} {
		t.Run(number, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock, Rules: rules, Ring: 10 * time.Second})
			ctx, cancel := context.WithCancel(t.Context())
			ch := dialAsync(ctx, d, callbackd.DialRequest{Key: "cb1/customer/1", Number: number})
			waitWaiters(t, clock, 1)
			cancel()
			got := receive(t, ch)
			if got.err != nil || got.call != nil {
				t.Fatalf("Dial = %v, %v; want no call and no error", got.call, got.err)
			}
			if got.res.Outcome != callbackd.OutcomeNoAnswer || got.res.Cause != "cancelled" || !got.res.Answered.IsZero() {
				t.Errorf("Dial = %+v, want no_answer, cancelled, not answered", got.res)
			}
			// The call was placed: its key is spent.
			if _, _, err := d.Dial(t.Context(), callbackd.DialRequest{Key: "cb1/customer/1", Number: number}); !errors.Is(err, callbackd.ErrAlreadyDialled) {
				t.Errorf("redial after cancel = %v, want ErrAlreadyDialled", err)
			}
		})
	}
}

func TestDialCancelledBeforeDial(t *testing.T) {
	d := simdialer.New(simdialer.Options{Clock: callbackd.NewManualClock(epoch)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := callbackd.DialRequest{Key: "cb1/customer/1", Number: "+15550000000"}
	if _, _, err := d.Dial(ctx, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial = %v, want context.Canceled", err)
	}
	// Nothing was placed: the key is still free.
	if _, _, err := d.Dial(t.Context(), r); err != nil {
		t.Fatalf("Dial after a cancelled ctx: %v", err)
	}
}

func TestDialDuplicateKey(t *testing.T) {
	tests := []struct {
		name    string
		first   string
		advance time.Duration
		second  string
		wantErr error
	}{
		{"ErrAlreadyDialled", "cb1/customer/1", 0, "cb1/customer/1", callbackd.ErrAlreadyDialled},
		{"ErrAlreadyDialledAfterADay", "cb1/customer/1", 24*time.Hour - time.Second, "cb1/customer/1", callbackd.ErrAlreadyDialled},
		{"OtherKey", "cb1/customer/1", 0, "cb1/customer/2", nil},
		{"ForgottenAfter24h", "cb1/customer/1", 24 * time.Hour, "cb1/customer/1", nil},
		{"EmptyKeyNotRemembered", "", 0, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := callbackd.NewManualClock(epoch)
			d := simdialer.New(simdialer.Options{Clock: clock})
			if _, _, err := d.Dial(t.Context(), callbackd.DialRequest{Key: tt.first, Number: "+15550000000"}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.advance)
			call, res, err := d.Dial(t.Context(), callbackd.DialRequest{Key: tt.second, Number: "+15550000000"})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("second Dial = %v, want %v", err, tt.wantErr)
			}
			if err != nil && (call != nil || res != (callbackd.DialResult{})) {
				t.Errorf("refused Dial placed a call: %v %+v", call, res)
			}
		})
	}
}

func TestDialDuplicateKeyWhileRinging(t *testing.T) {
	clock := callbackd.NewManualClock(epoch)
	d := simdialer.New(simdialer.Options{Clock: clock, Ring: 10 * time.Second})
	r := callbackd.DialRequest{Key: "cb1/customer/1", Number: "+15550000000"}
	ch := dialAsync(t.Context(), d, r)
	waitWaiters(t, clock, 1)
	if _, _, err := d.Dial(t.Context(), r); !errors.Is(err, callbackd.ErrAlreadyDialled) {
		t.Fatalf("Dial while the first rings = %v, want ErrAlreadyDialled", err)
	}
	clock.Advance(10 * time.Second)
	if got := receive(t, ch); got.err != nil || got.res.Outcome != callbackd.OutcomeHuman {
		t.Fatalf("first Dial = %q, %v; want human", got.res.Outcome, got.err)
	}
}

func TestDialDuplicateKeyConcurrent(t *testing.T) {
	d := simdialer.New(simdialer.Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	placed := 0
	for range 32 {
		wg.Go(func() {
			_, _, err := d.Dial(t.Context(), callbackd.DialRequest{Key: "cb1/customer/1", Number: "+15550000000"})
			switch {
			case err == nil:
				mu.Lock()
				placed++
				mu.Unlock()
			case !errors.Is(err, callbackd.ErrAlreadyDialled):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if placed != 1 {
		t.Fatalf("%d calls placed with one key, want 1", placed)
	}
}

package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/dispatch"
)

func dispatchConfig(p *platform) string {
	return `
[service.ors]
_ors = ` + p.url() + `
_target = Billing@Stat_Server1.GA
_enable_in_queue_checking = false

[service.manual]
_enable_in_queue_checking = false
`
}

func TestImmediateSubmittedBeforeAnswer(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	id := h.start("ors", map[string]any{"_customer_number": num(), "firstname": "Ann", "_ors": "http://elsewhere.example"})
	subs := p.submissions()
	if len(subs) != 1 || subs[0] != id+"-1" {
		t.Fatalf("platform got %v, want one submission with key %s-1", subs, id)
	}
	body := p.posts[0]
	want := map[string]string{"_id": id, "_service_name": "ors", "_attempt": "1", "_target": "Billing@Stat_Server1.GA",
		"firstname": "Ann", "_ors": p.url(), "_progress_url": h.base + "/1/service/callback/ors/" + id}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("submission %s = %q, want %q", k, body[k], v)
		}
	}
	cb := h.stored(id)
	if cb.SessionID != "S-1" || cb.State != callbackd.StateQueued || cb.SubmitAttempts != 1 || !cb.DueAt.IsZero() || cb.LeaseOwner != "" {
		t.Fatalf("record after submission %+v", cb)
	}
	if rec := h.get(id); rec["_ors_session_id"] != "S-1" {
		t.Errorf("query shows %v", rec)
	}
	// The platform reports progress on the URL it was given.
	h.json("PUT", "/1/service/callback/ors/"+id, map[string]any{"_callback_state": "COMPLETED", "_callback_reason": "AGENT_CONNECTED"}).wantOK(t)
}

func TestImmediateSubmitFailures(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	t.Run("ErrMaxRetries", func(t *testing.T) {
		p.script = []int{503, 502, 500}
		m := h.json("POST", "/1/service/callback/ors", map[string]any{"_customer_number": num()}).
			wantError(t, 500, 50006, "ORS_MAX_SUBMIT_RETRIES", "…")
		id := m["properties"].(map[string]any)["id"].(string)
		if m["message"] != "Callback "+id+" reached maximum attempts to submit to ORS reached (3)" || m["properties"].(map[string]any)["max-attempts"] != float64(3) {
			t.Errorf("body %v", m)
		}
		if got := strings.Join(p.submissions(), ","); got != id+"-1,"+id+"-2,"+id+"-3" {
			t.Errorf("keys %s", got)
		}
		if rec := h.get(id); rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "SUBMIT_ERROR" {
			t.Errorf("record %v", rec)
		}
	})
	t.Run("ErrPermanent", func(t *testing.T) {
		p.script = []int{400}
		before := len(p.submissions())
		m := h.json("POST", "/1/service/callback/ors", map[string]any{"_customer_number": num()}).
			wantError(t, 500, 50030, "ORS_ERROR", "ORS answered 400 Bad Request: platform says 400")
		id := m["properties"].(map[string]any)["id"].(string)
		if len(p.submissions()) != before+1 {
			t.Errorf("a permanent failure was retried: %v", p.submissions())
		}
		if rec := h.get(id); rec["_callback_reason"] != "SUBMIT_ERROR" {
			t.Errorf("record %v", rec)
		}
	})
	t.Run("RetryThenSuccess", func(t *testing.T) {
		p.script = []int{503}
		id := h.start("ors", map[string]any{"_customer_number": num()})
		if cb := h.stored(id); cb.SubmitAttempts != 2 || cb.SessionID == "" {
			t.Errorf("record %+v", cb)
		}
	})
	t.Run("NoPlatformNoDispatch", func(t *testing.T) {
		before := len(p.submissions())
		id := h.start("manual", map[string]any{"_customer_number": num()})
		if cb := h.stored(id); cb.State != callbackd.StateQueued || !cb.DueAt.IsZero() || len(p.submissions()) != before {
			t.Errorf("a service without _ors was dispatched: %+v", cb)
		}
	})
}

func TestScheduledSubmittedWhenDue(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	ctx := context.Background()
	d := h.srv.Dispatcher()
	id := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	// Due at desired - _request_execution_time_buffer (120 s) - EWT (0).
	h.clock.Set(t0.Add(time.Hour - 121*time.Second))
	if n, err := d.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("claimed %d before due (%v)", n, err)
	}
	h.clock.Set(t0.Add(time.Hour - 120*time.Second))
	if n, err := d.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("claimed %d when due (%v)", n, err)
	}
	if subs := p.submissions(); len(subs) != 1 || subs[0] != id+"-1" {
		t.Fatalf("submissions %v", subs)
	}
	if cb := h.stored(id); cb.State != callbackd.StateQueued || cb.SessionID != "S-1" {
		t.Fatalf("record %+v", cb)
	}
	// Nothing more to do.
	if n, _ := d.RunOnce(ctx); n != 0 {
		t.Fatalf("claimed a submitted callback again")
	}
	evs, _ := h.srv.Store().ListEvents(ctx, callbackd.EventQuery{CallbackID: id})
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type))
	}
	if strings.Join(types, ",") != "accepted,state_changed,submitted" {
		t.Errorf("events %v", types)
	}
}

func TestRetryAndLeaseRescue(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	ctx := context.Background()
	d := h.srv.Dispatcher()
	t.Run("BackoffAfterFailure", func(t *testing.T) {
		p.script = []int{503}
		id := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10 * time.Minute)})
		h.clock.Set(t0.Add(8 * time.Minute))
		d.RunOnce(ctx)
		cb := h.stored(id)
		if cb.SessionID != "" || cb.State != callbackd.StateQueued || !cb.DueAt.Equal(t0.Add(8*time.Minute+time.Second)) {
			t.Fatalf("after a retryable failure: %+v", cb)
		}
		if n, _ := d.RunOnce(ctx); n != 0 {
			t.Fatal("retried before the backoff")
		}
		h.clock.Advance(time.Second)
		d.RunOnce(ctx)
		if cb := h.stored(id); cb.SessionID == "" || cb.SubmitAttempts != 2 {
			t.Fatalf("after backoff: %+v", cb)
		}
	})
	t.Run("ExpiredLeaseIsRescued", func(t *testing.T) {
		h.clock.Set(t0)
		id := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10 * time.Minute)})
		now := t0.Add(8 * time.Minute)
		h.clock.Set(now)
		// A dispatcher claims it and dies before submitting.
		_, err := h.srv.Store().ClaimDue(ctx, callbackd.ClaimQuery{Now: now, ID: id, Limit: 1}, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
			return cb.Claim(now, "dead-node", now.Add(time.Minute))
		})
		if err != nil {
			t.Fatal(err)
		}
		before := len(p.submissions())
		h.clock.Set(now.Add(59 * time.Second))
		if n, _ := d.RunOnce(ctx); n != 0 {
			t.Fatal("took a callback under a live lease")
		}
		h.clock.Set(now.Add(time.Minute))
		d.RunOnce(ctx)
		subs := p.submissions()[before:]
		if len(subs) != 1 || subs[0] != id+"-2" {
			t.Fatalf("rescue submitted %v, want only %s-2", subs, id)
		}
	})
}

func TestCancelHandedOverCallback(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	id := h.start("ors", map[string]any{"_customer_number": num()})
	p.cancelSt = 500
	h.do("DELETE", "/1/service/callback/ors/"+id, "", "").
		wantError(t, 400, 40020, "INVALID_OPERATION", "Callback "+id+" cannot be cancelled - unable to process ORS cancel request : ORS answered 500 Internal Server Error")
	if st := h.get(id)["_callback_state"]; st != "QUEUED" {
		t.Fatalf("failed cancel changed state to %s", st)
	}
	p.cancelSt = 204
	h.do("DELETE", "/1/service/callback/ors/"+id, "", "").wantOK(t)
	if rec := h.get(id); rec["_callback_reason"] != "CANCELLED" || len(p.cancels) != 2 || p.cancels[1] != "S-1" {
		t.Fatalf("record %v, cancels %v", rec, p.cancels)
	}
}

// TestCancelledDuringSubmission: the client cancels while the platform is
// starting the session; the session is then cancelled at the platform.
func TestCancelledDuringSubmission(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	ctx := context.Background()
	id := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10 * time.Minute)})
	h.clock.Set(t0.Add(8 * time.Minute))
	p.hold, p.received = make(chan struct{}), make(chan struct{})
	release := p.hold
	done := make(chan struct{})
	go func() { h.srv.Dispatcher().RunOnce(ctx); close(done) }()
	<-p.received
	h.do("DELETE", "/1/service/callback/ors/"+id, "", "").wantOK(t) // QUEUED, no session yet
	close(release)
	<-done
	if len(p.cancels) != 1 || p.cancels[0] != "S-1" {
		t.Fatalf("session of a cancelled callback not cancelled: %v", p.cancels)
	}
	if rec := h.get(id); rec["_callback_reason"] != "CANCELLED" {
		t.Fatalf("record %v", rec)
	}
}

// TestSeveralDispatchersSubmitOnce runs four dispatchers (as four nodes
// would) over one store: every callback is submitted once.
func TestSeveralDispatchersSubmitOnce(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	ctx := context.Background()
	const n = 60
	for i := 0; i < n; i++ {
		h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10*time.Minute + time.Duration(i)*time.Second)})
	}
	h.clock.Set(t0.Add(time.Hour))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		d := dispatch.New(dispatch.Options{Store: h.srv.Store(), Executor: executorOf(h), Clock: h.clock, Config: h.srv.Config, Policy: h.srv.Manager().Policy,
			Owner: fmt.Sprint("node-", w), Batch: 7})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if k, err := d.RunOnce(ctx); k == 0 || err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := len(p.submissions()); got != n || len(p.duplicates()) != 0 {
		t.Fatalf("%d submissions for %d callbacks, duplicates %v", got, n, p.duplicates())
	}
}

func TestRequestChoosesPlatformWhenOverwritable(t *testing.T) {
	def, chosen := newPlatform(t), newPlatform(t)
	h := newHarness(t, `
[service.choose]
_ors = `+def.url()+`
_overwritable_options = _ors
_enable_in_queue_checking = false
`)
	id := h.start("choose", map[string]any{"_customer_number": num(), "_ors": chosen.url()})
	if len(chosen.submissions()) != 1 || len(def.submissions()) != 0 {
		t.Fatalf("chosen %v, default %v", chosen.submissions(), def.submissions())
	}
	// Cancel goes to the platform that has the session.
	h.do("DELETE", "/1/service/callback/choose/"+id, "", "").wantOK(t)
	if len(chosen.cancels) != 1 || len(def.cancels) != 0 {
		t.Fatalf("cancel went to chosen %v, default %v", chosen.cancels, def.cancels)
	}
}

// TestBuiltinHandOverRecordedOnce: the built-in engine records a
// callback's hand-over itself (session id, lease released), in the write
// that puts it in its queue; the dispatcher records nothing more, so the
// callback has one submitted event and no lost lease is logged, whether
// it was immediate (submitted within the request) or scheduled
// (submitted by the loop).
func TestBuiltinHandOverRecordedOnce(t *testing.T) {
	h := newHarness(t, `
[service.support]
_type = builtin
`)
	ctx := context.Background()
	immediate := h.start("support", map[string]any{"_customer_number": num()})
	scheduled := h.start("support", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	h.clock.Set(t0.Add(time.Hour))
	if n, err := h.srv.Dispatcher().RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("claimed %d when due (%v)", n, err)
	}
	for _, id := range []string{immediate, scheduled} {
		cb := h.stored(id)
		if cb.State != callbackd.StateQueued || cb.SessionID != "builtin-"+id || cb.LeaseOwner != "" || !cb.DueAt.IsZero() {
			t.Errorf("%s after its hand-over: %s session %q lease %q due %v", id, cb.State, cb.SessionID, cb.LeaseOwner, cb.DueAt)
		}
		evs, err := h.srv.Store().ListEvents(ctx, callbackd.EventQuery{CallbackID: id})
		if err != nil {
			t.Fatal(err)
		}
		submitted := 0
		for _, ev := range evs {
			if ev.Type == callbackd.EventSubmitted {
				submitted++
			}
		}
		if submitted != 1 {
			t.Errorf("%s has %d submitted events, want 1", id, submitted)
		}
	}
	if logs := h.logs.String(); strings.Contains(logs, "lease lost") {
		t.Errorf("the dispatcher logged a lost lease after the engine's hand-over:\n%s", logs)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func adminTests() []namedTest {
	return []namedTest{
		{"FindByReasonAndCursor", testFindReasonCursor},
		{"CountMatchesFind", testCount},
		{"ForgetErasesCallbacksAndTraces", testForget},
		{"ForgetRefusedKeepsEverything", testForgetRefused},
		{"ReleasedCustomerCounterIsDropped", testCustomerCounterDropped},
	}
}

func testFindReasonCursor(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	for i := range 5 {
		create(t, s, newCallback(fmt.Sprintf("r%d", i), "svc", "7", t0.Add(time.Duration(i/2)*time.Hour)))
	}
	for _, id := range []string{"r1", "r3", "r4"} {
		reason := callbackd.ReasonCancelledByAdmin
		if id == "r4" {
			reason = callbackd.ReasonCancelled
		}
		if _, err := s.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
			ev, err := cb.Transition(callbackd.StateCompleted, reason, t0, "test")
			return []callbackd.Event{ev}, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	byAdmin := callbackd.Query{Reasons: []callbackd.Reason{callbackd.ReasonCancelledByAdmin}}
	if got := find(t, s, byAdmin); got != "r1,r3" {
		t.Errorf("by reason = %q, want r1,r3", got)
	}
	// r0 and r1 share a desired time: the id breaks the tie.
	r1, _ := s.GetCallback(ctx, "r1")
	if got := find(t, s, callbackd.Query{Service: "svc", After: callbackd.CursorOf(r1)}); got != "r2,r3,r4" {
		t.Errorf("after r1 = %q, want r2,r3,r4", got)
	}
	r2, _ := s.GetCallback(ctx, "r2")
	if got := find(t, s, callbackd.Query{Service: "svc", Before: callbackd.CursorOf(r2)}); got != "r0,r1" {
		t.Errorf("before r2 = %q, want r0,r1", got)
	}
	var pages []string
	q := callbackd.Query{Service: "svc", Limit: 2}
	for {
		got, err := s.FindCallbacks(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		pages = append(pages, ids(got))
		q.After = callbackd.CursorOf(got[len(got)-1])
	}
	if got := strings.Join(pages, "|"); got != "r0,r1|r2,r3|r4" {
		t.Errorf("pages = %q", got)
	}
}

func testCount(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	for i := range 4 {
		create(t, s, newCallback(fmt.Sprintf("c%d", i), "svc", "5", t0.Add(time.Duration(i)*time.Minute)))
	}
	create(t, s, newCallback("other", "svc2", "5", t0))
	c2, _ := s.GetCallback(ctx, "c2")
	for _, q := range []callbackd.Query{
		{Service: "svc"},
		{Service: "svc", Before: callbackd.CursorOf(c2)},
		{States: []callbackd.State{callbackd.StateScheduled}},
		{Service: "svc", Limit: 1},
		{Service: "nothing"},
	} {
		n, err := s.CountCallbacks(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.Limit = 0 // a count is never capped
		found, err := s.FindCallbacks(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(found) {
			t.Errorf("count %+v = %d, find returns %d", q, n, len(found))
		}
	}
	if n, _ := s.CountCallbacks(ctx, callbackd.Query{Service: "svc"}); n != 4 {
		t.Errorf("count svc = %d, want 4", n)
	}
}

// customer builds a callback of number n holding a capacity unit and its
// in-queue counter, as the use cases do.
func customer(id, n string) *callbackd.Callback {
	return withHolds(newCallback(id, "svc", n, t0), callbackd.Hold{Key: "slot/svc/0900", Limit: 10}, callbackd.Hold{Key: "inqueue/svc/" + n, Limit: 2})
}

func testForget(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, customer("gone1", "+33612345678"))
	create(t, s, customer("gone2", "+33612345678"))
	create(t, s, customer("kept", "+33699999999"))
	day := callbackd.Hold{Key: "day/svc/2026-03-02/_customer_number=+33612345678", Limit: 1, Window: 48 * time.Hour, At: t0}
	refused := callbackd.Event{Time: t0, Service: "svc", Type: callbackd.EventRejected, Source: "api", Subject: "+33612345678",
		Properties: map[string]string{"message": "Customer Number [+33612345678] is disallowed"}}
	other := callbackd.Event{Time: t0, Service: "svc", Type: callbackd.EventRejected, Source: "api", Subject: "+33600000000"}
	if err := s.AppendEvents(ctx, []callbackd.Event{refused, other}); err != nil {
		t.Fatal(err)
	}
	withDay := withHolds(newCallback("rate", "svc", "+33612345678", t0), day)
	create(t, s, withDay)

	res, err := s.Forget(ctx, callbackd.Forget{
		IDs:         []string{"gone1", "gone2", "rate", "missing"},
		Subjects:    []string{"+33612345678"},
		KeySuffixes: []string{"inqueue/svc/+33612345678", "/_customer_number=+33612345678"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone1", "gone2", "rate"} {
		if res[id] != nil {
			t.Errorf("Forget %s: %v", id, res[id])
		}
		if _, err := s.GetCallback(ctx, id); !errors.Is(err, callbackd.ErrNotFound) {
			t.Errorf("%s still stored: %v", id, err)
		}
	}
	if !errors.Is(res["missing"], callbackd.ErrNotFound) {
		t.Errorf("missing: %v, want ErrNotFound", res["missing"])
	}
	if got := find(t, s, callbackd.Query{Lookups: []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: "+33612345678"}}}); got != "" {
		t.Errorf("lookup still finds %q", got)
	}
	evs, err := s.ListEvents(ctx, callbackd.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, ev := range evs {
		left = append(left, ev.CallbackID+"/"+ev.Subject+"/"+ev.Properties["message"])
		if ev.CallbackID == "gone1" || ev.CallbackID == "gone2" || ev.CallbackID == "rate" || strings.Contains(fmt.Sprint(ev.Properties), "612345678") {
			t.Errorf("event left: %+v", ev)
		}
	}
	if len(evs) != 2 { // kept's acceptance and the other number's refusal
		t.Errorf("events left %q, want 2", left)
	}
	if got := counter(t, s, "slot/svc/0900"); got != 1 {
		t.Errorf("slot counter %d, want 1 (only kept holds it)", got)
	}
	cs, err := s.Counters(ctx, "", "\x7f")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if strings.Contains(c.Key, "612345678") {
			t.Errorf("counter left: %+v", c)
		}
	}
	// The daily use is gone too: the same number may book again today.
	again := withHolds(newCallback("again", "svc", "+33612345678", t0), day)
	if err := s.CreateCallback(ctx, again, nil); err != nil {
		t.Errorf("daily limit still counts the erased use: %v", err)
	}
}

func testForgetRefused(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, customer("busy", "+33611111111"))
	refuse := errors.New("in execution")
	res, err := s.Forget(ctx, callbackd.Forget{IDs: []string{"busy"}, Check: func(cb *callbackd.Callback) error {
		if cb.ID != "busy" || cb.CustomerNumber != "+33611111111" {
			t.Errorf("Check saw %+v", cb)
		}
		return refuse
	}, KeySuffixes: []string{"inqueue/svc/+33611111111"}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res["busy"], refuse) {
		t.Errorf("result %v, want the Check's error", res["busy"])
	}
	if _, err := s.GetCallback(ctx, "busy"); err != nil {
		t.Errorf("refused callback erased: %v", err)
	}
	if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "busy"}); len(evs) != 1 {
		t.Errorf("refused callback's events: %d, want 1", len(evs))
	}
	if got := counter(t, s, "inqueue/svc/+33611111111"); got != 1 {
		t.Errorf("held in-queue counter %d, want 1 (still held)", got)
	}
}

func testCustomerCounterDropped(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, customer("done", "+33622222222"))
	if _, err := s.UpdateCallback(ctx, "done", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
		return []callbackd.Event{ev}, err
	}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Counters(ctx, "inqueue/", "inqueue0")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Errorf("released per-customer counters kept: %+v", cs)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func holdTests() []namedTest {
	return []namedTest{
		{"HoldsTakenOnCreate", testHoldsOnCreate},
		{"HoldsMoveOnUpdate", testHoldsMove},
		{"CompletionReleasesHolds", testHoldsReleased},
		{"ConcurrentHoldsNeverExceedLimit", testHoldsConcurrent},
		{"CountersRange", testCountersRange},
	}
}

func counter(t *testing.T, s callbackd.Store, key string) int {
	t.Helper()
	cs, err := s.Counters(context.Background(), key, key+"\x00")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		return 0
	}
	return cs[0].Value
}

func withHolds(cb *callbackd.Callback, holds ...callbackd.Hold) *callbackd.Callback {
	cb.Holds = holds
	return cb
}

func testHoldsOnCreate(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	slot := callbackd.Hold{Key: "slot/svc/0900", Limit: 2}
	create(t, s, withHolds(newCallback("h1", "svc", "1", t0), slot, callbackd.Hold{Key: "number/1"}))
	create(t, s, withHolds(newCallback("h2", "svc", "2", t0), slot))
	if got := counter(t, s, slot.Key); got != 2 {
		t.Fatalf("counter %d, want 2", got)
	}
	if got := counter(t, s, "number/1"); got != 1 {
		t.Fatalf("unlimited counter %d, want 1", got)
	}
	cb := withHolds(newCallback("h3", "svc", "3", t0), callbackd.Hold{Key: "number/3"}, slot)
	err := s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
	var le *callbackd.LimitError
	if !errors.As(err, &le) || le.Key != slot.Key || le.Limit != 2 {
		t.Fatalf("third create: err = %v, want LimitError on %s", err, slot.Key)
	}
	if _, err := s.GetCallback(ctx, "h3"); !errors.Is(err, callbackd.ErrNotFound) {
		t.Fatalf("refused create was stored: %v", err)
	}
	if got := counter(t, s, "number/3"); got != 0 {
		t.Fatalf("refused create left counter number/3 at %d", got)
	}
	if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "h3"}); len(evs) != 0 {
		t.Fatalf("refused create wrote events %+v", evs)
	}
	got, _ := s.GetCallback(ctx, "h1")
	if len(got.Holds) != 2 || got.Holds[0] != (callbackd.Hold{Key: "slot/svc/0900", Limit: 2}) {
		t.Fatalf("holds not stored: %+v", got.Holds)
	}
}

func testHoldsMove(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	a, b := callbackd.Hold{Key: "slot/a", Limit: 5}, callbackd.Hold{Key: "slot/b", Limit: 1}
	create(t, s, withHolds(newCallback("m1", "svc", "1", t0), a))
	create(t, s, withHolds(newCallback("m2", "svc", "2", t0), b))
	move := func(id string, to callbackd.Hold) error {
		_, err := s.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
			cb.Holds = []callbackd.Hold{to}
			cb.DesiredTime = cb.DesiredTime.Add(time.Hour)
			return nil, nil
		})
		return err
	}
	var le *callbackd.LimitError
	if err := move("m1", b); !errors.As(err, &le) {
		t.Fatalf("move into a full counter: err = %v, want LimitError", err)
	}
	if counter(t, s, "slot/a") != 1 || counter(t, s, "slot/b") != 1 {
		t.Fatalf("refused move changed counters: a=%d b=%d", counter(t, s, "slot/a"), counter(t, s, "slot/b"))
	}
	if got, _ := s.GetCallback(ctx, "m1"); !got.DesiredTime.Equal(t0) {
		t.Fatal("refused move changed the record")
	}
	if err := move("m2", a); err != nil {
		t.Fatal(err)
	}
	if counter(t, s, "slot/a") != 2 || counter(t, s, "slot/b") != 0 {
		t.Fatalf("after move: a=%d b=%d, want 2 and 0", counter(t, s, "slot/a"), counter(t, s, "slot/b"))
	}
	if err := move("m1", b); err != nil {
		t.Fatalf("slot/b freed by the move, still refused: %v", err)
	}
}

func testHoldsReleased(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	h := callbackd.Hold{Key: "slot/r", Limit: 1}
	create(t, s, withHolds(newCallback("r1", "svc", "1", t0), h))
	_, err := s.UpdateCallback(ctx, "r1", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := counter(t, s, "slot/r"); got != 0 {
		t.Fatalf("completed callback still holds: counter %d", got)
	}
	create(t, s, withHolds(newCallback("r2", "svc", "2", t0), h))
}

func testHoldsConcurrent(t *testing.T, s callbackd.Store) {
	const limit, tries = 10, 60
	h := callbackd.Hold{Key: "slot/busy", Limit: limit}
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cb := withHolds(newCallback(fmt.Sprintf("c%02d", i), "svc", "1", t0), h)
			err := s.CreateCallback(context.Background(), cb, nil)
			var le *callbackd.LimitError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &le):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if ok.Load() != limit || refused.Load() != tries-limit || counter(t, s, h.Key) != limit {
		t.Fatalf("accepted %d, refused %d, counter %d; want exactly %d accepted", ok.Load(), refused.Load(), counter(t, s, h.Key), limit)
	}
}

func testCountersRange(t *testing.T, s callbackd.Store) {
	for i, key := range []string{"slot/s/0900", "slot/s/0905", "slot/s/0910", "slot/t/0900"} {
		create(t, s, withHolds(newCallback(fmt.Sprintf("k%d", i), "svc", "1", t0), callbackd.Hold{Key: key}))
	}
	cs, err := s.Counters(context.Background(), "slot/s/0905", "slot/s/9999")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Key != "slot/s/0905" || cs[1].Key != "slot/s/0910" || cs[0].Value != 1 {
		t.Fatalf("counters %+v", cs)
	}
}

func rateTests() []namedTest {
	return []namedTest{
		{"RateHoldsSlide", testRateSlides},
		{"ConcurrentRateHoldsNeverExceedLimit", testRateConcurrent},
		{"WhileHoldReleasedOnLeavingState", testWhileHold},
		{"PruneRateUsesByAge", testRatePrune},
		{"PruneRateUsesWhileTaking", testRatePruneConcurrent},
	}
}

func rate(at time.Time) callbackd.Hold {
	return callbackd.Hold{Key: "rate/svc/1", Limit: 2, Window: time.Minute, At: at}
}

func testRateSlides(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, withHolds(newCallback("r1", "svc", "1", t0), rate(t0)))
	create(t, s, withHolds(newCallback("r2", "svc", "2", t0), rate(t0.Add(10*time.Second))))
	cb := withHolds(newCallback("r3", "svc", "3", t0), rate(t0.Add(20*time.Second)))
	var le *callbackd.LimitError
	if err := s.CreateCallback(ctx, cb, nil); !errors.As(err, &le) || le.Key != "rate/svc/1" || le.Limit != 2 {
		t.Fatalf("third use within the window: err = %v, want LimitError", err)
	}
	// The first use leaves the window at t0+60s.
	create(t, s, withHolds(newCallback("r4", "svc", "4", t0), rate(t0.Add(61*time.Second))))
	got, _ := s.GetCallback(ctx, "r1")
	if len(got.Holds) != 0 {
		t.Fatalf("a rate hold was stored with the callback: %+v", got.Holds)
	}
	// Completing a callback does not give its use back.
	_, err := s.UpdateCallback(ctx, "r4", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCallback(ctx, withHolds(newCallback("r5", "svc", "5", t0), rate(t0.Add(62*time.Second))), nil); !errors.As(err, &le) {
		t.Fatalf("use after a completion: err = %v, want LimitError (uses are not released)", err)
	}
}

func testRateConcurrent(t *testing.T, s callbackd.Store) {
	const limit, tries = 10, 50
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			h := callbackd.Hold{Key: "rate/busy", Limit: limit, Window: time.Hour, At: t0.Add(time.Duration(i) * time.Millisecond)}
			takeOrRefuse(t, s, withHolds(newCallback(fmt.Sprintf("rc%02d", i), "svc", "1", t0), h), &ok)
		}(i)
	}
	wg.Wait()
	if ok.Load() != limit {
		t.Fatalf("accepted %d uses, want exactly %d", ok.Load(), limit)
	}
}

// takeOrRefuse creates cb, counting it in ok when accepted; an error
// other than a LimitError fails the test.
func takeOrRefuse(t *testing.T, s callbackd.Store, cb *callbackd.Callback, ok *atomic.Int32) {
	err := s.CreateCallback(context.Background(), cb, nil)
	var le *callbackd.LimitError
	switch {
	case err == nil:
		ok.Add(1)
	case !errors.As(err, &le):
		t.Error(err)
	}
}

func testWhileHold(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	q := callbackd.Hold{Key: "queued/svc", Limit: 1, While: callbackd.StateQueued}
	cb := newCallback("w1", "svc", "1", t0)
	cb.State = callbackd.StateQueued
	create(t, s, withHolds(cb, q, callbackd.Hold{Key: "slot/w"}))
	_, err := s.UpdateCallback(ctx, "w1", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateRouting, "", t0, "test")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if counter(t, s, "queued/svc") != 0 || counter(t, s, "slot/w") != 1 {
		t.Fatalf("after leaving QUEUED: queued=%d slot=%d, want 0 and 1", counter(t, s, "queued/svc"), counter(t, s, "slot/w"))
	}
}

// testRatePrune: PruneRateUses deletes the uses at or before its time,
// key by key up to its limit, keeps later ones (they still count), and
// leaves no counter row behind for a key without uses.
func testRatePrune(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	day := func(n string, at time.Time, limit int) callbackd.Hold {
		return callbackd.Hold{Key: "day/svc/2026-03-02/_customer_number=" + n, Limit: limit, Window: 48 * time.Hour, At: at}
	}
	win := func(at time.Time, limit int) callbackd.Hold {
		return callbackd.Hold{Key: "rate/svc/2", Limit: limit, Window: 10 * time.Hour, At: at}
	}
	create(t, s, withHolds(newCallback("p1", "svc", "1", t0), day("+1", t0, 1), win(t0, 5)))
	create(t, s, withHolds(newCallback("p2", "svc", "2", t0), day("+2", t0, 1), win(t0.Add(2*time.Hour), 5)))
	create(t, s, withHolds(newCallback("p3", "svc", "3", t0), day("+3", t0, 1)))

	if n, err := s.PruneRateUses(ctx, t0.Add(-time.Millisecond), 10); n != 0 || err != nil {
		t.Fatalf("prune before every use = %d, %v; want 0", n, err)
	}
	// Four keys have a use at t0; the limit counts keys.
	pruned := 0
	for _, want := range []int{3, 1, 0} {
		n, err := s.PruneRateUses(ctx, t0.Add(time.Hour), 3)
		if err != nil || n != want {
			t.Fatalf("prune = %d, %v; want %d (pruned %d so far)", n, err, want, pruned)
		}
		pruned += n
	}
	for _, n := range []string{"+1", "+2", "+3"} {
		key := day(n, t0, 1).Key
		if cs, err := s.Counters(ctx, key, key+"\x00"); err != nil || len(cs) != 0 {
			t.Fatalf("counters of pruned key %s = %+v, %v; want none", key, cs, err)
		}
	}
	// The use at t0+2h was after the prune's time: it still counts, the
	// one at t0 does not.
	var le *callbackd.LimitError
	if err := s.CreateCallback(ctx, withHolds(newCallback("p4", "svc", "4", t0), win(t0.Add(3*time.Hour), 1)), nil); !errors.As(err, &le) {
		t.Fatalf("take with limit 1 after the prune: err = %v; want LimitError (the later use is kept)", err)
	}
	create(t, s, withHolds(newCallback("p5", "svc", "5", t0), win(t0.Add(3*time.Hour), 2)))
	// A pruned day key counts from zero again.
	create(t, s, withHolds(newCallback("p6", "svc", "6", t0), day("+1", t0.Add(2*time.Hour), 1)))
}

// testRatePruneConcurrent prunes a key's old uses while its window is
// being taken from all sides: every take and prune succeeds (no deadlock
// surfaces, on PostgreSQL none happens between the two lock orders), the
// limit stays exact, and the old uses are gone.
func testRatePruneConcurrent(t *testing.T, s callbackd.Store) {
	const limit, tries, old = 10, 40, 30
	hold := func(at time.Time) callbackd.Hold {
		return callbackd.Hold{Key: "rate/prune", Limit: limit, Window: time.Hour, At: at}
	}
	// Old uses, two hours before the window (taken under a higher limit).
	for i := range old {
		h := hold(t0.Add(-2*time.Hour + time.Duration(i)*time.Millisecond))
		h.Limit = old
		create(t, s, withHolds(newCallback(fmt.Sprintf("po%02d", i), "svc", "1", t0), h))
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			takeOrRefuse(t, s, withHolds(newCallback(fmt.Sprintf("pn%02d", i), "svc", "1", t0), hold(t0.Add(time.Duration(i)*time.Millisecond))), &ok)
		}()
		if i%4 == 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.PruneRateUses(context.Background(), t0.Add(-time.Hour), 1); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	if ok.Load() != limit {
		t.Fatalf("accepted %d uses, want exactly %d", ok.Load(), limit)
	}
	if n, err := s.PruneRateUses(context.Background(), t0.Add(-time.Hour), 10); n != 0 || err != nil {
		// The key has no use at or before t0-1h left: the concurrent
		// prunes (one key each) took them all. A take may also have
		// pruned them, sliding its window.
		t.Fatalf("old uses left after the prunes: %d keys, %v", n, err)
	}
}

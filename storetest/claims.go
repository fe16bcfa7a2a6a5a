package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func claimTests() []namedTest {
	return []namedTest{
		{"ClaimDueInOrderWithLease", testClaimOrder},
		{"ClaimByID", testClaimByID},
		{"ConcurrentClaimsNeverOverlap", testClaimConcurrent},
	}
}

func due(id string, at time.Time) *callbackd.Callback {
	cb := newCallback(id, "svc", "1", at)
	cb.DueAt = at
	return cb
}

func claim(owner string, now time.Time) func(cb *callbackd.Callback) ([]callbackd.Event, error) {
	return func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		return cb.Claim(now, owner, now.Add(time.Minute))
	}
}

func testClaimOrder(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, due("late", t0.Add(-time.Minute)))
	create(t, s, due("early", t0.Add(-2*time.Minute)))
	create(t, s, due("future", t0.Add(5*time.Minute)))
	done := due("done", t0.Add(-time.Hour))
	done.State = callbackd.StateCompleted
	create(t, s, done)

	got, err := s.ClaimDue(ctx, callbackd.ClaimQuery{Now: t0, Limit: 10}, claim("n1", t0))
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "early,late" {
		t.Fatalf("claimed %q, want early,late (oldest due first, nothing future or finished)", ids(got))
	}
	stored, _ := s.GetCallback(ctx, "early")
	if stored.State != callbackd.StateQueued || stored.SubmitAttempts != 1 || stored.LeaseOwner != "n1" || !stored.LeaseUntil.Equal(t0.Add(time.Minute)) {
		t.Fatalf("claimed record %+v", stored)
	}
	evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "early"})
	if len(evs) != 2 || evs[1].From != callbackd.StateScheduled || evs[1].To != callbackd.StateQueued {
		t.Fatalf("claim events %+v", evs)
	}
	// Leased: nobody else gets them until the lease ends.
	if got, _ := s.ClaimDue(ctx, callbackd.ClaimQuery{Now: t0.Add(59 * time.Second), Limit: 10}, claim("n2", t0)); ids(got) != "" {
		t.Fatalf("claimed leased callbacks: %q", ids(got))
	}
	// A submitted callback is not due any more.
	_, err = s.UpdateCallback(ctx, "late", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		return []callbackd.Event{cb.Submitted(t0, "S1")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The expired lease of "early" is rescued, with the next attempt.
	later := t0.Add(time.Minute)
	got, err = s.ClaimDue(ctx, callbackd.ClaimQuery{Now: later, Limit: 10}, claim("n2", later))
	if err != nil || ids(got) != "early" || got[0].SubmitAttempts != 2 || got[0].LeaseOwner != "n2" {
		t.Fatalf("rescue: %q %+v %v", ids(got), got, err)
	}
}

func testClaimByID(t *testing.T, s callbackd.Store) {
	create(t, s, due("a", t0.Add(-2*time.Minute)))
	create(t, s, due("b", t0.Add(-time.Minute)))
	got, err := s.ClaimDue(context.Background(), callbackd.ClaimQuery{Now: t0, Limit: 1, ID: "b"}, claim("n", t0))
	if err != nil || ids(got) != "b" {
		t.Fatalf("claim by id: %q %v", ids(got), err)
	}
}

func testClaimConcurrent(t *testing.T, s callbackd.Store) {
	const n = 40
	for i := 0; i < n; i++ {
		create(t, s, due(fmt.Sprintf("c%02d", i), t0.Add(-time.Duration(i)*time.Second)))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				got, err := s.ClaimDue(context.Background(), callbackd.ClaimQuery{Now: t0, Limit: 3}, claim(fmt.Sprint("n", w), t0))
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, cb := range got {
					seen[cb.ID]++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct callbacks, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("%s claimed %d times", id, k)
		}
	}
}

func expiryTests() []namedTest {
	return []namedTest{
		{"ClaimExpiredNotInExecution", testClaimExpired},
		{"PurgeCompletedRemovesEverything", testPurge},
	}
}

func testClaimExpired(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	old := newCallback("old", "svc", "1", t0.Add(-48*time.Hour)) // expires at t0-24h
	create(t, s, old)
	executing := newCallback("exec", "svc", "2", t0.Add(-48*time.Hour))
	executing.SessionID = "S1"
	create(t, s, executing)
	create(t, s, newCallback("fresh", "svc", "3", t0))
	expire := func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonFailTimeoutTTL, t0, "test")
		return []callbackd.Event{ev}, err
	}
	got, err := s.ClaimDue(ctx, callbackd.ClaimQuery{Now: t0, Limit: 10, Expired: true}, expire)
	if err != nil || ids(got) != "old" {
		t.Fatalf("expired claim: %q %v (want only the expired callback not in execution)", ids(got), err)
	}
	if got, _ := s.ClaimDue(ctx, callbackd.ClaimQuery{Now: t0, Limit: 10, Expired: true}, expire); len(got) != 0 {
		t.Fatalf("a completed callback was claimed again: %q", ids(got))
	}
}

func testPurge(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	for _, id := range []string{"p1", "p2", "keep"} {
		create(t, s, newCallback(id, "svc", "777", t0))
	}
	for _, id := range []string{"p1", "p2"} {
		_, err := s.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
			ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0.Add(time.Hour), "test")
			return []callbackd.Event{ev}, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeCompleted(ctx, t0.Add(time.Hour), 10); n != 0 || err != nil {
		t.Fatalf("purged %d completed at the boundary (%v)", n, err)
	}
	n, err := s.PurgeCompleted(ctx, t0.Add(2*time.Hour), 10)
	if n != 2 || err != nil {
		t.Fatalf("purged %d, %v; want 2", n, err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := s.GetCallback(ctx, id); err != callbackd.ErrNotFound {
			t.Errorf("%s still stored: %v", id, err)
		}
		if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: id}); len(evs) != 0 {
			t.Errorf("%s events kept: %+v", id, evs)
		}
	}
	if got := find(t, s, callbackd.Query{Lookups: []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: "777"}}}); got != "keep" {
		t.Errorf("lookup after purge = %q, want keep", got)
	}
}

package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func countTests() []namedTest {
	return []namedTest{
		{"CountCallbacksByServiceAndState", testCountCallbacks},
	}
}

// testCountCallbacks checks the counts monitoring shows: every service and
// state that has callbacks, following updates and purges, and nothing for
// pairs without any.
func testCountCallbacks(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	if got := counts(t, s); got != "" {
		t.Fatalf("empty store counts %q, want none", got)
	}
	for i := range 3 {
		create(t, s, newCallback(fmt.Sprintf("a%d", i), "alpha", "1", t0.Add(time.Duration(i)*time.Hour)))
	}
	create(t, s, newCallback("b0", "beta", "2", t0))
	_, err := s.UpdateCallback(ctx, "a1", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateCallback(ctx, "b0", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateQueued, "", t0, "test")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(t, s), "alpha/COMPLETED=1 alpha/SCHEDULED=2 beta/QUEUED=1"; got != want {
		t.Fatalf("counts %q, want %q", got, want)
	}
	if n, err := s.PurgeCompleted(ctx, t0.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("PurgeCompleted = %d, %v", n, err)
	}
	if got, want := counts(t, s), "alpha/SCHEDULED=2 beta/QUEUED=1"; got != want {
		t.Fatalf("counts after purge %q, want %q", got, want)
	}
}

func counts(t *testing.T, s callbackd.Store) string {
	t.Helper()
	got, err := s.CountByState(context.Background())
	if err != nil {
		t.Fatalf("CountByState: %v", err)
	}
	out := ""
	for i, c := range got {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s/%s=%d", c.Service, c.State, c.Count)
	}
	return out
}

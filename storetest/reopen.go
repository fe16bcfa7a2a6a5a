package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/callbackd/callbackd"
)

// Reopener opens a fresh, empty store, and returns it with a function that
// opens the same database again once the first store is closed.
type Reopener func(t *testing.T) (callbackd.Store, func(t *testing.T) callbackd.Store)

// RunReopen runs the tests that close a store and open its database again.
func RunReopen(t *testing.T, open Reopener) {
	t.Run("AcknowledgedWritesSurviveCloseAndReopen", func(t *testing.T) {
		s, reopen := open(t)
		testAcknowledgedSurvive(t, s, reopen)
	})
	t.Run("AgentsSurviveCloseAndReopen", func(t *testing.T) {
		s, reopen := open(t)
		testAgentsSurviveReopen(t, s, reopen)
	})
}

// testAcknowledgedSurvive writes from many goroutines (creates, some over
// a limit, and updates) and closes the store in the middle of it, with
// writes queued and in flight; after a reopen every acknowledged write
// must be there, and no refused one. Writes after Close fail (they are
// not acknowledged) and are not checked.
func testAcknowledgedSurvive(t *testing.T, s callbackd.Store, reopen func(t *testing.T) callbackd.Store) {
	ctx := context.Background()
	const writers, each, limit = 8, 40, 250
	h := callbackd.Hold{Key: "slot/reopen", Limit: limit}
	var mu sync.Mutex
	created := map[string]bool{} // id: acknowledged (true) or refused for its limit (false)
	updated := map[string]bool{}
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("a%d-%02d", w, i)
				cb := withHolds(newCallback(id, "svc", fmt.Sprint(w), t0), h)
				err := s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
				var le *callbackd.LimitError
				if err != nil && !errors.As(err, &le) {
					return // closed
				}
				mu.Lock()
				created[id] = err == nil
				if len(created) == writers*each/2 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
				if err != nil || i%3 != 0 {
					continue
				}
				_, err = s.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
					cb.Properties["updated"] = "yes"
					return nil, nil
				})
				if err != nil {
					return // closed
				}
				mu.Lock()
				updated[id] = true
				mu.Unlock()
			}
		}()
	}
	<-enough
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = reopen(t)
	defer s.Close()
	accepted := 0
	for id, ok := range created {
		got, err := s.GetCallback(ctx, id)
		switch {
		case ok && err != nil:
			t.Errorf("%s acknowledged but lost after reopen: %v", id, err)
		case !ok && !errors.Is(err, callbackd.ErrNotFound):
			t.Errorf("%s refused but stored after reopen: %v", id, err)
		case ok && updated[id] && got.Properties["updated"] != "yes":
			t.Errorf("%s: acknowledged update lost after reopen: %+v", id, got.Properties)
		}
		if ok {
			accepted++
			if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: id}); len(evs) != 1 {
				t.Errorf("%s: events %+v after reopen", id, evs)
			}
		}
	}
	// Close runs what was queued and answers it: nothing committed
	// without its caller hearing of it.
	if got := counter(t, s, h.Key); accepted > limit || got != accepted {
		t.Fatalf("accepted %d, counter %d after reopen; want them equal, at most %d", accepted, got, limit)
	}
	t.Logf("%d writes acknowledged before Close", len(created))
}

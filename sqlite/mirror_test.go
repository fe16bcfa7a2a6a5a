package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// TestMirrorMatchesTable checks that the in-memory bucket counters equal
// the table after commits, refused writes (rolled back) and a reopen.
func TestMirrorMatchesTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 30; i++ {
		key := fmt.Sprintf("slot/svc/%03d", i%4)
		cb := &callbackd.Callback{ID: fmt.Sprint("m", i), Service: "svc", State: callbackd.StateScheduled, DesiredTime: now, ExpirationTime: now,
			Holds: []callbackd.Hold{{Key: key, Limit: 5}, {Key: "inqueue/x", Limit: 0}}}
		err := s.CreateCallback(ctx, cb, nil)
		var le *callbackd.LimitError
		if err != nil && !errors.As(err, &le) {
			t.Fatal(err)
		}
	}
	_, err = s.UpdateCallback(ctx, "m0", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, now, "t")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		fromDB, err := s.countersFromDB(ctx, "slot/", "slot0")
		if err != nil {
			t.Fatal(err)
		}
		fromMirror, _ := s.Counters(ctx, "slot/", "slot0")
		if !slices.Equal(fromDB, fromMirror) || len(fromDB) != 4 || fromDB[0].Value != 4 || fromDB[1].Value != 5 {
			t.Fatalf("mirror %v, table %v", fromMirror, fromDB)
		}
	}
	check(s)
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/callbackd/callbackd"
)

// TestWritesShareCommits checks that concurrent writes are batched: 40
// creates started at once, against one writer whose commits each wait for
// an fsync, take fewer transactions than writes.
func TestWritesShareCommits(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batches0, writes0 := s.commits.Stats() // the migrations
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			cb := &callbackd.Callback{ID: fmt.Sprint("w", i), Service: "svc", State: callbackd.StateScheduled,
				Holds: []callbackd.Hold{{Key: "slot/w", Limit: n}}}
			errs <- s.CreateCallback(context.Background(), cb, []callbackd.Event{cb.Accepted(cb.CreatedAt, "test")})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	batches, writes := s.commits.Stats()
	batches, writes = batches-batches0, writes-writes0
	t.Logf("%d writes in %d transactions", writes, batches)
	if writes != n || batches >= writes {
		t.Fatalf("%d writes in %d transactions: no batching", writes, batches)
	}
}

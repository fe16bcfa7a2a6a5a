package postgres

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
)

// TestEventSeqFollowsCommitOrder has two transactions write events, the
// first to write commits last, and a reader tail the log in between, as
// the SSE stream does. With numbers drawn at INSERT (the identity column
// of schema 1-5), the first transaction held the smaller number, the
// reader saw the second's event, moved its cursor past it, and never saw
// the first's. With numbers drawn from event_cursor just before COMMIT,
// the second transaction waits for the first and numbers after it.
func TestEventSeqFollowsCommitOrder(t *testing.T) {
	u, name := pgtest.Schema(t)
	s := open(t, u)
	ctx := context.Background()
	writeEvents := func(tx pgx.Tx, id string) {
		t.Helper()
		sql, args, err := insertEvents([]callbackd.Event{{Time: t0, CallbackID: id, Service: "svc", Type: callbackd.EventAccepted, Source: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	writeEvents(a, "first-to-write")

	bDone := make(chan error, 1)
	go func() {
		b, err := s.pool.Begin(ctx)
		if err != nil {
			bDone <- err
			return
		}
		defer b.Rollback(ctx)
		sql, args, _ := insertEvents([]callbackd.Event{{Time: t0, CallbackID: "first-to-commit", Service: "svc", Type: callbackd.EventAccepted, Source: "test"}})
		if _, err := b.Exec(ctx, sql, args...); err != nil {
			bDone <- err
			return
		}
		bDone <- b.Commit(ctx)
	}()
	// b either commits (numbers taken at INSERT) or waits for a's lock.
	bCommitted := false
	deadline := time.Now().Add(10 * time.Second)
	for !bCommitted {
		select {
		case err := <-bDone:
			if err != nil {
				t.Fatal(err)
			}
			bCommitted = true
			continue
		default:
		}
		var waiting int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, name).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction neither committed nor waited")
		}
		time.Sleep(time.Millisecond) // waiting on another connection
	}

	var seen []callbackd.Event
	tail := func() {
		after := int64(0)
		if len(seen) > 0 {
			after = seen[len(seen)-1].Seq
		}
		evs, err := s.ListEvents(ctx, callbackd.EventQuery{AfterSeq: after})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, evs...)
	}
	tail()
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !bCommitted {
		if err := <-bDone; err != nil {
			t.Fatal(err)
		}
	}
	tail()
	if len(seen) != 2 || seen[0].CallbackID != "first-to-write" || seen[1].CallbackID != "first-to-commit" {
		t.Fatalf("the tailing reader saw %+v; want both events, in commit order", seen)
	}
}

// TestWritesShareCommits checks that concurrent writes are batched: 40
// creates started at once, against 2 committers whose commits each wait
// for an fsync, take fewer transactions than writes.
func TestWritesShareCommits(t *testing.T) {
	u, _ := pgtest.Schema(t)
	s := open(t, u)
	ctx := context.Background()
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			cb := newCallback("w"+string(rune('A'+i)), callbackd.Hold{Key: "slot/w", Limit: n})
			errs <- s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	batches, writes := s.commits.Stats()
	t.Logf("%d writes in %d transactions", writes, batches)
	if writes != n || batches >= writes {
		t.Fatalf("%d writes in %d transactions: no batching", writes, batches)
	}
}

// TestNoDeadlocksBetweenBatches runs creates and updates whose holds cross
// over a few hot counters, from many goroutines on three nodes, so that
// each node's batches hold many writes whose counters overlap with other
// batches' in every order. A batch that locked its writes' counters write
// by write would deadlock here; the batch-wide key order must not, and the
// counters must come out exact.
func TestNoDeadlocksBetweenBatches(t *testing.T) {
	u, _ := pgtest.Schema(t)
	nodes := []*Store{open(t, u), open(t, u), open(t, u)}
	const workers, each, hot = 48, 8, 6
	holds := func(seed int) []callbackd.Hold {
		var hs []callbackd.Hold
		for j := range 3 {
			hs = append(hs, callbackd.Hold{Key: "hot/" + strconv.Itoa((seed*7+j*5)%hot)})
		}
		return hs
	}
	final := make([][]callbackd.Hold, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			s := nodes[w%len(nodes)]
			for i := range each {
				k := w*each + i
				id := fmt.Sprintf("d%03d", k)
				if err := s.CreateCallback(ctx, newCallback(id, holds(k)...), nil); err != nil {
					t.Error(err)
					return
				}
				_, err := s.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
					cb.Holds = holds(k + 1 + i)
					return nil, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				final[k] = holds(k + 1 + i)
			}
		})
	}
	wg.Wait()
	want := map[string]int{}
	for _, hs := range final {
		for _, h := range hs {
			want[h.Key]++
		}
	}
	cs, err := nodes[0].Counters(context.Background(), "hot/", "hot0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Value != want[c.Key] {
			t.Errorf("counter %s = %d, want %d", c.Key, c.Value, want[c.Key])
		}
	}
	var retried, batches, writes int64
	for _, n := range nodes {
		retried += n.retried.Load()
		b, w := n.commits.Stats()
		batches, writes = batches+b, writes+w
	}
	t.Logf("%d writes in %d transactions on 3 nodes, %d run again", writes, batches, retried)
	if retried != 0 {
		t.Errorf("%d batches ran again after a deadlock or serialization failure", retried)
	}
}

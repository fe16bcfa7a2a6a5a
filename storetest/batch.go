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

// Both stores commit concurrent writes together (group commit): the writes
// queued while a commit is in flight share the next transaction and its
// fsync, each in its own savepoint. These tests hold the commits back so
// that a known set of writes forms one batch, and check what a client
// would notice: each write gets its own outcome, and a batch behaves as
// its writes one after the other.

func batchTests() []namedTest {
	return []namedTest{
		{"BatchOneRefusalDoesNotFailNeighbours", testBatchNeighbours},
		{"BatchTakenIDAloneFailsAlone", testBatchTakenID},
		{"BatchValueTheStoreRefusesFailsAlone", testBatchRefusedValue},
		{"BatchLastUnitsGoToExactlyThatMany", testBatchLastUnits},
		{"BatchCallerCancelledBeforeItsTurnIsNotRun", testBatchCancelled},
		{"BatchPanicInUpdateReachesItsCaller", testBatchPanic},
		{"TailingReaderMissesNoEvent", testTailingReader},
	}
}

// batcher is implemented by stores that batch writes.
type batcher interface {
	// PendingWrites is the number of writes queued for the next commit.
	PendingWrites() int
	// Committers is the number of transactions that run batches at once.
	Committers() int
}

// gate holds a store's commits back: each committer is kept busy by an
// update whose fn waits, so the writes that follow queue up.
type gate struct {
	t       *testing.T
	bs      batcher
	release chan struct{}
	once    sync.Once
	done    sync.WaitGroup
}

// holdCommits occupies every committer of s. With a store that does not
// say how it batches, it holds nothing and the batch tests run as plain
// concurrency tests.
func holdCommits(t *testing.T, s callbackd.Store) *gate {
	t.Helper()
	g := &gate{t: t, release: make(chan struct{})}
	bs, ok := s.(batcher)
	if !ok {
		g.let()
		return g
	}
	g.bs = bs
	n := bs.Committers()
	for i := range n {
		create(t, s, newCallback(fmt.Sprintf("gate-%d", i), "gate", "0", t0))
	}
	// One at a time: each blocker finds every committer but one busy, so
	// the idle one takes it alone.
	for i := range n {
		entered := make(chan struct{})
		var once sync.Once
		g.done.Add(1)
		go func() {
			defer g.done.Done()
			_, err := s.UpdateCallback(context.Background(), fmt.Sprintf("gate-%d", i), func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				once.Do(func() { close(entered) })
				<-g.release
				return nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
		g.waitFor("a committer to take the gate", func() bool {
			select {
			case <-entered:
				return true
			default:
				return false
			}
		})
	}
	return g
}

// open waits until n more writes are queued, then lets every commit go.
func (g *gate) open(n int) {
	g.t.Helper()
	if g.bs != nil {
		g.waitFor(fmt.Sprintf("%d writes to queue", n), func() bool { return g.bs.PendingWrites() >= n })
	}
	g.let()
	g.done.Wait()
}

// let releases the committers.
func (g *gate) let() { g.once.Do(func() { close(g.release) }) }

// waitFor is the package's waitFor that, when it fails the test, first
// lets the committers go, so that the store can still close.
func (g *gate) waitFor(what string, cond func() bool) {
	g.t.Helper()
	defer func() {
		if g.t.Failed() {
			g.let()
		}
	}()
	waitFor(g.t, what, cond)
}

// waitFor polls cond until it holds; it fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // waiting on other goroutines, not on time
	}
}

// outcomes runs the writes concurrently behind a gate, so that they share
// a batch, and returns their errors in order.
func outcomes(t *testing.T, s callbackd.Store, writes ...func() error) []error {
	t.Helper()
	g := holdCommits(t, s)
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = w() }()
	}
	g.open(len(writes))
	wg.Wait()
	return errs
}

func testBatchNeighbours(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	full := callbackd.Hold{Key: "slot/full", Limit: 1}
	roomy := callbackd.Hold{Key: "slot/roomy", Limit: 100}
	create(t, s, withHolds(newCallback("holder", "svc", "1", t0), full))
	create(t, s, newCallback("taken-id", "svc", "2", t0))
	create(t, s, withHolds(newCallback("to-refuse", "svc", "3", t0), roomy))
	create(t, s, withHolds(newCallback("to-cancel", "svc", "4", t0), roomy))

	refusal := callbackd.InvalidOperation(nil, "Callback to-refuse cannot move")
	good := func(i int) func() error {
		return func() error {
			cb := withHolds(newCallback(fmt.Sprintf("good-%d", i), "svc", fmt.Sprint(100+i), t0), roomy)
			return s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		}
	}
	writes := []func() error{
		good(0),
		func() error { // over a full counter
			cb := withHolds(newCallback("over-limit", "svc", "5", t0), roomy, full)
			return s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		},
		good(1),
		func() error { // an id that exists
			cb := withHolds(newCallback("taken-id", "svc", "6", t0), roomy)
			return s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		},
		good(2),
		func() error { // fn refuses
			_, err := s.UpdateCallback(ctx, "to-refuse", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				ev, _ := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
				cb.Properties["half"] = "written"
				return []callbackd.Event{ev}, refusal
			})
			return err
		},
		func() error { // no such callback
			_, err := s.UpdateCallback(ctx, "missing", func(cb *callbackd.Callback) ([]callbackd.Event, error) { return nil, nil })
			return err
		},
		func() error { // a completion frees a unit
			_, err := s.UpdateCallback(ctx, "to-cancel", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
				return []callbackd.Event{ev}, err
			})
			return err
		},
		func() error {
			return s.AppendEvents(ctx, []callbackd.Event{{Time: t0, CallbackID: "never-stored", Service: "svc", Type: callbackd.EventRejected, Source: "api"}})
		},
		good(3),
	}
	errs := outcomes(t, s, writes...)

	var le *callbackd.LimitError
	checks := []struct {
		name string
		ok   bool
	}{
		{"good-0", errs[0] == nil},
		{"over-limit: LimitError on slot/full", errors.As(errs[1], &le) && le.Key == full.Key},
		{"good-1", errs[2] == nil},
		{"taken-id: ErrConflict", errors.Is(errs[3], callbackd.ErrConflict)},
		{"good-2", errs[4] == nil},
		{"to-refuse: fn's own error, as is", errs[5] == refusal},
		{"missing: ErrNotFound", errors.Is(errs[6], callbackd.ErrNotFound)},
		{"to-cancel", errs[7] == nil},
		{"append", errs[8] == nil},
		{"good-3", errs[9] == nil},
	}
	for i, c := range checks {
		if !c.ok {
			t.Errorf("%s: err = %v", c.name, errs[i])
		}
	}

	for i := range 4 {
		id := fmt.Sprintf("good-%d", i)
		if _, err := s.GetCallback(ctx, id); err != nil {
			t.Errorf("%s not stored: %v", id, err)
		}
		if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: id}); len(evs) != 1 {
			t.Errorf("%s: events %+v, want its accepted event", id, evs)
		}
	}
	if _, err := s.GetCallback(ctx, "over-limit"); !errors.Is(err, callbackd.ErrNotFound) {
		t.Errorf("refused create stored: %v", err)
	}
	if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "over-limit"}); len(evs) != 0 {
		t.Errorf("refused create wrote events %+v", evs)
	}
	if got, _ := s.GetCallback(ctx, "taken-id"); got == nil || got.CustomerNumber != "2" {
		t.Errorf("conflicting create changed the record: %+v", got)
	}
	if got, _ := s.GetCallback(ctx, "to-refuse"); got == nil || got.State != callbackd.StateScheduled || got.Properties["half"] != "" {
		t.Errorf("refused update left a change: %+v", got)
	}
	if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "to-refuse"}); len(evs) != 1 {
		t.Errorf("refused update wrote events %+v", evs)
	}
	if got, _ := s.GetCallback(ctx, "to-cancel"); got == nil || got.State != callbackd.StateCompleted {
		t.Errorf("update in the batch not stored: %+v", got)
	}
	if evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "never-stored"}); len(evs) != 1 {
		t.Errorf("appended events %+v", evs)
	}
	// roomy: to-refuse + the four good ones (to-cancel freed its unit,
	// over-limit and taken-id gave theirs back); full: the holder only.
	if got := counter(t, s, roomy.Key); got != 5 {
		t.Errorf("counter %s = %d, want 5", roomy.Key, got)
	}
	if got := counter(t, s, full.Key); got != 1 {
		t.Errorf("counter %s = %d, want 1", full.Key, got)
	}
}

// testBatchTakenID: a batch whose only failing write is the create of an
// id that exists (no counter refuses it: a store that writes a batch's
// records together must still find it) fails that write alone, with its
// holds given back, and changes neither the record nor its neighbours.
func testBatchTakenID(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	roomy := callbackd.Hold{Key: "slot/taken", Limit: 100}
	create(t, s, newCallback("taken", "svc", "1", t0))
	mk := func(id, number string) func() error {
		return func() error {
			cb := withHolds(newCallback(id, "svc", number, t0), roomy)
			cb.Lookup = map[string]string{"_customer_number": number}
			return s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		}
	}
	errs := outcomes(t, s, mk("t-good-0", "10"), mk("taken", "11"), mk("t-good-1", "12"))
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], callbackd.ErrConflict) {
		t.Fatalf("errs %v, want nil, ErrConflict, nil", errs)
	}
	if got, _ := s.GetCallback(ctx, "taken"); got == nil || got.CustomerNumber != "1" {
		t.Errorf("conflicting create changed the record: %+v", got)
	}
	for _, id := range []string{"t-good-0", "t-good-1"} {
		if _, err := s.GetCallback(ctx, id); err != nil {
			t.Errorf("%s not stored: %v", id, err)
		}
	}
	found, err := s.FindCallbacks(ctx, callbackd.Query{Lookups: []callbackd.KeyValue{{Key: "_customer_number", Value: "11"}}})
	if err != nil || len(found) != 0 {
		t.Errorf("the refused create's lookup key was stored: %v, %v", found, err)
	}
	if got := counter(t, s, roomy.Key); got != 2 {
		t.Errorf("counter %s = %d, want 2", roomy.Key, got)
	}
}

// testBatchRefusedValue: a record with a NUL byte in a column is either
// stored as it is (SQLite) or refused with BAD_PARAMETER (PostgreSQL's
// text cannot hold one); either way its neighbours in the batch commit.
func testBatchRefusedValue(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	mk := func(id, number string) func() error {
		return func() error {
			cb := newCallback(id, "svc", number, t0)
			return s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		}
	}
	errs := outcomes(t, s, mk("v-good-0", "20"), mk("v-nul", "2\x001"), mk("v-good-1", "22"))
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("neighbours failed: %v", errs)
	}
	got, err := s.GetCallback(ctx, "v-nul")
	switch {
	case errs[1] == nil && (err != nil || got.CustomerNumber != "2\x001"):
		t.Errorf("accepted, then read back as %+v, %v", got, err)
	case errs[1] != nil && (callbackd.ErrorCode(errs[1]) != callbackd.CodeBadParameter || !errors.Is(err, callbackd.ErrNotFound)):
		t.Errorf("refused with %v (want BAD_PARAMETER), then read back: %v", errs[1], err)
	}
	for _, id := range []string{"v-good-0", "v-good-1"} {
		if _, err := s.GetCallback(ctx, id); err != nil {
			t.Errorf("%s not stored: %v", id, err)
		}
	}
}

func testBatchLastUnits(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	const limit, left, tries = 20, 3, 30
	h := callbackd.Hold{Key: "slot/last", Limit: limit}
	for i := range limit - left {
		create(t, s, withHolds(newCallback(fmt.Sprintf("pre-%02d", i), "svc", "1", t0), h))
	}
	writes := make([]func() error, tries)
	for i := range writes {
		writes[i] = func() error {
			cb := withHolds(newCallback(fmt.Sprintf("try-%02d", i), "svc", "1", t0), h)
			return s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")})
		}
	}
	var ok, full int
	for i, err := range outcomes(t, s, writes...) {
		var le *callbackd.LimitError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &le):
			full++
		default:
			t.Errorf("try-%02d: %v", i, err)
		}
	}
	stored, err := s.FindCallbacks(ctx, callbackd.Query{Service: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if ok != left || full != tries-left || counter(t, s, h.Key) != limit || len(stored) != limit {
		t.Fatalf("accepted %d, refused %d, counter %d, stored %d; want %d accepted of the last %d units, counter and stored %d",
			ok, full, counter(t, s, h.Key), len(stored), left, left, limit)
	}
}

func testBatchCancelled(t *testing.T, s callbackd.Store) {
	if err := s.CreateCallback(cancelled(), newCallback("early", "svc", "1", t0), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("create with a cancelled context: err = %v, want context.Canceled", err)
	}
	g := holdCommits(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.CreateCallback(ctx, newCallback("late", "svc", "1", t0), nil) }()
	var neighbour error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		neighbour = s.CreateCallback(context.Background(), newCallback("kept", "svc", "2", t0), nil)
	}()
	if g.bs != nil {
		g.waitFor("both writes to queue", func() bool { return g.bs.PendingWrites() >= 2 })
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("create cancelled while queued: err = %v, want context.Canceled", err)
	}
	g.open(0)
	wg.Wait()
	if neighbour != nil {
		t.Fatalf("neighbour of a cancelled write: %v", neighbour)
	}
	for id, want := range map[string]bool{"early": false, "late": false, "kept": true} {
		_, err := s.GetCallback(context.Background(), id)
		if stored := err == nil; stored != want {
			t.Errorf("%s stored = %v (%v), want %v", id, stored, err, want)
		}
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func testBatchPanic(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, newCallback("p", "svc", "1", t0))
	var recovered any
	errs := outcomes(t, s,
		func() (err error) {
			defer func() { recovered = recover() }()
			_, err = s.UpdateCallback(ctx, "p", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				cb.Properties["half"] = "written"
				panic("boom")
			})
			return err
		},
		func() error { return s.CreateCallback(ctx, newCallback("beside", "svc", "2", t0), nil) },
	)
	if recovered == nil {
		t.Errorf("a panic in fn did not reach UpdateCallback's caller (err %v)", errs[0])
	}
	if errs[1] != nil {
		t.Errorf("neighbour of a panicking write: %v", errs[1])
	}
	if got, _ := s.GetCallback(ctx, "p"); got == nil || got.Properties["half"] != "" {
		t.Errorf("panicking update left a change: %+v", got)
	}
	if _, err := s.GetCallback(ctx, "beside"); err != nil {
		t.Errorf("neighbour not stored: %v", err)
	}
}

// testTailingReader has writers on many goroutines while a reader tails
// the log as the SSE stream does (AfterSeq = the last seq seen): the
// reader must see every committed event, each once, in seq order.
func testTailingReader(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	var stop atomic.Bool
	var seen []callbackd.Event
	tail := func() {
		after := int64(0)
		if len(seen) > 0 {
			after = seen[len(seen)-1].Seq
		}
		evs, err := s.ListEvents(ctx, callbackd.EventQuery{AfterSeq: after})
		if err != nil {
			t.Error(err)
			return
		}
		seen = append(seen, evs...)
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for !stop.Load() {
			tail()
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				cb := newCallback(fmt.Sprintf("t%d-%02d", w, i), "svc", "1", t0)
				if err := s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(t0, "test")}); err != nil {
					t.Error(err)
				}
				if i%5 == 0 {
					_ = s.AppendEvents(ctx, []callbackd.Event{{Time: t0, CallbackID: cb.ID, Service: "svc", Type: callbackd.EventRejected, Source: "test"}})
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	<-readerDone
	tail() // everything is committed now
	all, err := s.ListEvents(ctx, callbackd.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * (each + each/5); len(all) != want {
		t.Fatalf("%d events stored, want %d", len(all), want)
	}
	if len(seen) != len(all) {
		missed := map[int64]bool{}
		for _, ev := range all {
			missed[ev.Seq] = true
		}
		for _, ev := range seen {
			delete(missed, ev.Seq)
		}
		t.Fatalf("the tailing reader saw %d of %d events; skipped seqs %v", len(seen), len(all), missed)
	}
	for i := range all {
		if seen[i].Seq != all[i].Seq {
			t.Fatalf("event %d: tail saw seq %d, log has %d", i, seen[i].Seq, all[i].Seq)
		}
	}
}

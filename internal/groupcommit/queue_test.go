package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a runner that records its batches and can be held.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	hold    chan struct{} // when set, each batch waits for it
	started chan struct{} // receives once per batch
}

func (rc *recorder) run(batch []*Request[string]) {
	if rc.started != nil {
		rc.started <- struct{}{}
	}
	if rc.hold != nil {
		<-rc.hold
	}
	var ops []string
	for _, r := range batch {
		ops = append(ops, r.Op)
		if r.Op == "fail" {
			r.Err = errors.New("refused")
		}
	}
	rc.mu.Lock()
	rc.batches = append(rc.batches, ops)
	rc.mu.Unlock()
}

func waitPending(t *testing.T, q *Queue[string], n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for q.Pending() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending, want %d", q.Pending(), n)
		}
		time.Sleep(time.Millisecond) // waiting on other goroutines
	}
}

// doAll runs Do for each op on its own goroutine.
func doAll(q *Queue[string], ctx context.Context, ops ...string) (wait func() []error) {
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = q.Do(ctx, op) }()
	}
	return func() []error { wg.Wait(); return errs }
}

func TestLoneRequestRunsAlone(t *testing.T) {
	rc := &recorder{}
	q := New(Options[string]{Workers: 1, MaxBatch: 10, Run: rc.run})
	defer q.Close()
	if err := q.Do(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := q.Do(context.Background(), "fail"); err == nil || err.Error() != "refused" {
		t.Fatalf("err = %v, want the runner's", err)
	}
	if fmt.Sprint(rc.batches) != "[[a] [fail]]" {
		t.Fatalf("batches %v", rc.batches)
	}
}

// TestArrivalsDuringARunShareTheNext holds the runner on a first request;
// the requests that arrive meanwhile form the next batch, up to MaxBatch,
// and each gets its own outcome.
func TestArrivalsDuringARunShareTheNext(t *testing.T) {
	rc := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 10)}
	q := New(Options[string]{Workers: 1, MaxBatch: 4, Run: rc.run})
	defer q.Close()
	first := doAll(q, context.Background(), "first")
	<-rc.started
	rest := []string{"b", "fail", "d", "e", "f"}
	var waits []func() []error
	for i, op := range rest { // one at a time, to know the queue's order
		waits = append(waits, doAll(q, context.Background(), op))
		waitPending(t, q, i+1)
	}
	close(rc.hold)
	first()
	var errs []error
	for _, w := range waits {
		errs = append(errs, w()...)
	}
	if fmt.Sprint(rc.batches) != "[[first] [b fail d e] [f]]" {
		t.Fatalf("batches %v, want the arrivals in batches of at most 4", rc.batches)
	}
	for i, err := range errs {
		if (err != nil) != (rest[i] == "fail") {
			t.Errorf("%s: err = %v", rest[i], err)
		}
	}
	if b, r := q.Stats(); b != 3 || r != 6 {
		t.Errorf("stats %d batches, %d requests", b, r)
	}
}

func TestSameKeyWaitsForTheNextBatch(t *testing.T) {
	rc := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 10)}
	q := New(Options[string]{Workers: 1, MaxBatch: 10, Run: rc.run, Key: func(op string) string { return op[:1] }})
	defer q.Close()
	first := doAll(q, context.Background(), "z")
	<-rc.started
	var waits []func() []error
	for i, op := range []string{"x1", "y1", "x2", "y2", "w"} {
		waits = append(waits, doAll(q, context.Background(), op))
		waitPending(t, q, i+1)
	}
	close(rc.hold)
	first()
	for _, w := range waits {
		w()
	}
	if fmt.Sprint(rc.batches) != "[[z] [x1 y1 w] [x2 y2]]" {
		t.Fatalf("batches %v", rc.batches)
	}
}

func TestCancelledBeforeItsTurnIsNotRun(t *testing.T) {
	rc := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 10)}
	q := New(Options[string]{Workers: 1, MaxBatch: 10, Run: rc.run})
	defer q.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Do(ctx, "dead"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	first := doAll(q, context.Background(), "first")
	<-rc.started
	ctx, cancel = context.WithCancel(context.Background())
	waitQueued := doAll(q, ctx, "queued")
	waitPending(t, q, 1)
	cancel()
	if errs := waitQueued(); !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled while queued", errs[0])
	}
	other := doAll(q, context.Background(), "other")
	close(rc.hold)
	first()
	other()
	if fmt.Sprint(rc.batches) != "[[first] [other]]" {
		t.Fatalf("batches %v: a cancelled request ran", rc.batches)
	}
}

func TestCloseRunsWhatIsQueued(t *testing.T) {
	rc := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 10)}
	q := New(Options[string]{Workers: 2, MaxBatch: 10, Run: rc.run})
	a := doAll(q, context.Background(), "a")
	<-rc.started
	b := doAll(q, context.Background(), "b")
	<-rc.started // both workers busy
	c := doAll(q, context.Background(), "c", "d")
	waitPending(t, q, 2)
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	waitClosed(t, q)
	if err := q.Do(context.Background(), "late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
	close(rc.hold)
	<-closed
	for _, w := range []func() []error{a, b, c} {
		for _, err := range w() {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var ran []string
	for _, b := range rc.batches {
		ran = append(ran, b...)
	}
	slices.Sort(ran)
	if fmt.Sprint(ran) != "[a b c d]" {
		t.Fatalf("ran %v", ran)
	}
}

func waitClosed(t *testing.T, q *Queue[string]) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		q.mu.Lock()
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not start")
		}
		time.Sleep(time.Millisecond) // waiting on another goroutine
	}
}

func TestPanicReachesItsCaller(t *testing.T) {
	q := New(Options[string]{Workers: 1, MaxBatch: 10, Run: func(batch []*Request[string]) {
		for _, r := range batch {
			r.Err = Call(func() error {
				if r.Op == "boom" {
					panic("boom")
				}
				return nil
			})
		}
	}})
	defer q.Close()
	func() {
		defer func() {
			pe, ok := recover().(*PanicError)
			if !ok || pe.Value != "boom" {
				t.Fatalf("recovered %v, want the write's panic", pe)
			}
		}()
		_ = q.Do(context.Background(), "boom")
		t.Fatal("Do returned after a panic")
	}()
	if err := q.Do(context.Background(), "fine"); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
}

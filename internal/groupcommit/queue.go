// Package groupcommit lets concurrent writes share one transaction, hence
// one fsync. A disk takes about a thousand fsyncs a second; a store that
// commits each request on its own is bounded by that, whatever the CPU.
//
// Callers hand a write to Queue.Do and wait. A few workers (one for SQLite's
// single writer, a handful over a PostgreSQL pool) each take everything
// pending, up to a bound, and give it to the store's runner, which runs the
// writes in one transaction, each in its own savepoint, commits once and
// sets every request's result. Do returns only after that: no write is
// acknowledged before the commit that holds it is durable.
//
// Nothing waits for a batch to fill: a worker that finds one request runs
// it at once. Batches grow by themselves under load, from the requests that
// arrive while a commit is in flight, so an idle store adds no latency and
// a busy one commits many requests per fsync.
//
// A caller whose context ends before its request is taken gets ctx.Err()
// and its write is never run. Once taken, a write runs to the end: its
// statements share a transaction with other callers' writes, so they run
// under context.WithoutCancel, and the caller waits for the outcome, which
// is then the truth about what was stored.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("store closed")

// Request is one caller's write, as the runner sees it.
type Request[T any] struct {
	// Op is what the caller asked for.
	Op T
	// Err is the outcome the runner sets: nil once committed, or why not.
	Err error

	ctx   context.Context
	state atomic.Int32
	done  chan struct{}
}

const (
	pending int32 = iota
	taken
	abandoned
)

// Context is the caller's context without its cancellation: values pass
// through, but one caller giving up must not interrupt a statement of a
// transaction other callers share.
func (r *Request[T]) Context() context.Context { return context.WithoutCancel(r.ctx) }

// Queue gathers writes into batches for its workers.
type Queue[T any] struct {
	run      func(batch []*Request[T])
	key      func(T) string
	maxBatch int

	mu      sync.Mutex
	cond    *sync.Cond
	pending []*Request[T]
	closed  bool
	wg      sync.WaitGroup
	// batches and requests count what the workers ran, for benchmarks and
	// tests of the batching itself.
	batches, requests atomic.Int64
}

// Options configure a Queue.
type Options[T any] struct {
	// Workers run batches at the same time (at least 1).
	Workers int
	// MaxBatch bounds the requests of one batch (at least 1).
	MaxBatch int
	// Key, when set, keeps two requests with the same non-empty key out of
	// one batch: the later one waits for a later batch. A store whose
	// runner reads every record of a batch before writing any needs that.
	Key func(T) string
	// Run runs a batch and sets each request's Err. It returns once the
	// outcome is final (committed or not).
	Run func(batch []*Request[T])
}

// New starts the workers of a queue.
func New[T any](o Options[T]) *Queue[T] {
	q := &Queue[T]{run: o.Run, key: o.Key, maxBatch: max(o.MaxBatch, 1)}
	q.cond = sync.NewCond(&q.mu)
	for range max(o.Workers, 1) {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Do queues op and waits for its outcome. A panic in the runner's call of
// op (see Call) is raised again here, in the caller's goroutine, as it
// would have been without the queue.
func (q *Queue[T]) Do(ctx context.Context, op T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &Request[T]{Op: op, ctx: ctx, done: make(chan struct{})}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.pending = append(q.pending, r)
	q.mu.Unlock()
	q.cond.Signal()
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, abandoned) {
			return ctx.Err() // never taken: never run
		}
		<-r.done // taken: the outcome is on its way
	}
	var pe *PanicError
	if errors.As(r.Err, &pe) {
		panic(pe)
	}
	return r.Err
}

// Close stops taking new writes, runs every pending one, and waits for the
// workers to finish. Calling it again does nothing.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
	q.wg.Wait()
}

// Pending is the number of requests queued and not yet taken by a worker.
func (q *Queue[T]) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// Stats says how many batches and requests the workers ran.
func (q *Queue[T]) Stats() (batches, requests int64) {
	return q.batches.Load(), q.requests.Load()
}

func (q *Queue[T]) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.pending) == 0 {
			q.mu.Unlock()
			return // closed and drained
		}
		batch, expired := q.take()
		more := len(q.pending) > 0
		q.mu.Unlock()
		if more {
			q.cond.Signal() // another worker may run the rest meanwhile
		}
		for _, r := range expired {
			close(r.done)
		}
		if len(batch) == 0 {
			continue
		}
		q.runBatch(batch)
		q.batches.Add(1)
		q.requests.Add(int64(len(batch)))
		for _, r := range batch {
			close(r.done)
		}
	}
}

// take removes from the queue, in order, up to maxBatch requests that can
// share a batch. Requests whose caller gave up are dropped; those whose
// context ended are answered with its error (expired) and not run. q.mu is
// held.
func (q *Queue[T]) take() (batch, expired []*Request[T]) {
	var keys map[string]bool
	rest := q.pending[:0]
	for i, r := range q.pending {
		if len(batch) == q.maxBatch {
			rest = append(rest, q.pending[i:]...)
			break
		}
		if r.state.Load() == abandoned {
			continue
		}
		var k string
		if q.key != nil {
			if k = q.key(r.Op); k != "" && keys[k] {
				rest = append(rest, r)
				continue
			}
		}
		if !r.state.CompareAndSwap(pending, taken) {
			continue // abandoned just now
		}
		if err := r.ctx.Err(); err != nil {
			r.Err = err
			expired = append(expired, r)
			continue
		}
		if k != "" {
			if keys == nil {
				keys = map[string]bool{}
			}
			keys[k] = true
		}
		batch = append(batch, r)
	}
	clear(q.pending[len(rest):])
	q.pending = rest
	return batch, expired
}

// runBatch runs a batch; a panic of the runner itself (a bug) answers
// every request with it, so that each caller panics rather than hangs.
func (q *Queue[T]) runBatch(batch []*Request[T]) {
	defer func() {
		if v := recover(); v != nil {
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			for _, r := range batch {
				r.Err = pe
			}
		}
	}()
	q.run(batch)
}

// PanicError carries a panic from a write's code to its caller.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic in a write: %v\n%s", e.Value, e.Stack) }

// Call runs a caller's code (the fn of a write) inside a runner and turns
// a panic into a *PanicError, so that the runner can roll back that write
// alone and Do can raise the panic in the caller.
func Call(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

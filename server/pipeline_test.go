package server_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/dispatch"
)

// claimWatch is the store with a signal for every claim that took a
// callback.
type claimWatch struct {
	callbackd.Store
	claimed chan int
}

func (s claimWatch) ClaimDue(ctx context.Context, q callbackd.ClaimQuery, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) ([]*callbackd.Callback, error) {
	got, err := s.Store.ClaimDue(ctx, q, fn)
	if len(got) > 0 {
		s.claimed <- len(got)
	}
	return got, err
}

// heldExecutor accepts every submission once release is closed, and
// tells of each on submitted.
type heldExecutor struct {
	release   chan struct{}
	submitted chan string
}

func (e heldExecutor) Submit(_ context.Context, s callbackd.Submission) (string, error) {
	e.submitted <- s.IdempotencyKey
	<-e.release
	return "S-" + s.IdempotencyKey, nil
}

func (heldExecutor) Cancel(context.Context, *callbackd.Callback) error { return nil }

// TestLoopClaimsWhileSubmitting: the dispatch loop claims the next batch
// while the previous one is still being submitted, instead of waiting for
// its slowest submission, and every callback still goes out once, under
// attempt 1, with its result recorded before Stop returns.
func TestLoopClaimsWhileSubmitting(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	const n = 4
	var ids []string
	for i := range n {
		ids = append(ids, h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10*time.Minute + time.Duration(i)*time.Second)}))
	}
	h.clock.Set(t0.Add(time.Hour))
	store := claimWatch{Store: h.srv.Store(), claimed: make(chan int, 2*n)}
	exec := heldExecutor{release: make(chan struct{}), submitted: make(chan string, n)}
	d := dispatch.New(dispatch.Options{Store: store, Executor: exec, Clock: h.clock, Config: h.srv.Config, Policy: h.srv.Manager().Policy,
		Owner: "pipelined", Workers: 1, Batch: 1, Lease: time.Minute, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d.Start()
	release := sync.OnceFunc(func() { close(exec.release) })
	stop := sync.OnceFunc(d.Stop)
	defer stop()
	defer release()                          // before Stop, which waits for submissions in flight
	watchdog := time.After(10 * time.Second) // fails a lockstep loop instead of hanging
	first := ""
	select {
	case first = <-exec.submitted:
	case <-watchdog:
		t.Fatal("nothing submitted")
	}
	for claims := 0; claims < 2; {
		select {
		case <-store.claimed:
			claims++
		case <-watchdog:
			t.Fatalf("%d claims while the first submission (%s) is in flight, want a second one", claims, first)
		}
	}
	release()
	for range n - 1 {
		select {
		case <-exec.submitted:
		case <-watchdog:
			t.Fatal("not every callback submitted")
		}
	}
	stop()
	for _, id := range ids {
		cb := h.stored(id)
		if cb.SessionID != "S-"+id+"-1" || cb.SubmitAttempts != 1 {
			t.Errorf("%s: session %q after %d attempts, want S-%s-1 after 1", id, cb.SessionID, cb.SubmitAttempts, id)
		}
	}
	if extra := len(exec.submitted); extra != 0 {
		t.Errorf("%d submissions more than callbacks", extra)
	}
}

package server_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/dispatch"
)

// TestClaimHandedBackWhenLeaseNearlyOver: a node claims two callbacks but
// has one worker, and the platform takes more than half the lease on the
// first. The second is not submitted on a lease that another node may
// soon take as expired: it is handed back with its attempt number unused,
// and goes out under that number (key -1) on the next claim.
func TestClaimHandedBackWhenLeaseNearlyOver(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	ctx := context.Background()
	first := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10 * time.Minute)})
	second := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10*time.Minute + time.Second)})
	due := h.stored(second).DueAt
	h.clock.Set(t0.Add(10 * time.Minute))
	d := dispatch.New(dispatch.Options{Store: h.srv.Store(), Executor: executorOf(h), Clock: h.clock, Config: h.srv.Config, Policy: h.srv.Manager().Policy,
		Owner: "one-worker", Workers: 1, Batch: 2, Lease: time.Minute, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p.hold, p.received = make(chan struct{}), make(chan struct{})
	release, received := p.hold, p.received
	done := make(chan int)
	go func() { n, _ := d.RunOnce(ctx); done <- n }()
	<-received
	h.clock.Advance(31 * time.Second) // the platform is slow
	close(release)
	if n := <-done; n != 2 {
		t.Fatalf("claimed %d, want both", n)
	}
	if subs := p.submissions(); len(subs) != 1 || subs[0] != first+"-1" {
		t.Fatalf("submissions %v, want only %s-1", subs, first)
	}
	cb := h.stored(second)
	if cb.SubmitAttempts != 0 || cb.LeaseOwner != "" || !cb.LeaseUntil.IsZero() || !cb.DueAt.Equal(due) || cb.State != callbackd.StateQueued {
		t.Fatalf("handed-back record %+v; want attempt 0, no lease, due %v", cb, due)
	}
	if n, err := d.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("next claim took %d (%v), want the handed-back one", n, err)
	}
	if subs := p.submissions(); len(subs) != 2 || subs[1] != second+"-1" || p.duplicates() != nil {
		t.Fatalf("submissions %v, want %s-1 second", subs, second)
	}
}

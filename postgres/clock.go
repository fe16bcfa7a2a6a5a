package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

// Clock is the database server's clock, read on this node without a round
// trip. Every node of a deployment that uses it agrees on "now" within a
// few milliseconds, whatever its own wall clock says, so a callback falls
// due at the same instant for every node and a lease ends at the same
// instant for its owner and for the node that rescues it. A node whose
// clock is ten minutes fast neither dispatches ten minutes early nor takes
// a live lease as expired.
//
// Clock samples the server's clock_timestamp() and remembers it against
// the local clock at the midpoint of the round trip; Now adds the local
// time elapsed since. With callbackd.SystemClock underneath, the elapsed
// time comes from Go's monotonic clock, so a step of the machine's wall
// clock (NTP, an operator) does not move Now either. The error is at most
// half the round trip of the sample, plus the drift of the local oscillator
// since; Sync takes a new sample, and keeps the old one when it is still
// the more precise.
//
// When the database cannot be reached, Sync fails and Now goes on from the
// last sample: the node keeps the database's time while it waits for it.
type Clock struct {
	store *Store
	local callbackd.Clock
	cur   atomic.Pointer[clockSample]
}

var _ callbackd.Clock = (*Clock)(nil)

// clockSample is one reading of the server's clock.
type clockSample struct {
	server time.Time     // the server's clock_timestamp()
	local  time.Time     // the local clock at the midpoint of the round trip
	rtt    time.Duration // the round trip: server lies within local ± rtt/2
}

// Sampling parameters.
const (
	// clockSamples are taken per Sync, on one connection; the one with the
	// shortest round trip wins (the first may pay for a cold connection).
	clockSamples = 5
	// clockDriftPPM bounds how fast two oscillators drift apart (quartz:
	// tens of ppm), in parts per million. It ages a sample's precision.
	clockDriftPPM = 200
)

// NewClock returns the clock of the server s is connected to, as seen
// through local (the machine's clock; tests skew it). It takes a first
// sample, so it fails when the server cannot be reached.
func NewClock(ctx context.Context, s *Store, local callbackd.Clock) (*Clock, error) {
	c := &Clock{store: s, local: local}
	if err := c.Sync(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Now returns the server's time as of now.
func (c *Clock) Now() time.Time {
	s := c.cur.Load()
	return s.server.Add(c.local.Now().Sub(s.local))
}

// Offset is how far the server's clock is ahead of the local wall clock
// (negative when the local clock is fast). It is for the log: callbackd
// never adds it to the local clock's readings.
func (c *Clock) Offset() time.Duration {
	s := c.cur.Load()
	return s.server.Sub(s.local.Round(0))
}

// Uncertainty bounds the error of Now: half the round trip of the sample
// in use, plus the drift since it was taken.
func (c *Clock) Uncertainty() time.Duration {
	return c.cur.Load().bound(c.local.Now())
}

// Sync takes clockSamples readings of the server's clock and keeps the
// best one (see choose). It returns SERVICE_UNAVAILABLE when the server
// cannot be reached; Now then goes on from the previous sample.
func (c *Clock) Sync(ctx context.Context) error {
	var best *clockSample
	err := c.store.retry(ctx, func() error {
		conn, err := c.store.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		for range clockSamples {
			var server time.Time
			before := c.local.Now()
			// The simple protocol makes this one round trip, with no
			// statement preparation inside the measured interval.
			err := conn.QueryRow(ctx, `SELECT clock_timestamp()`, pgx.QueryExecModeSimpleProtocol).Scan(&server)
			after := c.local.Now()
			if err != nil {
				return err
			}
			rtt := max(after.Sub(before), 0)
			s := &clockSample{server: server.UTC(), local: before.Add(rtt / 2), rtt: rtt}
			if best == nil || s.rtt < best.rtt {
				best = s
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: reading the server's clock: %w", err)
	}
	c.cur.Store(choose(c.cur.Load(), best))
	return nil
}

// bound is the error of s when read at local time now: half its round
// trip, plus the drift of the local clock since it was taken.
func (s *clockSample) bound(now time.Time) time.Duration {
	age := max(now.Sub(s.local), 0)
	return s.rtt/2 + age/1_000_000*clockDriftPPM
}

// choose returns the sample Now should use after a new reading: the more
// precise of the two, unless they contradict each other (the old sample's
// prediction misses the new reading by more than both bounds), which
// means the server's clock was stepped: then the new one, since every node
// follows the server's clock as it is now.
func choose(old, fresh *clockSample) *clockSample {
	if old == nil {
		return fresh
	}
	predicted := old.server.Add(fresh.local.Sub(old.local))
	miss := fresh.server.Sub(predicted)
	if miss < 0 {
		miss = -miss
	}
	oldBound := old.bound(fresh.local)
	if miss > oldBound+fresh.rtt/2 || fresh.rtt/2 <= oldBound {
		return fresh
	}
	return old
}

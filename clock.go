package callbackd

import (
	"sync"
	"time"
)

// Clock is the only source of "now". Production uses SystemClock; tests use
// a ManualClock and move it, so no test ever sleeps for time to pass.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the machine's clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that only moves when told to. It is safe for
// concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

// waiter is one After channel of a ManualClock, fired when the clock
// reaches at.
type waiter struct {
	at time.Time
	c  chan time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, and fires the After channels it reaches.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.fire()
	c.mu.Unlock()
}

// Advance moves the clock forward by d, and fires the After channels it
// reaches.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.fire()
	c.mu.Unlock()
}

// After returns a channel that receives the clock's time once the clock
// has been moved d past now; d <= 0 fires at once.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), c: ch})
	c.fire()
	return ch
}

// Waiters counts the After channels not fired yet: a test waits until the
// code under test is waiting on the clock before it moves it.
func (c *ManualClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// fire sends on the waiters the clock has reached; c.mu is held.
func (c *ManualClock) fire() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.c <- c.now
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}

// After returns a channel that receives a time once d has passed on
// clock c: on a ManualClock when a test moves it that far, on any other
// clock after d of real time (the database's clock runs at the machine's
// pace). Timeouts of the execution engine (an agent's answer, a ring) are
// waited for with it, so tests move time instead of sleeping.
func After(c Clock, d time.Duration) <-chan time.Time {
	if a, ok := c.(interface {
		After(time.Duration) <-chan time.Time
	}); ok {
		return a.After(d)
	}
	return time.After(d)
}

// Stopwatch starts measuring a duration (a request's latency, a store
// call's) and returns the function that reads it. It runs on the
// machine's monotonic clock, not on a Clock: a Clock tells business time,
// which tests stop and move, while latency is how long the work really
// took.
func Stopwatch() func() time.Duration {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}

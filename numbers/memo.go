package numbers

import "sync"

// normalized remembers recent Normalize results. One Start-Callback
// request normalizes its customer number three or four times (lookup key,
// in-queue hold, daily limit, exception check), each a libphonenumber
// parse of about 20 µs; Policy.Check, which parses the number first,
// leaves its E.164 form here. Normalize is a pure function, so a
// remembered answer is the answer.
var normalized = memo{max: 4096}

// memo is a bounded map from (number, country) to E.164; when full it
// starts over, which is cheap and keeps the recent entries that matter
// (those of requests in flight).
type memo struct {
	mu  sync.Mutex
	max int
	m   map[memoKey]string
}

type memoKey struct{ number, country string }

func (c *memo) get(number, country string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[memoKey{number, country}]
	return v, ok
}

func (c *memo) put(number, country, e164 string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[memoKey]string, c.max)
	}
	c.m[memoKey{number, country}] = e164
}

package loadgen

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
)

// Numbers hands out customer numbers that are possible US numbers (the
// default _default_country): ten digits, area codes 200-799, so none is
// premium-rate (900) and every one passes _disallow_impossible_phone_numbers
// and _disallow_premium_phone_numbers. Each number is given out once, so
// in-queue checking and the per-number daily throttle never refuse a
// request of the load; a random start keeps two runs on one store apart
// (a run of a million numbers overlaps another with odds of 1 in 6,000).
type Numbers struct {
	base uint64
	next atomic.Uint64
}

const (
	numbersFirst = 2_000_000_000 // (200) 000-0000
	numbersSpan  = 6_000_000_000 // up to (799) 999-9999
)

// NewNumbers starts the sequence at seed (any value; it wraps).
func NewNumbers(seed uint64) *Numbers { return &Numbers{base: seed % numbersSpan} }

// NewRandomNumbers starts the sequence at a random place.
func NewRandomNumbers() *Numbers { return NewNumbers(rand.Uint64()) }

// Next returns a number never returned before by this sequence.
func (n *Numbers) Next() string {
	k := n.next.Add(1) - 1
	return strconv.FormatUint(numbersFirst+(n.base+k)%numbersSpan, 10)
}

// created is a scheduled callback of the run, which queries, reschedules
// and cancels work on.
type created struct {
	id, number string
}

// pool holds the run's scheduled callbacks. Reschedule and cancel take one
// out while they work on it, so two requests never race on one callback
// (that would be refused as the spec says, and counted as an error of the
// service); reschedule puts it back, cancel does not.
type pool struct {
	mu    sync.Mutex
	items []created
	limit int
}

// poolLimit bounds the memory a long run or a large preload spends on
// callbacks to pick from.
const poolLimit = 100_000

func (p *pool) put(c created) {
	p.mu.Lock()
	if len(p.items) < p.limit {
		p.items = append(p.items, c)
	}
	p.mu.Unlock()
}

// take removes a random callback; ok is false when there is none.
func (p *pool) take(r *rand.Rand) (created, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items) == 0 {
		return created{}, false
	}
	i := r.IntN(len(p.items))
	c := p.items[i]
	p.items[i] = p.items[len(p.items)-1]
	p.items = p.items[:len(p.items)-1]
	return c, true
}

// peek returns a random callback and leaves it in the pool.
func (p *pool) peek(r *rand.Rand) (created, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items) == 0 {
		return created{}, false
	}
	return p.items[r.IntN(len(p.items))], true
}

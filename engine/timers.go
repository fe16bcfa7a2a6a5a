package engine

import (
	"container/heap"
	"time"
)

// Timer kinds: what the engine does when a timer is due.
const (
	timerQueueTTL = iota // a waiting callback reached _urs_queued_ttl, or a customer on hold _max_time_to_wait_for_agent_on_the_call
	timerEligible        // a delayed callback may be offered again
	timerRedial          // a customer-first callback dials again (_dial_retry_timeout)
)

// timer is one deadline of a job. gen is the job's generation when the
// timer was set: a job that moved on since (offered, cancelled) has a
// newer generation, and its old timers do nothing when they fire.
type timer struct {
	at   time.Time
	kind int
	j    *job
	gen  int
}

// timerHeap holds every deadline of waiting callbacks, earliest first, so
// that 100,000 waiting callbacks cost one heap and one clock wait, not a
// goroutine each.
type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return t
}

// add sets a timer for j at its current generation.
func (h *timerHeap) add(at time.Time, kind int, j *job) {
	heap.Push(h, timer{at: at, kind: kind, j: j, gen: j.gen})
}

// due pops the timers due at now that still apply.
func (h *timerHeap) due(now time.Time) []timer {
	var out []timer
	for len(*h) > 0 && !(*h)[0].at.After(now) {
		t := heap.Pop(h).(timer)
		if t.gen == t.j.gen {
			out = append(out, t)
		}
	}
	return out
}

// next is when the earliest timer is due (zero when none).
func (h timerHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].at
}

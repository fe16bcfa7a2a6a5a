package engine

import (
	"container/heap"
	"time"

	"github.com/callbackd/callbackd"
)

// rank is a callback's place in its virtual queue: higher class first,
// then the earlier virtual entry time, then the id, so the order is total
// and the same on every node and after every restart.
//
// GMS raises a waiting callback's priority by _urs_vq_priority_increment
// every _urs_vq_priority_increment_interval seconds. Two callbacks whose
// priorities grow at the same pace keep the same difference for ever, so
// their order never changes while they wait: a priority p higher is worth
// p × interval / increment of waiting. rank folds that into the entry
// time once, at entry, and the queue needs no re-sorting as time passes.
// Without an increment, priority is a strict class above entry time.
type rank struct {
	class int
	vt    int64 // virtual entry time, unix milliseconds
	id    string
}

func (a rank) less(b rank) bool {
	if a.class != b.class {
		return a.class > b.class
	}
	if a.vt != b.vt {
		return a.vt < b.vt
	}
	return a.id < b.id
}

// rankOf computes the rank of a callback entering a queue.
func rankOf(o callbackd.ServiceOptions, priority int, entered time.Time, id string) rank {
	if inc, every := o.VQPriorityIncrement, o.VQPriorityIncrementInterval; inc > 0 && every > 0 {
		return rank{vt: entered.UnixMilli() - int64(priority)*every.Milliseconds()/int64(inc), id: id}
	}
	return rank{class: priority, vt: entered.UnixMilli(), id: id}
}

// vqueue is one virtual queue: the callbacks that may be offered now, in
// rank order (a heap), and those that must wait a while first (a reject's
// or a failed dial's retry timeout), which the timers move in when due.
type vqueue struct {
	name    string
	ready   jobHeap
	delayed map[*job]struct{}
}

func newQueue(name string) *vqueue { return &vqueue{name: name, delayed: map[*job]struct{}{}} }

// waiting counts every callback in the queue, offerable or not.
func (q *vqueue) waiting() int { return len(q.ready) + len(q.delayed) }

// first is the callback to offer next, or nil.
func (q *vqueue) first() *job {
	if len(q.ready) == 0 {
		return nil
	}
	return q.ready[0]
}

func (q *vqueue) push(j *job, now time.Time) {
	j.queue = q
	if j.notBefore.After(now) {
		q.delayed[j] = struct{}{}
		return
	}
	heap.Push(&q.ready, j)
}

// remove takes j out of the queue, wherever it is in it.
func (q *vqueue) remove(j *job) {
	if j.idx >= 0 {
		heap.Remove(&q.ready, j.idx)
	}
	delete(q.delayed, j)
	j.queue = nil
}

// release moves a delayed callback whose wait is over to the offerable ones.
func (q *vqueue) release(j *job) {
	if _, ok := q.delayed[j]; ok {
		delete(q.delayed, j)
		heap.Push(&q.ready, j)
	}
}

// position is 1 + the callbacks ahead of j, offerable or not.
func (q *vqueue) position(j *job) int {
	n := 1
	for _, o := range q.ready {
		if o != j && o.rank.less(j.rank) {
			n++
		}
	}
	for o := range q.delayed {
		if o != j && o.rank.less(j.rank) {
			n++
		}
	}
	return n
}

// jobHeap orders offerable callbacks by rank (container/heap).
type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].rank.less(h[j].rank) }
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *jobHeap) Push(x any) {
	j := x.(*job)
	j.idx = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	j.idx = -1
	return j
}

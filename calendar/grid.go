package calendar

import (
	"slices"
	"time"
)

// ProposalHorizon bounds how far Propose looks on each side of the desired
// time, so that a calendar that is closed or full for good answers "nothing"
// quickly instead of searching forever.
const ProposalHorizon = 14 * 24 * time.Hour

// Grid is the slot grid of one callback service: its _request_time_bucket,
// its office hours and its capacity. Everything the availability query, the
// booking check and the slot proposals need is computed from it, so they
// cannot disagree with one another.
type Grid struct {
	// Bucket is the slot length in minutes (_request_time_bucket); an
	// invalid value is read as DefaultBucket.
	Bucket int
	// Hours is the office calendar (_business_hours_service); nil means
	// always open.
	Hours *OfficeHours
	// Capacity is the capacity table (_capacity_service); nil means every
	// open slot holds Max.
	Capacity *Capacity
	// Max is _max_request_by_time_bucket, used only without Capacity.
	Max int
}

// Slot is one time slot (bucket) of a grid: [Start, End) in UTC, and how many
// callbacks it holds in total, before subtracting the ones already booked.
type Slot struct {
	Start, End time.Time
	Total      int
}

// SlotAvailability is a proposed slot, keyed by its start as clients expect
// in the "availability" map of an error body, with the room left in it.
type SlotAvailability struct {
	Start     time.Time
	Remaining int
	Total     int
}

// Location returns the zone the grid's slots are aligned in: the office's
// zone, else the capacity service's, else UTC.
func (g Grid) Location() *time.Location {
	switch {
	case g.Hours != nil:
		return g.Hours.Location()
	case g.Capacity != nil:
		return g.Capacity.Location()
	}
	return time.UTC
}

// Slots returns, in ascending order, every slot overlapping [from, to) that
// the office offers, i.e. whose start lies in an open period (a slot cut by
// an opening or closing time counts when its start is open). The slot that
// contains from is included even though it started earlier. Slots whose
// Total is 0 are included: they are open but hold nothing, and callers decide
// whether to show them. The cost is linear in the window (a week of 5-minute
// slots takes tens of microseconds); callers bound windows clients choose.
func (g Grid) Slots(from, to time.Time) []Slot {
	if !from.Before(to) {
		return nil
	}
	size := bucketSeconds(g.Bucket)
	r := newResolver(g.Location())
	lo, hi := bucketStartUnix(r, unixFloor(from), size), unixCeil(to)
	open := g.Hours.openSpans(r, lo, hi)
	if len(open) == 0 {
		return nil
	}
	var openSeconds int64
	for _, s := range open {
		openSeconds += max(0, min(s.end, hi)-max(s.start, lo))
	}
	out := make([]Slot, 0, max(0, openSeconds/size)+int64(len(open))+1)
	ce := g.capacityEval()
	j := 0
	for s := lo; s < hi && j < len(open); {
		for j < len(open) && open[j].end <= s {
			j++
		}
		if j == len(open) {
			break
		}
		if open[j].start > s {
			// Skip the closed stretch: go to the slot containing the next opening.
			if jump := bucketStartUnix(r, open[j].start, size); jump > s {
				s = jump
				continue
			}
		}
		e := nextBoundary(r, s, size)
		if open[j].start <= s {
			out = append(out, Slot{Start: fromUnix(s), End: fromUnix(e), Total: g.total(ce, s)})
		}
		s = e
	}
	return out
}

// SlotAt returns the slot containing t and whether the office offers it (its
// start is open, as in Slots). Total is 0 when it is not offered.
func (g Grid) SlotAt(t time.Time) (Slot, bool) {
	size := bucketSeconds(g.Bucket)
	r := newResolver(g.Location())
	s := bucketStartUnix(r, unixFloor(t), size)
	slot := Slot{Start: fromUnix(s), End: fromUnix(nextBoundary(r, s, size))}
	for _, o := range g.Hours.openSpans(r, s, s+1) {
		if o.start <= s && s < o.end {
			slot.Total = g.total(g.capacityEval(), s)
			return slot, true
		}
	}
	return slot, false
}

// Propose finds the slots to offer instead of the one containing t (closed
// or full): up to maxEachSide open slots with room left (Total minus used > 0)
// before t and up to maxEachSide after it, the nearest first, never starting
// before notBefore (pass "now" so nothing in the past is offered) and never
// further than ProposalHorizon from t. The slot containing t is never
// proposed. used reports the callbacks already booked in the slot starting at
// the given instant (nil: none). The result is in ascending order.
func (g Grid) Propose(t time.Time, used func(bucketStart time.Time) int, maxEachSide int, notBefore time.Time) []SlotAvailability {
	if maxEachSide <= 0 {
		return nil
	}
	size := bucketSeconds(g.Bucket)
	r := newResolver(g.Location())
	cur := bucketStartUnix(r, unixFloor(t), size)
	curStart, curEnd := fromUnix(cur), fromUnix(nextBoundary(r, cur, size))
	room := func(s Slot) (SlotAvailability, bool) {
		if s.Start.Before(notBefore) || s.Total <= 0 {
			return SlotAvailability{}, false
		}
		n := 0
		if used != nil {
			n = used(s.Start)
		}
		if s.Total-n <= 0 {
			return SlotAvailability{}, false
		}
		return SlotAvailability{Start: s.Start, Remaining: s.Total - n, Total: s.Total}, true
	}
	const window = 24 * time.Hour

	var before []SlotAvailability
	limit := curStart.Add(-ProposalHorizon)
	for end := curStart; len(before) < maxEachSide && end.After(limit) && end.After(notBefore); {
		start := end.Add(-window)
		if start.Before(limit) {
			start = limit
		}
		slots := g.Slots(start, end)
		for i := len(slots) - 1; i >= 0 && len(before) < maxEachSide; i-- {
			if slots[i].Start.Before(start) {
				continue // belongs to the next, earlier window
			}
			if a, ok := room(slots[i]); ok {
				before = append(before, a)
			}
		}
		end = start
	}
	slices.Reverse(before)

	var after []SlotAvailability
	limit = curStart.Add(ProposalHorizon)
	for start := curEnd; len(after) < maxEachSide && start.Before(limit); {
		end := start.Add(window)
		if end.After(limit) {
			end = limit
		}
		for _, s := range g.Slots(start, end) {
			if len(after) == maxEachSide {
				break
			}
			if s.Start.Before(start) {
				continue // already seen in the previous window
			}
			if a, ok := room(s); ok {
				after = append(after, a)
			}
		}
		start = end
	}
	return append(before, after...)
}

func (g Grid) capacityEval() *capEval {
	if g.Capacity == nil {
		return nil
	}
	return &capEval{c: g.Capacity, r: newResolver(g.Capacity.Location())}
}

// total is the capacity of the slot starting at u (Unix seconds).
func (g Grid) total(ce *capEval, u int64) int {
	if ce == nil {
		return g.Max
	}
	return ce.at(u)
}

package calendar

import (
	"math"
	"time"
)

// Period is one stretch of open time, [Start, End) in UTC. Callers get
// periods rather than a yes/no per minute so that a week is a handful of
// values and "is it open at t" is a binary search away.
type Period struct {
	Start, End time.Time
}

// Reasons Status gives for a closed office. They are the strings the original
// system puts in {"status":"closed","reason":...}, which clients match on.
const (
	// ReasonClosedDayOfWeek: the office has no hours at all on that local
	// day (no regular rule for the weekday and no _bh_add for the date).
	ReasonClosedDayOfWeek = "closed_day_of_week"
	// ReasonClosedNoMatch: the day has hours but the instant is outside
	// them, or a holiday or the effective dates close it.
	ReasonClosedNoMatch = "closed_no_match"
)

// Location returns the office's time zone, in which its hours are read and
// in which time slots are aligned. A nil office is in UTC.
func (o *OfficeHours) Location() *time.Location {
	if o == nil || o.loc == nil {
		return time.UTC
	}
	return o.loc
}

// Status says whether the office is open at t and, when it is not, why, in
// the words clients expect (ReasonClosedDayOfWeek, ReasonClosedNoMatch).
// reason is "" when open.
func (o *OfficeHours) Status(t time.Time) (open bool, reason string) {
	if o == nil {
		return true, ""
	}
	r := newResolver(o.Location())
	u := unixFloor(t)
	day := r.localDay(u)
	regular, closed, added := o.collect(r, day-1, day)
	for _, s := range o.combine(r, regular, closed, added, day-1, day) {
		if s.start <= u && u < s.end {
			return true, ""
		}
	}
	lo, hi := r.resolve(wallOf(day, 0)), r.resolve(wallOf(day+1, 0))
	if overlaps(regular, lo, hi) || overlaps(added, lo, hi) {
		return false, ReasonClosedNoMatch
	}
	return false, ReasonClosedDayOfWeek
}

// OpenPeriods returns the stretches of [from, to) during which the office is
// open, in UTC, ascending, with touching and overlapping periods merged and
// the first and last clipped to the window. It works day by day on the rules,
// never minute by minute, so a week costs microseconds; the cost still grows
// with the window, so callers bound windows that clients choose. A nil
// office is open for the whole window.
func (o *OfficeHours) OpenPeriods(from, to time.Time) []Period {
	if !from.Before(to) {
		return nil
	}
	if o == nil {
		return []Period{{Start: from.UTC(), End: to.UTC()}}
	}
	r := newResolver(o.Location())
	return toPeriods(o.openSpans(r, unixFloor(from), unixCeil(to)), from, to)
}

// IsOpen reports whether the office is open at t; Status also says why not.
func (o *OfficeHours) IsOpen(t time.Time) bool {
	open, _ := o.Status(t)
	return open
}

// openSpans returns the open spans that overlap [lo, hi) (Unix seconds),
// normalized but not clipped. A nil office is open throughout.
func (o *OfficeHours) openSpans(r *resolver, lo, hi int64) []span {
	if o == nil {
		return []span{{lo, hi}}
	}
	first, last := r.localDay(lo)-1, r.localDay(hi)
	regular, closed, added := o.collect(r, first, last)
	return o.combine(r, regular, closed, added, first, last)
}

// collect evaluates the rules for the local days first..last: the regular
// hours starting on those days, the holiday closings and the extra openings
// (_bh_add). Each list is normalized.
func (o *OfficeHours) collect(r *resolver, first, last int64) (regular, closed, added []span) {
	for day := first; day <= last; day++ {
		wd := weekdayOf(day)
		for _, rule := range o.regular {
			if rule.days[wd] {
				regular = appendRanges(regular, r, day, rule.ranges)
			}
		}
		if len(o.adds) == 0 && len(o.closures) == 0 {
			continue
		}
		y, m, d := civil(day)
		for _, rule := range o.closures {
			if !rule.date.matches(y, m, d) {
				continue
			}
			if rule.ranges == nil {
				closed = append(closed, span{r.resolve(wallOf(day, 0)), r.resolve(wallOf(day, 1440))})
			} else {
				closed = appendRanges(closed, r, day, rule.ranges)
			}
		}
		for _, rule := range o.adds {
			if rule.date.matches(y, m, d) {
				added = appendRanges(added, r, day, rule.ranges)
			}
		}
	}
	return normalize(regular), normalize(closed), normalize(added)
}

// combine applies the precedence: holidays close regular hours, extra
// openings reopen (an _bh_add beats a holiday on the same date, being the
// more specific instruction), and nothing is open outside the effective
// dates, whatever the other rules say.
func (o *OfficeHours) combine(r *resolver, regular, closed, added []span, first, last int64) []span {
	open := union(subtract(regular, closed), added)
	if len(o.effective) == 0 || len(open) == 0 {
		return open
	}
	eff := make([]span, 0, len(o.effective))
	for _, e := range o.effective {
		if e.last < first || e.first > last+1 {
			continue
		}
		s := span{r.resolve(wallOf(e.first, 0)), math.MaxInt64}
		if e.last != math.MaxInt64 {
			s.end = r.resolve(wallOf(e.last+1, 0))
		}
		eff = append(eff, s)
	}
	return intersect(open, normalize(eff))
}

// appendRanges appends the instants of the local hour ranges of one day.
func appendRanges(out []span, r *resolver, day int64, ranges []hourRange) []span {
	for _, h := range ranges {
		out = append(out, span{
			r.resolve(wallOf(day, h.start)),
			r.resolve(wallOf(day, h.start+h.length)),
		})
	}
	return out
}

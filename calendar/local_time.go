package calendar

import (
	"math"
	"time"
)

const (
	secondsPerDay = 86400
	// zoneMargin is wider than any UTC offset a zone has ever used (about
	// ±15h including local mean times), so every instant whose local clock
	// can read a given wall time lies within wall±zoneMargin.
	zoneMargin = 26 * 3600
)

// zonePeriod is one stretch of time during which a location keeps the same
// UTC offset: [start, end) in Unix seconds, offset in seconds east of UTC.
// start and end are math.MinInt64 / math.MaxInt64 when unbounded.
type zonePeriod struct {
	start, end int64
	off        int64
}

func (z zonePeriod) contains(u int64) bool { return u >= z.start && u < z.end }

// zoneAt returns the zone period of loc that contains the instant u.
func zoneAt(loc *time.Location, u int64) zonePeriod {
	t := time.Unix(u, 0).In(loc)
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	z := zonePeriod{start: math.MinInt64, end: math.MaxInt64, off: int64(off)}
	if !s.IsZero() {
		z.start = s.Unix()
	}
	if !e.IsZero() {
		z.end = e.Unix()
	}
	return z
}

// resolver turns local wall-clock times of one location into instants. It
// caches the zone period it used last, so the common case (no transition
// within a day of the wall time) costs no zone lookup at all.
type resolver struct {
	loc    *time.Location
	cached zonePeriod
	valid  bool
}

func newResolver(loc *time.Location) *resolver {
	if loc == nil {
		loc = time.UTC
	}
	return &resolver{loc: loc}
}

// zone returns the zone period containing u, from the cache when possible.
func (r *resolver) zone(u int64) zonePeriod {
	if r.valid && r.cached.contains(u) {
		return r.cached
	}
	r.cached, r.valid = zoneAt(r.loc, u), true
	return r.cached
}

// offsetAt returns the UTC offset in effect at instant u.
func (r *resolver) offsetAt(u int64) int64 { return r.zone(u).off }

// localDay returns the local calendar day (days since 1970-01-01) of u.
func (r *resolver) localDay(u int64) int64 {
	return floorDiv(u+r.offsetAt(u), secondsPerDay)
}

// resolve maps a local wall-clock time, given as seconds since 1970-01-01
// 00:00 local, to the instant (Unix seconds) at which the clock reads it.
//
// The rule, the same for every zone: when the wall time exists once, that
// instant; when it exists twice (the clock was turned back), the earlier
// instant; when it does not exist (the clock jumped forward over it), the
// instant of the jump, i.e. the first instant after the gap. The result is
// non-decreasing in wall, so a range of wall times always maps to a range of
// instants.
func (r *resolver) resolve(wall int64) int64 {
	// Fast path: one zone period covers every instant that could read wall.
	if z := r.zone(wall); z.start <= wall-zoneMargin && wall+zoneMargin < z.end {
		return wall - z.off
	}
	// Walk the zone periods in time order; the first one in which the clock
	// reads wall holds the earliest instant.
	var prev zonePeriod
	havePrev := false
	for u := wall - zoneMargin; ; {
		z := zoneAt(r.loc, u)
		if havePrev && wall >= z.start+prev.off && wall < z.start+z.off {
			return z.start // the clock jumped from before wall to after it
		}
		if cand := wall - z.off; z.contains(cand) {
			return cand
		}
		if z.end == math.MaxInt64 || z.end > wall+zoneMargin {
			break
		}
		prev, havePrev, u = z, true, z.end
	}
	return wall - r.offsetAt(wall) // not reached for real zone data
}

// wallOf returns the local wall-clock time of day number day at minute
// minute of that day, as seconds since 1970-01-01 00:00 local. minute may be
// 1440 or more to reach into the following days.
func wallOf(day int64, minute int) int64 {
	return day*secondsPerDay + int64(minute)*60
}

// civil returns the calendar date of a day number.
func civil(day int64) (year int, month time.Month, dom int) {
	return time.Unix(day*secondsPerDay, 0).UTC().Date()
}

// dayNumber returns the day number (days since 1970-01-01) of a date.
func dayNumber(year int, month time.Month, dom int) int64 {
	return floorDiv(time.Date(year, month, dom, 0, 0, 0, 0, time.UTC).Unix(), secondsPerDay)
}

// weekdayOf returns the weekday of a day number; 1970-01-01 was a Thursday.
func weekdayOf(day int64) time.Weekday {
	return time.Weekday(floorMod(day+4, 7))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && ((m < 0) != (b < 0)) {
		m += b
	}
	return m
}

// unixFloor returns t in whole Unix seconds, rounded down.
func unixFloor(t time.Time) int64 { return t.Unix() }

// unixCeil returns t in whole Unix seconds, rounded up.
func unixCeil(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

func fromUnix(u int64) time.Time { return time.Unix(u, 0).UTC() }

// Resolve returns the instant at which loc's clock reads the wall-clock
// time given by wall's date and clock fields (wall's own location is
// ignored), by the package's rule for skipped and repeated local times:
// a repeated time means its first occurrence, a skipped time means the
// first instant after the gap. Availability queries use it for start and
// end times given in a named time zone.
func Resolve(wall time.Time, loc *time.Location) time.Time {
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	w := time.Date(y, mo, d, h, mi, s, 0, time.UTC).Unix()
	return time.Unix(newResolver(loc).resolve(w), int64(wall.Nanosecond())).UTC()
}

package calendar

import (
	"slices"
	"time"
)

// span is a half-open interval [start, end) in Unix seconds; the package
// computes with these and converts to Period only at its boundary.
type span struct{ start, end int64 }

// normalize sorts spans and merges the ones that overlap or touch; empty
// spans are dropped. It reuses the backing array of in.
func normalize(in []span) []span {
	if len(in) == 0 {
		return in[:0]
	}
	slices.SortFunc(in, func(a, b span) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	out := in[:0]
	for _, s := range in {
		if s.end <= s.start {
			continue
		}
		if n := len(out); n > 0 && s.start <= out[n-1].end {
			if s.end > out[n-1].end {
				out[n-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// union returns the normalized union of two normalized span lists.
func union(a, b []span) []span {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]span, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	return normalize(out)
}

// subtract returns the parts of a (normalized) not covered by b (normalized).
func subtract(a, b []span) []span {
	if len(b) == 0 || len(a) == 0 {
		return a
	}
	out := make([]span, 0, len(a)+len(b))
	j := 0
	for _, s := range a {
		cur := s.start
		for j < len(b) && b[j].end <= cur {
			j++
		}
		for k := j; k < len(b) && b[k].start < s.end; k++ {
			if b[k].start > cur {
				out = append(out, span{cur, b[k].start})
			}
			if b[k].end > cur {
				cur = b[k].end
			}
		}
		if cur < s.end {
			out = append(out, span{cur, s.end})
		}
	}
	return out
}

// intersect returns the parts common to two normalized span lists.
func intersect(a, b []span) []span {
	var out []span
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo := max(a[i].start, b[j].start)
		hi := min(a[i].end, b[j].end)
		if lo < hi {
			out = append(out, span{lo, hi})
		}
		if a[i].end < b[j].end {
			i++
		} else {
			j++
		}
	}
	return out
}

// overlaps reports whether any span of a (normalized) intersects [lo, hi).
func overlaps(a []span, lo, hi int64) bool {
	for _, s := range a {
		if s.start < hi && lo < s.end {
			return true
		}
	}
	return false
}

// toPeriods converts normalized spans to periods clipped to [from, to).
func toPeriods(spans []span, from, to time.Time) []Period {
	var out []Period
	lo, hi := unixFloor(from), unixCeil(to)
	for _, s := range spans {
		if s.end <= lo || s.start >= hi {
			continue
		}
		p := Period{Start: fromUnix(max(s.start, lo)), End: fromUnix(min(s.end, hi))}
		if p.End.After(to) {
			p.End = to.UTC()
		}
		if p.Start.Before(from) {
			p.Start = from.UTC()
		}
		if p.Start.Before(p.End) {
			out = append(out, p)
		}
	}
	return out
}

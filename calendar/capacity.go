package calendar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Option names of a capacity service, as the original system spells them.
const (
	OptCapacityDays = "_capacity"     // [Mon, Tue, ...]: weekdays in use
	OptCapacityDay  = "_capacity_"    // _capacity_1 (Monday) ... _capacity_7 (Sunday)
	OptCapacityAdd  = "_capacity_add" // date exceptions, this project's format
	OptMaxCapacity  = "_max_capacity" // upper bound of every slot
)

// capacitySlotMinutes is how long one HHMM key lasts at most: the original
// system defines capacity "per hourly slot".
const capacitySlotMinutes = 60

// Capacity is the parsed table of a capacity service: how many callbacks may
// be booked in each time slot (bucket) of the week, in the service's zone,
// with exceptions for given dates. It lets a contact center follow its real
// staffing instead of one flat _max_request_by_time_bucket. Immutable once
// parsed and safe for concurrent use.
type Capacity struct {
	loc   *time.Location
	week  [7][]capEntry // indexed by time.Weekday; nil: no capacity that day
	dated []capDate
	max   int // -1: no bound
}

// capEntry gives count to every bucket starting in [start, end) minutes
// after local midnight.
type capEntry struct {
	start, end int
	count      int
}

type capDate struct {
	date    dateSpec
	entries []capEntry
}

// Location returns the zone in which the capacity table is read.
func (c *Capacity) Location() *time.Location {
	if c == nil || c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// At returns the capacity of the bucket that starts at bucketStart: the count
// of the HHMM key covering that local time of day, from the _capacity_add
// entry of the date when there is one, else from the weekday's table; 0 when
// no key covers it; never more than _max_capacity.
func (c *Capacity) At(bucketStart time.Time) int {
	if c == nil {
		return 0
	}
	return c.at(newResolver(c.Location()), unixFloor(bucketStart))
}

func (c *Capacity) at(r *resolver, u int64) int {
	e := capEval{c: c, r: r}
	return e.at(u)
}

// capEval evaluates one capacity table for many slots in a row, remembering
// the table of the last local day so a week of 5-minute slots looks each day
// up once.
type capEval struct {
	c       *Capacity
	r       *resolver
	day     int64
	entries []capEntry
	valid   bool
}

func (e *capEval) at(u int64) int {
	c := e.c
	wall := u + e.r.offsetAt(u)
	day := floorDiv(wall, secondsPerDay)
	if !e.valid || day != e.day {
		e.day, e.entries, e.valid = day, c.tableOf(day), true
	}
	minute := int(floorMod(wall, secondsPerDay) / 60)
	n := 0
	for _, en := range e.entries {
		if en.start <= minute && minute < en.end {
			n = en.count
			break
		}
	}
	if c.max >= 0 && n > c.max {
		n = c.max
	}
	return n
}

// tableOf returns the entries that apply on a local day: its _capacity_add
// entry when there is one (a full date beats a yearly one), else its
// weekday's.
func (c *Capacity) tableOf(day int64) []capEntry {
	entries := c.week[weekdayOf(day)]
	if len(c.dated) == 0 {
		return entries
	}
	y, m, d := civil(day)
	pick := -1
	for i, cd := range c.dated {
		if !cd.date.matches(y, m, d) {
			continue
		}
		if pick < 0 || cd.date.year != 0 {
			pick = i
		}
	}
	if pick >= 0 {
		return c.dated[pick].entries
	}
	return entries
}

// ParseCapacity reads the options of a capacity service (option name to raw
// value) and returns every bad option as an OptionError. The result is
// usable even then (bad options left out, a bad zone read as UTC, counts
// above _max_capacity capped); a caller that must not run on a partial table
// refuses it when errs is not empty.
//
// Formats: _capacity = [Mon, Tue, Wed, Thu, Fri, Sat, Sun] lists the
// weekdays whose table is used (absent: every _capacity_N given);
// _capacity_N = {"N":{"HHMM":count,...}} with N the weekday, 1 = Monday;
// _capacity_add = {"yyyy-MM-dd":{"HHMM":count,...},"MM-dd":{...}};
// _max_capacity = a bound on every count. See the package doc for what an
// HHMM key covers.
func ParseCapacity(opts map[string]string) (*Capacity, []OptionError) {
	c := &Capacity{loc: time.UTC, max: -1}
	var errs []OptionError
	bad := func(name, msg string) {
		errs = append(errs, OptionError{Option: name, Value: opts[name], Message: msg})
	}
	var tables [7][]capEntry // by time.Weekday
	var given [7]string      // option name that set each weekday
	used := [7]bool{true, true, true, true, true, true, true}
	for _, name := range sortedKeys(opts) {
		v := strings.TrimSpace(opts[name])
		switch {
		case v == "" && name != OptTimezone:
			continue // a blank option is switched off
		case name == OptTimezone:
			loc, err := parseTimezone(v)
			if err != nil {
				bad(name, err.Error())
				continue
			}
			c.loc = loc
		case name == OptCapacityDays:
			days, err := parseDayList(v)
			if err != nil {
				bad(name, err.Error())
				continue
			}
			used = days
		case name == OptMaxCapacity:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				bad(name, "want a whole number of callbacks, 0 or more")
				continue
			}
			c.max = n
		case name == OptCapacityAdd:
			dated, err := parseCapacityAdd(v)
			if err != nil {
				bad(name, err.Error())
				continue
			}
			c.dated = dated
		case strings.HasPrefix(name, OptCapacityDay):
			idx, err := strconv.Atoi(strings.TrimPrefix(name, OptCapacityDay))
			if err != nil || idx < 1 || idx > 7 {
				continue // not a weekday table; some other option
			}
			entries, err := parseCapacityDay(v, idx)
			if err != nil {
				bad(name, err.Error())
				continue
			}
			wd := time.Weekday(idx % 7)
			tables[wd], given[wd] = entries, name
		}
	}
	for wd := range tables {
		if used[wd] {
			c.week[wd] = tables[wd]
		}
	}
	if c.max >= 0 {
		for wd, name := range given {
			if name != "" && used[wd] && maxCount(tables[wd]) > c.max {
				bad(name, fmt.Sprintf("a count exceeds _max_capacity %d; capped to it", c.max))
			}
		}
		for _, d := range c.dated {
			if maxCount(d.entries) > c.max {
				bad(OptCapacityAdd, fmt.Sprintf("a count exceeds _max_capacity %d; capped to it", c.max))
				break
			}
		}
	}
	slices.SortStableFunc(errs, func(a, b OptionError) int { return strings.Compare(a.Option, b.Option) })
	return c, errs
}

func maxCount(entries []capEntry) int {
	n := 0
	for _, e := range entries {
		n = max(n, e.count)
	}
	return n
}

// parseDayList reads "[Mon, Tue, Wed]" (brackets optional, also 1..7).
func parseDayList(v string) (days [7]bool, err error) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "["), "]"))
	if v == "" {
		return days, nil
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.Trim(strings.TrimSpace(item), `"'`)
		if n, err := strconv.Atoi(item); err == nil && n >= 1 && n <= 7 {
			days[n%7] = true
			continue
		}
		d, err := parseDay(item)
		if err != nil {
			return days, err
		}
		days[d] = true
	}
	return days, nil
}

// parseCapacityDay reads {"N":{"HHMM":count}} for weekday N. The outer key
// repeats the weekday (the original writes it so); another day is refused
// because it almost certainly means a copy-paste slip.
func parseCapacityDay(v string, idx int) ([]capEntry, error) {
	var doc map[string]json.RawMessage
	if err := decodeJSON(v, &doc); err != nil {
		return nil, err
	}
	var out []capEntry
	for k, raw := range doc {
		if k != strconv.Itoa(idx) {
			return nil, fmt.Errorf("day key %q does not match weekday %d of the option name", k, idx)
		}
		entries, err := parseHHMMTable(raw)
		if err != nil {
			return nil, err
		}
		out = entries
	}
	return out, nil
}

// parseCapacityAdd reads {"2026-12-24":{"0900":5},"12-25":{}}: for each date
// (yyyy-MM-dd, or MM-dd every year) the table that replaces the weekday's on
// that date. An empty table means no capacity that day.
func parseCapacityAdd(v string) ([]capDate, error) {
	var doc map[string]json.RawMessage
	if err := decodeJSON(v, &doc); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []capDate
	for _, k := range keys {
		date, err := parseDate(strings.TrimSpace(k), true)
		if err != nil {
			return nil, err
		}
		entries, err := parseHHMMTable(doc[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		out = append(out, capDate{date: date, entries: entries})
	}
	return out, nil
}

// parseHHMMTable reads {"0900":10,"1000":5} into entries sorted by time.
// Each key covers one hour from its time, or less when the next key comes
// sooner. Counts may be JSON numbers or numeric strings.
func parseHHMMTable(raw json.RawMessage) ([]capEntry, error) {
	var table map[string]json.RawMessage
	if err := decodeJSON(string(raw), &table); err != nil {
		return nil, err
	}
	out := make([]capEntry, 0, len(table))
	for k, v := range table {
		if len(k) != 4 || !allDigits(k) || atoi(k[:2]) > 23 || atoi(k[2:]) > 59 {
			return nil, fmt.Errorf("bad time key %q: want HHMM such as 0900", k)
		}
		n, err := parseCount(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		start := atoi(k[:2])*60 + atoi(k[2:])
		out = append(out, capEntry{start: start, end: start + capacitySlotMinutes, count: n})
	}
	slices.SortFunc(out, func(a, b capEntry) int { return a.start - b.start })
	for i := range out {
		if i+1 < len(out) && out[i+1].start < out[i].end {
			out[i].end = out[i+1].start
		}
		out[i].end = min(out[i].end, 1440)
	}
	return out, nil
}

// parseCount reads a count of callbacks: 10 or "10", never negative.
func parseCount(raw json.RawMessage) (int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		raw = json.RawMessage(strings.TrimSpace(s))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return 0, fmt.Errorf("bad count %s: want a whole number, 0 or more", raw)
	}
	return int(f), nil
}

// decodeJSON decodes one JSON object and refuses trailing data.
func decodeJSON(v string, dst any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("bad JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("bad JSON: trailing data")
	}
	if dst, ok := dst.(*map[string]json.RawMessage); ok && *dst == nil {
		return fmt.Errorf("bad JSON: want an object")
	}
	return nil
}

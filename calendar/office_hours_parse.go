package calendar

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Option names of an office-hours service, as the original system spells
// them. The indexed ones may carry any suffix (_bh_regular1, _bh_regular2).
const (
	OptTimezone       = "_timezone"
	OptRegular        = "_bh_regular"
	OptAdd            = "_bh_add"
	OptHoliday        = "_holiday"
	OptDrop           = "_bh_drop"
	OptEffectiveDates = "_effective_dates"
)

// OfficeHours is the parsed calendar of an office-hours service: when the
// contact center takes callbacks, in its own time zone. It is immutable once
// parsed and safe for concurrent use. A nil *OfficeHours is an office that
// never closes, so a callback service without _business_hours_service needs
// no special case.
type OfficeHours struct {
	loc       *time.Location
	regular   []regularRule
	adds      []dateRule
	closures  []dateRule
	effective []dayRange
}

// regularRule is one _bh_regular option: the weekdays it applies to and the
// local hour ranges that start on each of them.
type regularRule struct {
	days   [7]bool // indexed by time.Weekday
	ranges []hourRange
}

// dateRule is one _bh_add, _holiday or _bh_drop option. ranges is nil for a
// holiday that closes the whole day.
type dateRule struct {
	date   dateSpec
	ranges []hourRange
}

// dayRange is one _effective_dates option as inclusive day numbers; last is
// math.MaxInt64 for "from that day on".
type dayRange struct{ first, last int64 }

// ParseOfficeHours reads the options of an office-hours service (option name
// to raw value). It returns every bad option as an OptionError. The result is
// usable even then: a bad option is left out and a bad _timezone falls back
// to UTC; a caller that must not run on a partial calendar refuses it when
// errs is not empty. Options it does not know (_type, _service...) are
// ignored, and so are indexed options whose value is blank, which is how an
// operator switches one off. An office with no _bh_regular and no _bh_add is
// never open.
func ParseOfficeHours(opts map[string]string) (*OfficeHours, []OptionError) {
	o := &OfficeHours{loc: time.UTC}
	var errs []OptionError
	for _, name := range sortedKeys(opts) {
		raw := opts[name]
		v := tidy(raw)
		var err error
		switch {
		case name == OptTimezone:
			var loc *time.Location
			if loc, err = parseTimezone(v); err == nil {
				o.loc = loc
			}
		case v == "":
			continue
		case hasIndexedPrefix(name, OptRegular):
			var r regularRule
			if r, err = parseRegular(v); err == nil {
				o.regular = append(o.regular, r)
			}
		case hasIndexedPrefix(name, OptAdd):
			var r dateRule
			if r, err = parseDateRule(v, true); err == nil {
				o.adds = append(o.adds, r)
			}
		case hasIndexedPrefix(name, OptHoliday), hasIndexedPrefix(name, OptDrop):
			var r dateRule
			if r, err = parseDateRule(v, false); err == nil {
				o.closures = append(o.closures, r)
			}
		case hasIndexedPrefix(name, OptEffectiveDates):
			var r dayRange
			if r, err = parseEffective(v); err == nil {
				o.effective = append(o.effective, r)
			}
		}
		if err != nil {
			errs = append(errs, OptionError{Option: name, Value: raw, Message: err.Error()})
		}
	}
	return o, errs
}

// parseRegular reads "Mon-Fri 9:00-17:00"; several hour ranges may follow the
// days, separated by commas or blanks ("Mon-Fri 9:00-12:00,13:00-17:00").
func parseRegular(v string) (regularRule, error) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return regularRule{}, fmt.Errorf("want days and hours, such as Mon-Fri 9:00-17:00")
	}
	days, err := parseDays(f[0])
	if err != nil {
		return regularRule{}, err
	}
	ranges, err := parseRangeFields(f[1:])
	if err != nil {
		return regularRule{}, err
	}
	return regularRule{days: days, ranges: ranges}, nil
}

// parseDateRule reads "2026-12-24 09:00-12:00" or "12-24 09:00-12:00"; the
// hours are mandatory for an extra opening (needHours) and optional for a
// closing, where their absence closes the whole day.
func parseDateRule(v string, needHours bool) (dateRule, error) {
	f := strings.Fields(v)
	date, err := parseDate(f[0], true)
	if err != nil {
		return dateRule{}, err
	}
	if len(f) == 1 {
		if needHours {
			return dateRule{}, fmt.Errorf("missing hours: want a date and HH:mm-HH:mm, such as 12-24 09:00-12:00")
		}
		return dateRule{date: date}, nil
	}
	ranges, err := parseRangeFields(f[1:])
	if err != nil {
		return dateRule{}, err
	}
	return dateRule{date: date, ranges: ranges}, nil
}

func parseRangeFields(fields []string) ([]hourRange, error) {
	var out []hourRange
	for _, f := range fields {
		r, err := parseHourRanges(f)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

// parseEffective reads "2026-01-01" (from that day on) or
// "2026-01-01 to 2026-06-30" (both days included).
func parseEffective(v string) (dayRange, error) {
	f := strings.Fields(v)
	if len(f) != 1 && !(len(f) == 3 && strings.EqualFold(f[1], "to")) {
		return dayRange{}, fmt.Errorf("want yyyy-MM-dd or yyyy-MM-dd to yyyy-MM-dd")
	}
	first, err := parseDate(f[0], false)
	if err != nil {
		return dayRange{}, err
	}
	r := dayRange{first: dayNumber(first.year, first.month, first.day), last: math.MaxInt64}
	if len(f) == 3 {
		last, err := parseDate(f[2], false)
		if err != nil {
			return dayRange{}, err
		}
		r.last = dayNumber(last.year, last.month, last.day)
		if r.last < r.first {
			return dayRange{}, fmt.Errorf("end date %s is before start date %s", f[2], f[0])
		}
	}
	return r, nil
}

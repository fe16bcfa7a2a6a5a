package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Parsers for the value formats shared by office-hours and capacity options:
// weekdays, clock times, hour ranges and dates.

var dayNames = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

func parseDay(s string) (time.Weekday, error) {
	if d, ok := dayNames[strings.ToLower(s)]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("unknown day %q", s)
}

// parseDays reads "Mon-Fri", "Sat-Mon" (wrapping past Sunday), "Sun" or a
// comma list of those ("Mon,Wed,Fri-Sat").
func parseDays(s string) (days [7]bool, err error) {
	if s == "" {
		return days, fmt.Errorf("missing days")
	}
	for _, item := range strings.Split(s, ",") {
		first, last, isRange := strings.Cut(item, "-")
		from, err := parseDay(first)
		if err != nil {
			return days, err
		}
		to := from
		if isRange {
			if to, err = parseDay(last); err != nil {
				return days, err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			days[d] = true
			if d == to {
				break
			}
		}
	}
	return days, nil
}

// parseClock reads H:mm or HH:mm as minutes since midnight; 24:00 is
// accepted only where allow24 says so (the end of a range).
func parseClock(s string, allow24 bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, fmt.Errorf("bad time %q: want H:mm or HH:mm", s)
	}
	hh, mm := atoi(h), atoi(m)
	switch {
	case hh == 24 && mm == 0 && allow24:
		return 1440, nil
	case hh == 24 && mm == 0:
		return 0, fmt.Errorf("bad time %q: 24:00 is only allowed as the end of a range", s)
	case hh > 23 || mm > 59:
		return 0, fmt.Errorf("bad time %q: out of range", s)
	}
	return hh*60 + mm, nil
}

// hourRange is a local opening range: from start minutes after midnight for
// length minutes (which may run past midnight into the next day).
type hourRange struct {
	start, length int
}

// parseHourRange reads "9:00-17:00", "19:00-7:00" (wraps past midnight) or
// "0:00-24:00". A range whose end equals its start is refused as ambiguous.
func parseHourRange(s string) (hourRange, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return hourRange{}, fmt.Errorf("bad hours %q: want HH:mm-HH:mm", s)
	}
	start, err := parseClock(a, false)
	if err != nil {
		return hourRange{}, err
	}
	end, err := parseClock(b, true)
	if err != nil {
		return hourRange{}, err
	}
	switch {
	case end == start:
		return hourRange{}, fmt.Errorf("bad hours %q: empty range (use 0:00-24:00 for a whole day)", s)
	case end < start:
		end += 1440
	}
	return hourRange{start: start, length: end - start}, nil
}

// parseHourRanges reads one range or a comma list of them.
func parseHourRanges(s string) ([]hourRange, error) {
	var out []hourRange
	for _, item := range strings.Split(s, ",") {
		r, err := parseHourRange(item)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// dateSpec is a calendar date; year 0 means every year (an MM-dd value).
type dateSpec struct {
	year  int
	month time.Month
	day   int
}

func (d dateSpec) matches(year int, month time.Month, day int) bool {
	return d.month == month && d.day == day && (d.year == 0 || d.year == year)
}

// parseDate reads yyyy-MM-dd or MM-dd (yearly). 02-29 is accepted as a
// yearly date and then only matches leap years.
func parseDate(s string, allowYearly bool) (dateSpec, error) {
	parts := strings.Split(s, "-")
	for _, p := range parts {
		if p == "" || len(p) > 4 || !allDigits(p) {
			return dateSpec{}, fmt.Errorf("bad date %q: want yyyy-MM-dd or MM-dd", s)
		}
	}
	var d dateSpec
	switch {
	case len(parts) == 3 && len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		d = dateSpec{year: atoi(parts[0]), month: time.Month(atoi(parts[1])), day: atoi(parts[2])}
	case len(parts) == 2 && allowYearly && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		d = dateSpec{month: time.Month(atoi(parts[0])), day: atoi(parts[1])}
	case allowYearly:
		return dateSpec{}, fmt.Errorf("bad date %q: want yyyy-MM-dd or MM-dd", s)
	default:
		return dateSpec{}, fmt.Errorf("bad date %q: want yyyy-MM-dd", s)
	}
	if len(parts) == 3 && d.year == 0 {
		return dateSpec{}, fmt.Errorf("bad date %q: no year 0000", s)
	}
	checkYear := d.year
	if checkYear == 0 {
		checkYear = 2000 // a leap year, so 02-29 passes as a yearly date
	}
	if d.month < 1 || d.month > 12 || d.day < 1 ||
		time.Date(checkYear, d.month, d.day, 0, 0, 0, 0, time.UTC).Day() != d.day {
		return dateSpec{}, fmt.Errorf("bad date %q: no such day", s)
	}
	return d, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// atoi converts a short string of digits already checked by allDigits.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// tidy trims the value and removes blanks around '-' and ',' so that
// "Mon - Fri 9:00 - 17:00" reads like "Mon-Fri 9:00-17:00".
func tidy(s string) string {
	f := strings.Fields(s)
	var b strings.Builder
	for i, w := range f {
		if i > 0 {
			prev := f[i-1]
			joined := strings.HasSuffix(prev, "-") || strings.HasSuffix(prev, ",") ||
				strings.HasPrefix(w, "-") || strings.HasPrefix(w, ",")
			if !joined {
				b.WriteByte(' ')
			}
		}
		b.WriteString(w)
	}
	return b.String()
}

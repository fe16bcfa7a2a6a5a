package calendar_test

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd/calendar"
)

// FuzzParseOfficeHours feeds one arbitrary value to every office-hours and
// capacity option and then uses the result: nothing may panic or hang,
// whatever an operator types.
func FuzzParseOfficeHours(f *testing.F) {
	for _, seed := range []string{
		"Mon-Fri 9:00-17:00",
		"Sat-Mon 19:00-7:00",
		"Sun 0:00-24:00,13:00-14:00",
		"12-24 09:00-12:00",
		"2026-12-25",
		"02-29 22:00-2:00",
		"2026-01-01 to 2026-06-30",
		`{"1":{"0900":10,"1000":"5"}}`,
		`{"2026-12-24":{"0900":5},"12-31":{}}`,
		"[Mon, Tue, Wed, Thu, Fri, Sat, Sun]",
		"Europe/Paris",
		"",
	} {
		f.Add(seed)
	}
	from := time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC) // spans the Paris spring change
	f.Fuzz(func(t *testing.T, v string) {
		o, _ := calendar.ParseOfficeHours(map[string]string{
			"_timezone":         "Europe/Paris",
			"_bh_regular1":      v,
			"_bh_add1":          v,
			"_holiday1":         v,
			"_bh_drop1":         v,
			"_effective_dates1": v,
		})
		c, _ := calendar.ParseCapacity(map[string]string{
			"_timezone":     "America/New_York",
			"_capacity":     v,
			"_capacity_1":   v,
			"_capacity_add": v,
			"_max_capacity": v,
		})
		if o == nil || c == nil {
			t.Fatal("parsers must always return a usable value")
		}
		to := from.Add(7 * 24 * time.Hour)
		ps := o.OpenPeriods(from, to)
		for i, p := range ps {
			if !p.Start.Before(p.End) || p.Start.Before(from) || p.End.After(to) || (i > 0 && !ps[i-1].End.Before(p.Start)) {
				t.Fatalf("bad periods %v", ps)
			}
		}
		o.Status(from.Add(30 * time.Hour))
		if n := c.At(from.Add(9 * time.Hour)); n < 0 {
			t.Fatalf("negative capacity %d", n)
		}
		g := calendar.Grid{Bucket: 30, Hours: o, Capacity: c}
		g.Slots(from, to)
		g.Propose(from.Add(50*time.Hour), nil, 3, from)
	})
}

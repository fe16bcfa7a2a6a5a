package calendar_test

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd/calendar"
)

// realisticGrid is a contact center in Paris: weekdays 8:00-20:00, Saturday
// mornings, a public holiday in the week, 5-minute slots.
func realisticGrid(b *testing.B, withCapacity bool) calendar.Grid {
	g := calendar.Grid{
		Bucket: 5,
		Hours: hours(b, map[string]string{
			"_timezone":    "Europe/Paris",
			"_bh_regular1": "Mon-Fri 8:00-20:00",
			"_bh_regular2": "Sat 9:00-13:00",
			"_holiday1":    "05-01",
		}),
		Max: 100,
	}
	if withCapacity {
		g.Capacity = capacity(b, map[string]string{
			"_timezone":     "Europe/Paris",
			"_capacity_1":   `{"1":{"0800":10,"0900":12,"1000":12,"1100":12,"1200":8,"1300":8,"1400":12,"1500":12,"1600":12,"1700":10,"1800":6,"1900":4}}`,
			"_capacity_2":   `{"2":{"0800":10,"0900":12,"1000":12,"1100":12,"1200":8,"1300":8,"1400":12,"1500":12,"1600":12,"1700":10,"1800":6,"1900":4}}`,
			"_capacity_6":   `{"6":{"0900":5,"1000":5,"1100":5,"1200":5}}`,
			"_capacity_add": `{"12-24":{"0900":3}}`,
		})
	}
	return g
}

// The week of 2026-04-27 holds the 1 May holiday (a Friday).
var benchFrom = time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC)

func BenchmarkGridSlotsWeekOfFiveMinuteSlots(b *testing.B) {
	g := realisticGrid(b, false)
	to := benchFrom.Add(7 * 24 * time.Hour)
	if n := len(g.Slots(benchFrom, to)); n != 4*12*12+4*12 {
		b.Fatalf("got %d slots, want %d", n, 4*12*12+4*12)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.Slots(benchFrom, to)
	}
}

func BenchmarkGridSlotsWeekWithCapacity(b *testing.B) {
	g := realisticGrid(b, true)
	to := benchFrom.Add(7 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		g.Slots(benchFrom, to)
	}
}

func BenchmarkOpenPeriodsWeek(b *testing.B) {
	g := realisticGrid(b, false)
	to := benchFrom.Add(7 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		g.Hours.OpenPeriods(benchFrom, to)
	}
}

func BenchmarkProposeAroundFullEvening(b *testing.B) {
	g := realisticGrid(b, true)
	desired := time.Date(2026, 4, 30, 17, 45, 0, 0, time.UTC) // Thursday 19:45 CEST
	used := func(time.Time) int { return 0 }
	b.ReportAllocs()
	for b.Loop() {
		g.Propose(desired, used, 4, benchFrom)
	}
}

package calendar_test

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd/calendar"
)

func TestGridSlots(t *testing.T) {
	utcHours := func(rule string) *calendar.OfficeHours {
		return hours(t, map[string]string{"_bh_regular1": rule})
	}
	tests := []struct {
		name     string
		grid     calendar.Grid
		from, to string
		want     []string
	}{
		{
			name: "EveryOpenBucketWithMax",
			grid: calendar.Grid{Bucket: 15, Hours: utcHours("Mon 9:00-10:00"), Max: 100},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{
				"2026-01-05T09:00Z/2026-01-05T09:15Z=100", "2026-01-05T09:15Z/2026-01-05T09:30Z=100",
				"2026-01-05T09:30Z/2026-01-05T09:45Z=100", "2026-01-05T09:45Z/2026-01-05T10:00Z=100",
			},
		},
		{
			name: "BucketOpeningMidwayIsNotOffered",
			grid: calendar.Grid{Bucket: 30, Hours: utcHours("Mon 9:10-10:00"), Max: 5},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{"2026-01-05T09:30Z/2026-01-05T10:00Z=5"},
		},
		{
			name: "BucketClosingMidwayIsOffered",
			grid: calendar.Grid{Bucket: 30, Hours: utcHours("Mon 9:00-9:50"), Max: 5},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{"2026-01-05T09:00Z/2026-01-05T09:30Z=5", "2026-01-05T09:30Z/2026-01-05T10:00Z=5"},
		},
		{
			name: "BucketContainingFromIsIncluded",
			grid: calendar.Grid{Bucket: 5, Hours: utcHours("Mon 9:00-10:00"), Max: 5},
			from: "2026-01-05T09:07Z", to: "2026-01-05T09:15Z",
			want: []string{"2026-01-05T09:05Z/2026-01-05T09:10Z=5", "2026-01-05T09:10Z/2026-01-05T09:15Z=5"},
		},
		{
			name: "ToIsExclusive",
			grid: calendar.Grid{Bucket: 5, Hours: utcHours("Mon 9:00-10:00"), Max: 5},
			from: "2026-01-05T09:00Z", to: "2026-01-05T09:10:00.001Z",
			want: []string{
				"2026-01-05T09:00Z/2026-01-05T09:05Z=5", "2026-01-05T09:05Z/2026-01-05T09:10Z=5",
				"2026-01-05T09:10Z/2026-01-05T09:15Z=5",
			},
		},
		{
			name: "NilHoursAlwaysOpen",
			grid: calendar.Grid{Bucket: 60, Max: 2},
			from: "2026-01-05T22:00Z", to: "2026-01-06T01:00Z",
			want: []string{
				"2026-01-05T22:00Z/2026-01-05T23:00Z=2", "2026-01-05T23:00Z/2026-01-06T00:00Z=2",
				"2026-01-06T00:00Z/2026-01-06T01:00Z=2",
			},
		},
		{
			name: "ClosedOfficeHasNoSlots",
			grid: calendar.Grid{Bucket: 5, Hours: hours(t, map[string]string{}), Max: 5},
			from: "2026-01-05T00:00Z", to: "2026-01-12T00:00Z",
			want: nil,
		},
		{
			name: "CapacityGivesTotalsAndZeroSlotsStay",
			grid: calendar.Grid{
				Bucket:   30,
				Hours:    utcHours("Mon 9:00-11:00"),
				Capacity: capacity(t, map[string]string{"_capacity_1": `{"1":{"0900":4,"1000":0}}`}),
				Max:      100,
			},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{
				"2026-01-05T09:00Z/2026-01-05T09:30Z=4", "2026-01-05T09:30Z/2026-01-05T10:00Z=4",
				"2026-01-05T10:00Z/2026-01-05T10:30Z=0", "2026-01-05T10:30Z/2026-01-05T11:00Z=0",
			},
		},
		{
			name: "KolkataHourlySlotsOnLocalHours",
			grid: calendar.Grid{Bucket: 60, Hours: hours(t, map[string]string{"_timezone": "Asia/Kolkata", "_bh_regular1": "Mon 9:00-12:00"}), Max: 1},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{
				"2026-01-05T03:30Z/2026-01-05T04:30Z=1", "2026-01-05T04:30Z/2026-01-05T05:30Z=1",
				"2026-01-05T05:30Z/2026-01-05T06:30Z=1",
			},
		},
		{
			name: "ParisFallBackGivesTwoSlotsLabelledTwoOClock",
			grid: calendar.Grid{Bucket: 60, Hours: hours(t, map[string]string{"_timezone": "Europe/Paris", "_bh_regular1": "Sun 1:00-4:00"}), Max: 1},
			from: "2026-10-24T00:00Z", to: "2026-10-26T00:00Z",
			want: []string{
				"2026-10-24T23:00Z/2026-10-25T00:00Z=1", // 01:00 CEST
				"2026-10-25T00:00Z/2026-10-25T01:00Z=1", // 02:00 CEST
				"2026-10-25T01:00Z/2026-10-25T02:00Z=1", // 02:00 CET
				"2026-10-25T02:00Z/2026-10-25T03:00Z=1", // 03:00 CET
			},
		},
		{
			name: "ParisSpringForwardSkipsMissingHour",
			grid: calendar.Grid{Bucket: 60, Hours: hours(t, map[string]string{"_timezone": "Europe/Paris", "_bh_regular1": "Sun 1:00-4:00"}), Max: 1},
			from: "2026-03-28T00:00Z", to: "2026-03-30T00:00Z",
			want: []string{
				"2026-03-29T00:00Z/2026-03-29T01:00Z=1", // 01:00 CET
				"2026-03-29T01:00Z/2026-03-29T02:00Z=1", // 03:00 CEST
			},
		},
		{
			name: "GridInCapacityZoneWithoutHours",
			grid: calendar.Grid{Bucket: 60, Capacity: capacity(t, map[string]string{"_timezone": "Asia/Kolkata", "_capacity_1": `{"1":{"0900":3}}`})},
			from: "2026-01-05T03:00Z", to: "2026-01-05T05:00Z",
			want: []string{
				"2026-01-05T02:30Z/2026-01-05T03:30Z=0", "2026-01-05T03:30Z/2026-01-05T04:30Z=3",
				"2026-01-05T04:30Z/2026-01-05T05:30Z=0",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.grid.Slots(at(t, tc.from), at(t, tc.to))
			assertStrings(t, "Slots", slotStrings(got), tc.want)
		})
	}
}

func TestGridSlotAt(t *testing.T) {
	g := calendar.Grid{
		Bucket:   15,
		Hours:    hours(t, map[string]string{"_bh_regular1": "Mon 9:00-10:00"}),
		Capacity: capacity(t, map[string]string{"_capacity_1": `{"1":{"0900":4}}`}),
	}
	tests := []struct {
		name, at string
		wantSlot string
		wantOpen bool
	}{
		{"OpenSlot", "2026-01-05T09:20Z", "2026-01-05T09:15Z/2026-01-05T09:30Z=4", true},
		{"SlotAtOpening", "2026-01-05T09:00Z", "2026-01-05T09:00Z/2026-01-05T09:15Z=4", true},
		{"ClosedSlotHasNoTotal", "2026-01-05T10:05Z", "2026-01-05T10:00Z/2026-01-05T10:15Z=0", false},
		{"ClosedDay", "2026-01-06T09:20Z", "2026-01-06T09:15Z/2026-01-06T09:30Z=0", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slot, open := g.SlotAt(at(t, tc.at))
			if got := slotStrings([]calendar.Slot{slot})[0]; got != tc.wantSlot || open != tc.wantOpen {
				t.Errorf("SlotAt(%s) = %s, %v; want %s, %v", tc.at, got, open, tc.wantSlot, tc.wantOpen)
			}
		})
	}
}

func TestGridPropose(t *testing.T) {
	g := calendar.Grid{
		Bucket: 5,
		Hours:  hours(t, map[string]string{"_bh_regular1": "Mon-Fri 9:00-17:00"}),
		Max:    5,
	}
	booked := func(counts map[string]int) func(time.Time) int {
		return func(s time.Time) int { return counts[short(s)] }
	}
	full := map[string]int{"2026-01-05T16:45Z": 5, "2026-01-05T16:35Z": 5, "2026-01-05T16:25Z": 2}
	tests := []struct {
		name      string
		grid      calendar.Grid
		at        string
		used      func(time.Time) int
		each      int
		notBefore string
		want      []string
	}{
		{
			name: "NearestOnBothSidesUpToClosing", grid: g, at: "2026-01-05T16:45Z", used: booked(full), each: 2,
			want: []string{
				"2026-01-05T16:30Z 5/5", "2026-01-05T16:40Z 5/5",
				"2026-01-05T16:50Z 5/5", "2026-01-05T16:55Z 5/5",
			},
		},
		{
			name: "SkipsFullSlotsAndCrossesToNextOpenDay", grid: g, at: "2026-01-05T16:45Z", used: booked(full), each: 4,
			want: []string{
				"2026-01-05T16:20Z 5/5", "2026-01-05T16:25Z 3/5", "2026-01-05T16:30Z 5/5", "2026-01-05T16:40Z 5/5",
				"2026-01-05T16:50Z 5/5", "2026-01-05T16:55Z 5/5", "2026-01-06T09:00Z 5/5", "2026-01-06T09:05Z 5/5",
			},
		},
		{
			name: "NeverBeforeNotBefore", grid: g, at: "2026-01-05T16:45Z", used: booked(full), each: 4,
			notBefore: "2026-01-05T16:32Z",
			want: []string{
				"2026-01-05T16:40Z 5/5",
				"2026-01-05T16:50Z 5/5", "2026-01-05T16:55Z 5/5", "2026-01-06T09:00Z 5/5", "2026-01-06T09:05Z 5/5",
			},
		},
		{
			name: "DesiredTimeOnClosedDaySkipsClosedStretches", grid: g, at: "2026-01-10T12:00Z", each: 2,
			want: []string{
				"2026-01-09T16:50Z 5/5", "2026-01-09T16:55Z 5/5",
				"2026-01-12T09:00Z 5/5", "2026-01-12T09:05Z 5/5",
			},
		},
		{
			name: "ZeroCapacitySlotsSkipped",
			grid: calendar.Grid{
				Bucket: 30, Hours: g.Hours,
				Capacity: capacity(t, map[string]string{"_capacity_1": `{"1":{"0900":0,"1000":2,"1100":0,"1200":1}}`}),
			},
			at: "2026-01-05T11:15Z", each: 2,
			want: []string{
				"2026-01-05T10:00Z 2/2", "2026-01-05T10:30Z 2/2",
				"2026-01-05T12:00Z 1/1", "2026-01-05T12:30Z 1/1",
			},
		},
		{
			name: "ClosedCalendarGivesNothing",
			grid: calendar.Grid{Bucket: 5, Hours: hours(t, map[string]string{}), Max: 5},
			at:   "2026-01-05T10:00Z", each: 4,
			want: nil,
		},
		{
			name: "FullCalendarGivesNothing", grid: g, at: "2026-01-05T10:00Z", each: 4,
			used: func(time.Time) int { return 5 },
			want: nil,
		},
		{
			name: "NoProposalsAsked", grid: g, at: "2026-01-05T16:45Z", each: 0,
			want: nil,
		},
		{
			name: "OnlyWithinHorizon",
			grid: calendar.Grid{Bucket: 60, Hours: hours(t, map[string]string{"_bh_add1": "2026-01-25 9:00-10:00", "_bh_add2": "2026-01-18 9:00-10:00"}), Max: 1},
			at:   "2026-01-05T10:00Z", each: 3,
			want: []string{"2026-01-18T09:00Z 1/1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var notBefore time.Time
			if tc.notBefore != "" {
				notBefore = at(t, tc.notBefore)
			}
			got := tc.grid.Propose(at(t, tc.at), tc.used, tc.each, notBefore)
			assertStrings(t, "Propose", proposalStrings(got), tc.want)
		})
	}
}

// The booking check (SlotAt) and the availability list (Slots) must never
// disagree, also on daylight-saving days and with hours off slot boundaries.
func TestGridSlotAtAgreesWithSlots(t *testing.T) {
	o := hours(t, map[string]string{
		"_timezone":    "Europe/Paris",
		"_bh_regular1": "Mon-Sun 1:10-2:40",
		"_bh_regular2": "Sat-Sun 22:00-3:30",
		"_holiday1":    "2026-03-30 0:00-1:00",
	})
	from, to := at(t, "2026-03-27T00:00Z"), at(t, "2026-03-31T00:00Z")
	for _, m := range []int{5, 20, 60, 120} {
		g := calendar.Grid{Bucket: m, Hours: o, Max: 1}
		offered := map[time.Time]calendar.Slot{}
		for _, s := range g.Slots(from, to) {
			offered[s.Start] = s
		}
		if len(offered) == 0 {
			t.Fatalf("bucket %d: no slots offered", m)
		}
		for probe := from; probe.Before(to); probe = probe.Add(5 * time.Minute) {
			slot, open := g.SlotAt(probe.Add(time.Minute))
			want, listed := offered[slot.Start]
			if open != listed || (listed && slot != want) {
				t.Fatalf("bucket %d at %s: SlotAt = %s open=%v, Slots has %s listed=%v",
					m, short(probe), slotStrings([]calendar.Slot{slot})[0], open, slotStrings([]calendar.Slot{want})[0], listed)
			}
		}
	}
}

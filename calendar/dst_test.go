package calendar_test

import (
	"testing"
	"time"
)

// An office open 09:00-18:00 every day is open exactly those local hours on
// the Saturday before, the Sunday of and the Monday after every transition.
func TestOpenPeriodsKeepLocalHoursAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		name, zone, from, to string
		want                 []string
	}{
		{
			name: "ParisSpringForward", zone: "Europe/Paris",
			from: "2026-03-28T00:00Z", to: "2026-03-31T00:00Z",
			want: []string{ // CET +1 on Saturday, CEST +2 from Sunday 01:00Z
				"2026-03-28T08:00Z/2026-03-28T17:00Z",
				"2026-03-29T07:00Z/2026-03-29T16:00Z",
				"2026-03-30T07:00Z/2026-03-30T16:00Z",
			},
		},
		{
			name: "ParisFallBack", zone: "Europe/Paris",
			from: "2026-10-24T00:00Z", to: "2026-10-27T00:00Z",
			want: []string{
				"2026-10-24T07:00Z/2026-10-24T16:00Z",
				"2026-10-25T08:00Z/2026-10-25T17:00Z",
				"2026-10-26T08:00Z/2026-10-26T17:00Z",
			},
		},
		{
			name: "NewYorkSpringForward", zone: "America/New_York",
			from: "2026-03-07T00:00Z", to: "2026-03-10T00:00Z",
			want: []string{ // EST -5 on Saturday, EDT -4 from Sunday 07:00Z
				"2026-03-07T14:00Z/2026-03-07T23:00Z",
				"2026-03-08T13:00Z/2026-03-08T22:00Z",
				"2026-03-09T13:00Z/2026-03-09T22:00Z",
			},
		},
		{
			name: "NewYorkFallBack", zone: "America/New_York",
			from: "2026-10-31T00:00Z", to: "2026-11-03T00:00Z",
			want: []string{
				"2026-10-31T13:00Z/2026-10-31T22:00Z",
				"2026-11-01T14:00Z/2026-11-01T23:00Z",
				"2026-11-02T14:00Z/2026-11-02T23:00Z",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := hours(t, map[string]string{"_timezone": tc.zone, "_bh_regular1": "Mon-Sun 9:00-18:00"})
			got := o.OpenPeriods(at(t, tc.from), at(t, tc.to))
			assertStrings(t, "OpenPeriods", periods(got), tc.want)
			for _, p := range got {
				if d := p.End.Sub(p.Start); d != 9*time.Hour {
					t.Errorf("period %s lasts %v, want 9h", short(p.Start), d)
				}
			}
		})
	}
}

// A boundary that does not exist maps to the instant the clock jumps (the
// first instant after the gap); a boundary that exists twice maps to its
// first occurrence.
func TestOpenPeriodsResolveMissingAndRepeatedLocalTimes(t *testing.T) {
	tests := []struct {
		name, zone, rule, from, to string
		want                       []string
	}{
		{
			name: "ParisStartInGapOpensWhenClockJumps", zone: "Europe/Paris", rule: "Sun 2:30-5:00",
			from: "2026-03-28T12:00Z", to: "2026-03-30T00:00Z",
			want: []string{"2026-03-29T01:00Z/2026-03-29T03:00Z"}, // 03:00-05:00 CEST
		},
		{
			name: "ParisEndInGapClosesWhenClockJumps", zone: "Europe/Paris", rule: "Sat 22:00-2:30",
			from: "2026-03-28T00:00Z", to: "2026-03-30T00:00Z",
			want: []string{"2026-03-28T21:00Z/2026-03-29T01:00Z"},
		},
		{
			name: "ParisRepeatedStartIsFirstOccurrence", zone: "Europe/Paris", rule: "Sun 2:30-5:00",
			from: "2026-10-24T12:00Z", to: "2026-10-26T00:00Z",
			want: []string{"2026-10-25T00:30Z/2026-10-25T04:00Z"}, // 02:30 CEST to 05:00 CET
		},
		{
			name: "ParisRepeatedEndIsFirstOccurrence", zone: "Europe/Paris", rule: "Sat 22:00-2:30",
			from: "2026-10-24T00:00Z", to: "2026-10-26T00:00Z",
			want: []string{"2026-10-24T20:00Z/2026-10-25T00:30Z"},
		},
		{
			name: "NewYorkStartInGapOpensWhenClockJumps", zone: "America/New_York", rule: "Sun 2:30-5:00",
			from: "2026-03-07T12:00Z", to: "2026-03-09T00:00Z",
			want: []string{"2026-03-08T07:00Z/2026-03-08T09:00Z"}, // 03:00-05:00 EDT
		},
		{
			name: "NewYorkRepeatedStartIsFirstOccurrence", zone: "America/New_York", rule: "Sun 1:30-4:00",
			from: "2026-10-31T12:00Z", to: "2026-11-02T00:00Z",
			want: []string{"2026-11-01T05:30Z/2026-11-01T09:00Z"}, // 01:30 EDT to 04:00 EST
		},
		{
			name: "NewYorkRepeatedEndIsFirstOccurrence", zone: "America/New_York", rule: "Sat 22:00-1:30",
			from: "2026-10-31T00:00Z", to: "2026-11-02T00:00Z",
			want: []string{"2026-11-01T02:00Z/2026-11-01T05:30Z"},
		},
		{
			name: "MissingMidnightStartsDayWhenClockJumps", zone: "America/Sao_Paulo", rule: "Sun 0:00-2:00",
			from: "2018-11-03T12:00Z", to: "2018-11-05T00:00Z",
			want: []string{"2018-11-04T03:00Z/2018-11-04T04:00Z"}, // 00:00 -03 never happened; 01:00-02:00 -02
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := hours(t, map[string]string{"_timezone": tc.zone, "_bh_regular1": tc.rule})
			got := o.OpenPeriods(at(t, tc.from), at(t, tc.to))
			assertStrings(t, "OpenPeriods", periods(got), tc.want)
		})
	}
}

func TestStatusAroundGapBoundary(t *testing.T) {
	o := hours(t, map[string]string{"_timezone": "Europe/Paris", "_bh_regular1": "Sun 2:30-5:00"})
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-03-29T00:59:59Z", false}, // 01:59:59 CET
		{"2026-03-29T01:00Z", true},     // 03:00 CEST, the clock just jumped over 02:30
		{"2026-03-29T02:59:59Z", true},
		{"2026-03-29T03:00Z", false}, // 05:00 CEST
	}
	for _, tc := range tests {
		if got := o.IsOpen(at(t, tc.at)); got != tc.want {
			t.Errorf("IsOpen(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestHolidayFollowsLocalDateAcrossDaylightSaving(t *testing.T) {
	o := hours(t, map[string]string{
		"_timezone":    "Europe/Paris",
		"_bh_regular1": "Mon-Sun 0:00-24:00",
		"_holiday1":    "2026-03-29",
	})
	got := o.OpenPeriods(at(t, "2026-03-28T00:00Z"), at(t, "2026-03-31T00:00Z"))
	assertStrings(t, "OpenPeriods", periods(got), []string{
		"2026-03-28T00:00Z/2026-03-28T23:00Z", // the holiday starts at 00:00 CET
		"2026-03-29T22:00Z/2026-03-31T00:00Z", // and lasts 23 real hours, to 00:00 CEST
	})
}

package calendar_test

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd/calendar"
)

// Week of 2026-01-05: Monday 5 ... Sunday 11 (UTC unless the case says).
func TestOpenPeriods(t *testing.T) {
	weekday := map[string]string{"_bh_regular1": "Mon-Fri 9:00-17:00"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name     string
		opts     map[string]string
		from, to string
		want     []string
	}{
		{
			name: "WeekdayRange",
			opts: weekday, from: "2026-01-03T00:00Z", to: "2026-01-10T00:00Z",
			want: []string{
				"2026-01-05T09:00Z/2026-01-05T17:00Z", "2026-01-06T09:00Z/2026-01-06T17:00Z",
				"2026-01-07T09:00Z/2026-01-07T17:00Z", "2026-01-08T09:00Z/2026-01-08T17:00Z",
				"2026-01-09T09:00Z/2026-01-09T17:00Z",
			},
		},
		{
			name: "DayRangeWrapsPastSunday",
			opts: map[string]string{"_bh_regular": "Sat-Mon 10:00-12:00"},
			from: "2026-01-08T00:00Z", to: "2026-01-15T00:00Z",
			want: []string{
				"2026-01-10T10:00Z/2026-01-10T12:00Z", "2026-01-11T10:00Z/2026-01-11T12:00Z",
				"2026-01-12T10:00Z/2026-01-12T12:00Z",
			},
		},
		{
			name: "SingleDayAndCommaList",
			opts: map[string]string{"_bh_regular1": "Mon,Wed 8:00-9:00", "_bh_regular2": "sunday 08:00-09:00"},
			from: "2026-01-05T00:00Z", to: "2026-01-12T00:00Z",
			want: []string{
				"2026-01-05T08:00Z/2026-01-05T09:00Z", "2026-01-07T08:00Z/2026-01-07T09:00Z",
				"2026-01-11T08:00Z/2026-01-11T09:00Z",
			},
		},
		{
			name: "HourRangeWrapsPastMidnight",
			opts: map[string]string{"_bh_regular1": "Fri 19:00-7:00"},
			from: "2026-01-09T00:00Z", to: "2026-01-11T00:00Z",
			want: []string{"2026-01-09T19:00Z/2026-01-10T07:00Z"},
		},
		{
			name: "WrappedRangeClippedAtWindowStart",
			opts: map[string]string{"_bh_regular1": "Fri 19:00-7:00"},
			from: "2026-01-10T00:00Z", to: "2026-01-11T00:00Z",
			want: []string{"2026-01-10T00:00Z/2026-01-10T07:00Z"},
		},
		{
			name: "EndAt2400MergesWithNextDay",
			opts: map[string]string{"_bh_regular1": "Mon 18:00-24:00", "_bh_regular2": "Tue 0:00-6:00"},
			from: "2026-01-05T00:00Z", to: "2026-01-07T00:00Z",
			want: []string{"2026-01-05T18:00Z/2026-01-06T06:00Z"},
		},
		{
			name: "WholeDays",
			opts: map[string]string{"_bh_regular1": "Sat-Sun 0:00-24:00"},
			from: "2026-01-09T12:00Z", to: "2026-01-13T00:00Z",
			want: []string{"2026-01-10T00:00Z/2026-01-12T00:00Z"},
		},
		{
			name: "SeveralHourRanges",
			opts: map[string]string{"_bh_regular1": "Mon 9:00-12:00,13:00-17:00", "_bh_regular2": "Tue 9:00-10:00 11:00-12:00"},
			from: "2026-01-05T00:00Z", to: "2026-01-07T00:00Z",
			want: []string{
				"2026-01-05T09:00Z/2026-01-05T12:00Z", "2026-01-05T13:00Z/2026-01-05T17:00Z",
				"2026-01-06T09:00Z/2026-01-06T10:00Z", "2026-01-06T11:00Z/2026-01-06T12:00Z",
			},
		},
		{
			name: "BlanksAroundSeparators",
			opts: map[string]string{"_bh_regular1": "  Mon - Tue   9:00 - 10:00 "},
			from: "2026-01-05T00:00Z", to: "2026-01-07T00:00Z",
			want: []string{"2026-01-05T09:00Z/2026-01-05T10:00Z", "2026-01-06T09:00Z/2026-01-06T10:00Z"},
		},
		{
			name: "OverlappingRulesMerged",
			opts: map[string]string{"_bh_regular1": "Mon-Fri 9:00-13:00", "_bh_regular2": "Mon 12:00-18:00"},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{"2026-01-05T09:00Z/2026-01-05T18:00Z"},
		},
		{
			name: "ClippedToWindow",
			opts: weekday, from: "2026-01-05T10:00Z", to: "2026-01-05T12:30:15Z",
			want: []string{"2026-01-05T10:00Z/2026-01-05T12:30:15Z"},
		},
		{
			name: "EmptyWindow",
			opts: weekday, from: "2026-01-05T12:00Z", to: "2026-01-05T12:00Z",
			want: nil,
		},
		{
			name: "HolidayClosesTheDay",
			opts: with(weekday, "_holiday1", "2026-01-07"),
			from: "2026-01-06T00:00Z", to: "2026-01-09T00:00Z",
			want: []string{"2026-01-06T09:00Z/2026-01-06T17:00Z", "2026-01-08T09:00Z/2026-01-08T17:00Z"},
		},
		{
			name: "YearlyHolidayRecurs",
			opts: with(weekday, "_holiday1", "01-07"),
			from: "2027-01-06T00:00Z", to: "2027-01-09T00:00Z",
			want: []string{"2027-01-06T09:00Z/2027-01-06T17:00Z", "2027-01-08T09:00Z/2027-01-08T17:00Z"},
		},
		{
			name: "HolidayWithHoursClosesPartOfTheDay",
			opts: with(weekday, "_holiday1", "2026-01-07 12:00-24:00"),
			from: "2026-01-07T00:00Z", to: "2026-01-08T00:00Z",
			want: []string{"2026-01-07T09:00Z/2026-01-07T12:00Z"},
		},
		{
			name: "DropIsAnAliasOfHoliday",
			opts: with(weekday, "_bh_drop1", "01-07 9:00-10:00", "_bh_drop2", "2026-01-07 16:00-17:00"),
			from: "2026-01-07T00:00Z", to: "2026-01-08T00:00Z",
			want: []string{"2026-01-07T10:00Z/2026-01-07T16:00Z"},
		},
		{
			name: "HolidayClosesEarlyHoursOfWrappedRange",
			opts: map[string]string{"_bh_regular1": "Fri 19:00-7:00", "_holiday1": "2026-01-10"},
			from: "2026-01-09T00:00Z", to: "2026-01-11T00:00Z",
			want: []string{"2026-01-09T19:00Z/2026-01-10T00:00Z"},
		},
		{
			name: "AddOpensExtraPeriod",
			opts: with(weekday, "_bh_add1", "2026-01-10 10:00-14:00"),
			from: "2026-01-09T00:00Z", to: "2026-01-11T00:00Z",
			want: []string{"2026-01-09T09:00Z/2026-01-09T17:00Z", "2026-01-10T10:00Z/2026-01-10T14:00Z"},
		},
		{
			name: "YearlyAddRecurs",
			opts: with(weekday, "_bh_add1", "01-10 10:00-14:00"),
			from: "2027-01-10T00:00Z", to: "2027-01-11T00:00Z",
			want: []string{"2027-01-10T10:00Z/2027-01-10T14:00Z"},
		},
		{
			name: "AddExtendsRegularHours",
			opts: with(weekday, "_bh_add1", "2026-01-05 16:00-20:00"),
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{"2026-01-05T09:00Z/2026-01-05T20:00Z"},
		},
		{
			name: "AddBeatsHolidayOnTheSameDate",
			opts: with(weekday, "_holiday1", "2026-01-07", "_bh_add1", "2026-01-07 09:00-12:00"),
			from: "2026-01-07T00:00Z", to: "2026-01-08T00:00Z",
			want: []string{"2026-01-07T09:00Z/2026-01-07T12:00Z"},
		},
		{
			name: "AddWrapsPastMidnight",
			opts: map[string]string{"_bh_add1": "2026-01-10 22:00-2:00"},
			from: "2026-01-10T00:00Z", to: "2026-01-12T00:00Z",
			want: []string{"2026-01-10T22:00Z/2026-01-11T02:00Z"},
		},
		{
			name: "LeapDayHolidayOnlyInLeapYears",
			opts: map[string]string{"_bh_regular1": "Mon-Sun 9:00-10:00", "_holiday1": "02-29"},
			from: "2028-02-28T00:00Z", to: "2028-03-01T00:00Z",
			want: []string{"2028-02-28T09:00Z/2028-02-28T10:00Z"},
		},
		{
			name: "EffectiveFromADateOn",
			opts: with(weekday, "_effective_dates1", "2026-01-07"),
			from: "2026-01-05T00:00Z", to: "2026-01-09T00:00Z",
			want: []string{"2026-01-07T09:00Z/2026-01-07T17:00Z", "2026-01-08T09:00Z/2026-01-08T17:00Z"},
		},
		{
			name: "EffectiveRangeIncludesBothEnds",
			opts: with(weekday, "_effective_dates1", "2026-01-06 to 2026-01-07"),
			from: "2026-01-05T00:00Z", to: "2026-01-10T00:00Z",
			want: []string{"2026-01-06T09:00Z/2026-01-06T17:00Z", "2026-01-07T09:00Z/2026-01-07T17:00Z"},
		},
		{
			name: "SeveralEffectiveRanges",
			opts: with(weekday, "_effective_dates1", "2026-01-05 to 2026-01-05", "_effective_dates2", "2026-01-09"),
			from: "2026-01-05T00:00Z", to: "2026-01-10T00:00Z",
			want: []string{"2026-01-05T09:00Z/2026-01-05T17:00Z", "2026-01-09T09:00Z/2026-01-09T17:00Z"},
		},
		{
			name: "EffectiveDatesBeatAdd",
			opts: with(weekday, "_effective_dates1", "2026-01-05 to 2026-01-08", "_bh_add1", "2026-01-10 10:00-14:00"),
			from: "2026-01-08T00:00Z", to: "2026-01-11T00:00Z",
			want: []string{"2026-01-08T09:00Z/2026-01-08T17:00Z"},
		},
		{
			name: "EffectiveDatesCutWrappedRangeAtMidnight",
			opts: map[string]string{"_bh_regular1": "Thu 19:00-7:00", "_effective_dates1": "2026-01-01 to 2026-01-08"},
			from: "2026-01-08T00:00Z", to: "2026-01-10T00:00Z",
			want: []string{"2026-01-08T19:00Z/2026-01-09T00:00Z"},
		},
		{
			name: "EffectiveDatesFollowTheOfficeZone",
			opts: map[string]string{"_timezone": "Europe/Paris", "_bh_regular1": "Mon-Sun 0:00-24:00", "_effective_dates1": "2026-01-06 to 2026-01-06"},
			from: "2026-01-04T00:00Z", to: "2026-01-09T00:00Z",
			want: []string{"2026-01-05T23:00Z/2026-01-06T23:00Z"},
		},
		{
			name: "NoRulesNeverOpen",
			opts: map[string]string{"_timezone": "Europe/Paris", "_type": "builtin", "_service": "office-hours"},
			from: "2026-01-05T00:00Z", to: "2026-01-12T00:00Z",
			want: nil,
		},
		{
			name: "BlankIndexedOptionIsSwitchedOff",
			opts: with(weekday, "_bh_regular2", "   ", "_holiday1", ""),
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{"2026-01-05T09:00Z/2026-01-05T17:00Z"},
		},
		{
			name: "HoursAreLocalToTheZone",
			opts: map[string]string{"_timezone": "Asia/Kolkata", "_bh_regular1": "Mon 9:00-17:00"},
			from: "2026-01-05T00:00Z", to: "2026-01-06T00:00Z",
			want: []string{"2026-01-05T03:30Z/2026-01-05T11:30Z"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := hours(t, tc.opts)
			got := o.OpenPeriods(at(t, tc.from), at(t, tc.to))
			assertStrings(t, "OpenPeriods", periods(got), tc.want)
		})
	}
}

func TestOpenPeriodsNilOfficeIsAlwaysOpen(t *testing.T) {
	var o *calendar.OfficeHours
	got := o.OpenPeriods(at(t, "2026-01-05T00:00Z"), at(t, "2026-01-06T00:00Z"))
	assertStrings(t, "OpenPeriods", periods(got), []string{"2026-01-05T00:00Z/2026-01-06T00:00Z"})
	if o.Location() != time.UTC {
		t.Errorf("Location() = %v, want UTC", o.Location())
	}
}

func TestStatus(t *testing.T) {
	base := map[string]string{
		"_bh_regular1":      "Mon-Fri 9:00-17:00",
		"_bh_regular2":      "Fri 19:00-7:00",
		"_holiday1":         "2026-01-07",
		"_bh_add1":          "2026-01-17 10:00-12:00",
		"_effective_dates1": "2026-01-01 to 2026-01-31",
	}
	tests := []struct {
		name       string
		opts       map[string]string
		at         string
		wantOpen   bool
		wantReason string
	}{
		{"OpenInsideRegularHours", base, "2026-01-05T10:00Z", true, ""},
		{"OpenAtOpeningInstant", base, "2026-01-05T09:00Z", true, ""},
		{"ClosedAtClosingInstant", base, "2026-01-05T17:00Z", false, calendar.ReasonClosedNoMatch},
		{"ClosedBeforeOpening", base, "2026-01-05T08:59:59.999Z", false, calendar.ReasonClosedNoMatch},
		{"ClosedOnWeekdayWithoutHours", base, "2026-01-11T10:00Z", false, calendar.ReasonClosedDayOfWeek},
		{"OpenInWrappedHoursNextMorning", base, "2026-01-10T03:00Z", true, ""},
		{"ClosedLaterOnDayReachedByWrap", base, "2026-01-10T10:00Z", false, calendar.ReasonClosedNoMatch},
		{"ClosedOnHoliday", base, "2026-01-07T10:00Z", false, calendar.ReasonClosedNoMatch},
		{"OpenOnAddedDate", base, "2026-01-17T11:00Z", true, ""},
		{"ClosedOnAddedDateOutsideItsHours", base, "2026-01-17T13:00Z", false, calendar.ReasonClosedNoMatch},
		{"ClosedSaturdayWithoutAdd", base, "2026-01-24T13:00Z", false, calendar.ReasonClosedNoMatch},
		{"ClosedOutsideEffectiveDates", base, "2026-02-02T10:00Z", false, calendar.ReasonClosedNoMatch},
		{"ClosedWeekdayOutsideEffectiveDates", base, "2026-02-08T10:00Z", false, calendar.ReasonClosedDayOfWeek},
		{"NoRulesClosedDayOfWeek", map[string]string{}, "2026-01-05T10:00Z", false, calendar.ReasonClosedDayOfWeek},
		{"LocalDayDecidesTheReason", map[string]string{"_timezone": "Asia/Tokyo", "_bh_regular1": "Mon 9:00-17:00"}, "2026-01-04T23:00Z", false, calendar.ReasonClosedNoMatch},
		{"LocalDayDecidesTheReasonBeforeMidnight", map[string]string{"_timezone": "Asia/Tokyo", "_bh_regular1": "Mon 9:00-17:00"}, "2026-01-04T14:59Z", false, calendar.ReasonClosedDayOfWeek},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := hours(t, tc.opts)
			open, reason := o.Status(at(t, tc.at))
			if open != tc.wantOpen || reason != tc.wantReason {
				t.Errorf("Status(%s) = %v, %q; want %v, %q", tc.at, open, reason, tc.wantOpen, tc.wantReason)
			}
			if o.IsOpen(at(t, tc.at)) != tc.wantOpen {
				t.Errorf("IsOpen(%s) disagrees with Status", tc.at)
			}
		})
	}
}

func TestStatusNilOfficeIsOpen(t *testing.T) {
	var o *calendar.OfficeHours
	if open, reason := o.Status(at(t, "2026-01-11T03:00Z")); !open || reason != "" {
		t.Errorf("Status = %v, %q; want true, \"\"", open, reason)
	}
}

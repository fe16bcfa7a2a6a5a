package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd/calendar"
)

func TestOptionErrorNamesOptionAndValue(t *testing.T) {
	_, errs := calendar.ParseOfficeHours(map[string]string{"_bh_regular1": "Mon-Fru 9:00-17:00"})
	if len(errs) != 1 {
		t.Fatalf("got %d errors %v, want 1", len(errs), errs)
	}
	const want = `_bh_regular1 = "Mon-Fru 9:00-17:00": unknown day "Fru"`
	if got := errs[0].Error(); got != want {
		t.Errorf("Error() = %s\nwant      %s", got, want)
	}
	var _ error = errs[0] // OptionError is an error
}

func TestParseOfficeHoursRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, option, value, wantMessage string
	}{
		{"UnknownDay", "_bh_regular1", "Mon-Fru 9:00-17:00", `unknown day "Fru"`},
		{"MissingHours", "_bh_regular", "Mon-Fri", "want days and hours"},
		{"MissingDays", "_bh_regular2", "9:00-17:00", "want days and hours"},
		{"HourOutOfRange", "_bh_regular2", "Mon-Fri 9:00-25:00", `bad time "25:00": out of range`},
		{"MinuteOutOfRange", "_bh_regular2", "Mon-Fri 9:60-17:00", `bad time "9:60": out of range`},
		{"StartAt2400", "_bh_regular3", "Mon-Fri 24:00-5:00", "24:00 is only allowed as the end"},
		{"EmptyHourRange", "_bh_regular4", "Mon-Fri 9:00-9:00", "empty range"},
		{"HoursWithoutMinutes", "_bh_regular5", "Mon-Fri 9-17", `bad time "9": want H:mm or HH:mm`},
		{"OneDigitMinutes", "_bh_regular6", "Mon-Fri 9:0-17:00", `bad time "9:0"`},
		{"HourRangeWithoutDash", "_bh_regular7", "Mon-Fri 9:00", `bad hours "9:00"`},
		{"ThreeDayRange", "_bh_regular8", "Mon-Wed-Fri 9:00-17:00", `unknown day "Wed-Fri"`},
		{"AddWithoutHours", "_bh_add1", "12-24", "missing hours"},
		{"AddNoSuchDay", "_bh_add2", "2026-02-30 9:00-10:00", "no such day"},
		{"AddNoSuchMonth", "_bh_add3", "13-01 9:00-10:00", "no such day"},
		{"AddBadHours", "_bh_add4", "12-24 9:00-", `bad time ""`},
		{"HolidaySlashes", "_holiday1", "25/12", `bad date "25/12"`},
		{"HolidayYearTooShort", "_holiday2", "26-12-25", `bad date "26-12-25"`},
		{"HolidayBadHours", "_holiday3", "2026-12-25 9:00", `bad hours "9:00"`},
		{"DropYearZero", "_bh_drop1", "0000-12-25", "no year 0000"},
		{"DropFebruary30Yearly", "_bh_drop2", "02-30", "no such day"},
		{"EffectiveEndBeforeStart", "_effective_dates1", "2026-06-30 to 2026-01-01", "is before start date"},
		{"EffectiveYearly", "_effective_dates2", "12-25", "want yyyy-MM-dd"},
		{"EffectiveBadKeyword", "_effective_dates3", "2026-01-01 until 2026-02-01", "want yyyy-MM-dd or yyyy-MM-dd to yyyy-MM-dd"},
		{"EffectiveBadEnd", "_effective_dates4", "2026-01-01 to 2026-02-31", "no such day"},
		{"UnknownZone", "_timezone", "Mars/Olympus", `unknown time zone "Mars/Olympus"`},
		{"HostLocalZone", "_timezone", "Local", `unknown time zone "Local"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, errs := calendar.ParseOfficeHours(map[string]string{tc.option: tc.value})
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want 1", len(errs), errs)
			}
			e := errs[0]
			if e.Option != tc.option || e.Value != tc.value {
				t.Errorf("error names %s = %q, want %s = %q", e.Option, e.Value, tc.option, tc.value)
			}
			if !strings.Contains(e.Message, tc.wantMessage) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.wantMessage)
			}
			if o == nil {
				t.Fatal("ParseOfficeHours returned a nil office with errors; want a usable one")
			}
		})
	}
}

func TestParseOfficeHoursReportsEveryBadOptionAndKeepsGoodOnes(t *testing.T) {
	o, errs := calendar.ParseOfficeHours(map[string]string{
		"_timezone":    "Nowhere/Land",
		"_bh_regular1": "Mon 9:00-10:00",
		"_bh_regular2": "Tue 9:00-99:00",
		"_holiday1":    "xmas",
		"_bh_add1":     "2026-01-06 9:00-10:00",
	})
	var names []string
	for _, e := range errs {
		names = append(names, e.Option)
	}
	assertStrings(t, "error options", names, []string{"_bh_regular2", "_holiday1", "_timezone"})
	if o.Location() != time.UTC {
		t.Errorf("Location() = %v after a bad _timezone, want UTC", o.Location())
	}
	got := o.OpenPeriods(at(t, "2026-01-05T00:00Z"), at(t, "2026-01-07T00:00Z"))
	assertStrings(t, "OpenPeriods", periods(got), []string{
		"2026-01-05T09:00Z/2026-01-05T10:00Z", "2026-01-06T09:00Z/2026-01-06T10:00Z",
	})
}

func TestParseOfficeHoursAcceptsIndexedNames(t *testing.T) {
	for _, name := range []string{"_bh_regular", "_bh_regular1", "_bh_regular12", "_bh_regular_b", "_bh_regular-x"} {
		t.Run(name, func(t *testing.T) {
			o := hours(t, map[string]string{name: "Mon 9:00-10:00"})
			if !o.IsOpen(at(t, "2026-01-05T09:30Z")) {
				t.Errorf("%s was not read as a regular-hours option", name)
			}
		})
	}
	t.Run("OtherOptionsIgnored", func(t *testing.T) {
		o := hours(t, map[string]string{"_bh_regular.old": "Mon 9:00-10:00", "_type": "builtin"})
		if o.IsOpen(at(t, "2026-01-05T09:30Z")) {
			t.Error("_bh_regular.old was read as a regular-hours option")
		}
	})
}

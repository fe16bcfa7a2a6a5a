package calendar_test

import (
	"strings"
	"testing"

	"github.com/callbackd/callbackd/calendar"
)

func capacity(t testing.TB, opts map[string]string) *calendar.Capacity {
	t.Helper()
	c, errs := calendar.ParseCapacity(opts)
	if len(errs) > 0 {
		t.Fatalf("ParseCapacity(%v): unexpected errors %v", opts, errs)
	}
	return c
}

func TestCapacityAt(t *testing.T) {
	paris := map[string]string{
		"_service":    "capacity",
		"_timezone":   "Europe/Paris",
		"_capacity":   "[Mon, Tue, Wed, Thu, Fri, Sat, Sun]",
		"_capacity_1": `{"1":{"0900":10,"1000":5}}`,
		"_capacity_3": `{"3":{"0800":2,"0830":4}}`,
		"_capacity_7": `{"7":{"0900":"3"}}`,
	}
	tests := []struct {
		name string
		opts map[string]string
		at   string
		want int
	}{
		{"KeyAppliesFromItsLocalTime", paris, "2026-01-05T08:00Z", 10}, // Mon 09:00 CET
		{"KeyAppliesToEveryBucketOfItsHour", paris, "2026-01-05T08:55Z", 10},
		{"NextKeyTakesOver", paris, "2026-01-05T09:00Z", 5},
		{"LastKeyLastsOneHour", paris, "2026-01-05T09:59:59Z", 5},
		{"NothingAfterLastKeysHour", paris, "2026-01-05T10:00Z", 0},
		{"NothingBeforeFirstKey", paris, "2026-01-05T07:55Z", 0},
		{"DayWithoutTableHoldsNothing", paris, "2026-01-06T08:00Z", 0},
		{"HalfHourKeysCutEachOther", paris, "2026-01-07T07:25Z", 2},
		{"SecondHalfHourKey", paris, "2026-01-07T07:30Z", 4},
		{"SecondHalfHourKeyLastsOneHour", paris, "2026-01-07T08:25Z", 4},
		{"SecondHalfHourKeyEnds", paris, "2026-01-07T08:30Z", 0},
		{"CountAsString", paris, "2026-01-11T08:00Z", 3},
		{"ReadInLocalTimeAfterSpringForward", paris, "2026-03-29T07:00Z", 3}, // Sun 09:00 CEST
		{"NotReadWithWinterOffsetInSummer", paris, "2026-03-29T08:00Z", 0},   // Sun 10:00 CEST
		{"MondayTableInSummer", paris, "2026-06-01T07:00Z", 10},              // Mon 09:00 CEST
		{
			"UnlistedWeekdayHoldsNothing",
			map[string]string{"_capacity": "[Tue]", "_capacity_1": `{"1":{"0900":10}}`, "_capacity_2": `{"2":{"0900":7}}`},
			"2026-01-05T09:00Z", 0,
		},
		{
			"ListedWeekdayIsUsed",
			map[string]string{"_capacity": "[Tue]", "_capacity_1": `{"1":{"0900":10}}`, "_capacity_2": `{"2":{"0900":7}}`},
			"2026-01-06T09:00Z", 7,
		},
		{
			"WithoutDayListEveryTableIsUsed",
			map[string]string{"_capacity_1": `{"1":{"0900":10}}`},
			"2026-01-05T09:00Z", 10,
		},
		{
			"DayListByNumber",
			map[string]string{"_capacity": "[1, 7]", "_capacity_7": `{"7":{"2300":4}}`},
			"2026-01-11T23:30Z", 4,
		},
		{
			"EmptyTableHoldsNothing",
			map[string]string{"_capacity_1": `{"1":{}}`},
			"2026-01-05T09:00Z", 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := capacity(t, tc.opts)
			if got := c.At(at(t, tc.at)); got != tc.want {
				t.Errorf("At(%s) = %d, want %d", tc.at, got, tc.want)
			}
		})
	}
}

func TestCapacityAddReplacesTheDate(t *testing.T) {
	c := capacity(t, map[string]string{
		"_capacity_1":   `{"1":{"0900":10,"1000":10}}`,
		"_capacity_4":   `{"4":{"0900":10}}`,
		"_capacity_2":   `{"2":{"0900":10}}`,
		"_capacity_add": `{"2026-01-05":{"0900":3}, "01-05":{"0900":7}, "12-24":{}}`,
	})
	tests := []struct {
		name, at string
		want     int
	}{
		{"FullDateBeatsYearly", "2026-01-05T09:00Z", 3},
		{"WholeDayReplaced", "2026-01-05T10:00Z", 0},
		{"YearlyDateRecurs", "2027-01-05T09:00Z", 7}, // a Tuesday
		{"EmptyTableClosesDate", "2026-12-24T09:00Z", 0},
		{"OtherDatesUseWeekday", "2026-01-12T10:00Z", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.At(at(t, tc.at)); got != tc.want {
				t.Errorf("At(%s) = %d, want %d", tc.at, got, tc.want)
			}
		})
	}
}

func TestMaxCapacityCapsEverySlot(t *testing.T) {
	c, errs := calendar.ParseCapacity(map[string]string{
		"_max_capacity": "8",
		"_capacity_1":   `{"1":{"0900":10,"1000":5}}`,
		"_capacity_add": `{"2026-01-06":{"0900":9}}`,
	})
	var names []string
	for _, e := range errs {
		names = append(names, e.Option)
	}
	assertStrings(t, "error options", names, []string{"_capacity_1", "_capacity_add"})
	for _, tc := range []struct {
		at   string
		want int
	}{{"2026-01-05T09:00Z", 8}, {"2026-01-05T10:00Z", 5}, {"2026-01-06T09:00Z", 8}} {
		if got := c.At(at(t, tc.at)); got != tc.want {
			t.Errorf("At(%s) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

func TestNilCapacityHoldsNothing(t *testing.T) {
	var c *calendar.Capacity
	if got := c.At(at(t, "2026-01-05T09:00Z")); got != 0 {
		t.Errorf("At = %d, want 0", got)
	}
}

func TestParseCapacityRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, option, value, wantMessage string
	}{
		{"NotJSON", "_capacity_1", "0900=10", "bad JSON"},
		{"NotAnObject", "_capacity_1", "[1,2]", "bad JSON"},
		{"NullTable", "_capacity_1", "null", "want an object"},
		{"TrailingData", "_capacity_1", `{"1":{}} {}`, "trailing data"},
		{"DayKeyMismatch", "_capacity_1", `{"2":{"0900":1}}`, `day key "2" does not match weekday 1`},
		{"ShortTimeKey", "_capacity_2", `{"2":{"900":1}}`, `bad time key "900"`},
		{"HourOutOfRange", "_capacity_2", `{"2":{"2400":1}}`, `bad time key "2400"`},
		{"MinuteOutOfRange", "_capacity_2", `{"2":{"0960":1}}`, `bad time key "0960"`},
		{"NegativeCount", "_capacity_3", `{"3":{"0900":-1}}`, "bad count -1"},
		{"FractionalCount", "_capacity_3", `{"3":{"0900":1.5}}`, "bad count 1.5"},
		{"BooleanCount", "_capacity_3", `{"3":{"0900":true}}`, "bad count true"},
		{"WordCount", "_capacity_3", `{"3":{"0900":"ten"}}`, "bad count ten"},
		{"TableNotObject", "_capacity_4", `{"4":[1]}`, "bad JSON"},
		{"UnknownDayInList", "_capacity", "[Mon, Fru]", `unknown day "Fru"`},
		{"DayNumberOutOfRange", "_capacity", "[0]", `unknown day "0"`},
		{"MaxNotANumber", "_max_capacity", "lots", "want a whole number"},
		{"MaxNegative", "_max_capacity", "-1", "want a whole number"},
		{"AddBadDate", "_capacity_add", `{"2026-13-01":{}}`, `bad date "2026-13-01"`},
		{"AddBadCount", "_capacity_add", `{"12-24":{"0900":"x"}}`, "12-24: 0900: bad count x"},
		{"AddNotJSON", "_capacity_add", `{2026-12-24:{}}`, "bad JSON"},
		{"BadZone", "_timezone", "EST5EDT/Nowhere", "unknown time zone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := calendar.ParseCapacity(map[string]string{tc.option: tc.value})
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
			if c == nil {
				t.Fatal("ParseCapacity returned nil with errors; want a usable table")
			}
		})
	}
}

func TestParseCapacityIgnoresOtherOptions(t *testing.T) {
	_, errs := calendar.ParseCapacity(map[string]string{
		"_type": "builtin", "_service": "capacity", "_capacity_8": "junk", "_capacity_service": "x", "_capacity_1": " ",
	})
	if len(errs) != 0 {
		t.Errorf("unexpected errors %v", errs)
	}
}

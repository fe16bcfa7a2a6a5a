package calendar_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	// Tests must not depend on the host's zone files.
	_ "time/tzdata"

	"github.com/callbackd/callbackd/calendar"
)

// at parses a UTC instant written as 2026-01-05T09:00Z or with seconds.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	for _, layout := range []string{"2006-01-02T15:04Z", "2006-01-02T15:04:05Z", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC()
		}
	}
	t.Fatalf("bad test time %q", s)
	return time.Time{}
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// hours parses office-hours options and fails the test on any OptionError.
func hours(t testing.TB, opts map[string]string) *calendar.OfficeHours {
	t.Helper()
	o, errs := calendar.ParseOfficeHours(opts)
	if len(errs) > 0 {
		t.Fatalf("ParseOfficeHours(%v): unexpected errors %v", opts, errs)
	}
	return o
}

// short renders a UTC instant as 2026-01-05T09:00Z, or with seconds when it
// has them.
func short(v time.Time) string {
	v = v.UTC()
	if v.Second() != 0 || v.Nanosecond() != 0 {
		return v.Format(time.RFC3339Nano)
	}
	return v.Format("2006-01-02T15:04Z")
}

// periods renders periods as "start/end" strings for readable diffs.
func periods(ps []calendar.Period) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, short(p.Start)+"/"+short(p.End))
	}
	return out
}

func slotStrings(slots []calendar.Slot) []string {
	out := []string{}
	for _, s := range slots {
		out = append(out, short(s.Start)+"/"+short(s.End)+"="+itoa(s.Total))
	}
	return out
}

func proposalStrings(ps []calendar.SlotAvailability) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, short(p.Start)+" "+itoa(p.Remaining)+"/"+itoa(p.Total))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func assertStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, "  "), strings.Join(want, "  "))
	}
}

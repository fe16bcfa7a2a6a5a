package calendar_test

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd/calendar"
)

func TestValidBucket(t *testing.T) {
	for m := -5; m <= 240; m++ {
		want := m == 5 || m == 10 || m == 15 || m == 20 || m == 30 || m == 60 || m == 120
		if got := calendar.ValidBucket(m); got != want {
			t.Errorf("ValidBucket(%d) = %v, want %v", m, got, want)
		}
	}
}

func TestFormatUTC(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"UTCWithZeroMilliseconds", time.Date(2013, 5, 28, 15, 30, 0, 0, time.UTC), "2013-05-28T15:30:00.000Z"},
		{"OtherZoneConvertedToUTC", time.Date(2013, 5, 28, 17, 30, 0, 0, mustLoc(t, "Europe/Paris")), "2013-05-28T15:30:00.000Z"},
		{"MillisecondsTruncated", time.Date(2017, 3, 3, 0, 24, 17, 804999999, time.UTC), "2017-03-03T00:24:17.804Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := calendar.FormatUTC(tc.in); got != tc.want {
				t.Errorf("FormatUTC = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBucketStartAndEnd(t *testing.T) {
	tests := []struct {
		name      string
		zone      string
		minutes   int
		at        string
		wantStart string
		wantEnd   string
	}{
		{"FiveMinutesUTC", "UTC", 5, "2026-01-05T10:07:30Z", "2026-01-05T10:05Z", "2026-01-05T10:10Z"},
		{"OnBoundaryStaysPut", "UTC", 5, "2026-01-05T10:05Z", "2026-01-05T10:05Z", "2026-01-05T10:10Z"},
		{"SubSecondsDropped", "UTC", 15, "2026-01-05T10:05:00.5Z", "2026-01-05T10:00Z", "2026-01-05T10:15Z"},
		{"InvalidLengthReadAsFive", "UTC", 7, "2026-01-05T10:07Z", "2026-01-05T10:05Z", "2026-01-05T10:10Z"},
		{"TwoHoursFromLocalMidnight", "UTC", 120, "2026-01-05T01:59Z", "2026-01-05T00:00Z", "2026-01-05T02:00Z"},
		{"KolkataHourStartsAtLocalFullHour", "Asia/Kolkata", 60, "2026-01-05T10:10Z", "2026-01-05T09:30Z", "2026-01-05T10:30Z"}, // 15:40 IST -> 15:00
		{"KolkataHalfHour", "Asia/Kolkata", 30, "2026-01-05T10:10Z", "2026-01-05T10:00Z", "2026-01-05T10:30Z"},
		{"KolkataTwoHours", "Asia/Kolkata", 120, "2026-01-05T10:10Z", "2026-01-05T08:30Z", "2026-01-05T10:30Z"}, // 14:00-16:00 IST
		{"KathmanduHour", "Asia/Kathmandu", 60, "2026-01-05T10:10Z", "2026-01-05T09:15Z", "2026-01-05T10:15Z"},  // 15:55 NPT -> 15:00
		{"KathmanduQuarter", "Asia/Kathmandu", 15, "2026-01-05T10:10Z", "2026-01-05T10:00Z", "2026-01-05T10:15Z"},
		{"NilZoneIsUTC", "", 60, "2026-01-05T10:10Z", "2026-01-05T10:00Z", "2026-01-05T11:00Z"},
		// Paris, 2026-03-29: 02:00 CET (01:00Z) jumps to 03:00 CEST.
		{"ParisSpringSlotBeforeJumpKeepsTwoRealHours", "Europe/Paris", 120, "2026-03-29T00:30Z", "2026-03-28T23:00Z", "2026-03-29T01:00Z"},
		{"ParisSpringSlotAfterJumpIsOneRealHour", "Europe/Paris", 120, "2026-03-29T01:30Z", "2026-03-29T01:00Z", "2026-03-29T02:00Z"},
		{"ParisSpringHourlySlotsUnaffected", "Europe/Paris", 60, "2026-03-29T01:30Z", "2026-03-29T01:00Z", "2026-03-29T02:00Z"},
		// Paris, 2026-10-25: 03:00 CEST (01:00Z) falls back to 02:00 CET.
		{"ParisFallFirstTwoOClock", "Europe/Paris", 60, "2026-10-25T00:30Z", "2026-10-25T00:00Z", "2026-10-25T01:00Z"},
		{"ParisFallSecondTwoOClock", "Europe/Paris", 60, "2026-10-25T01:30Z", "2026-10-25T01:00Z", "2026-10-25T02:00Z"},
		{"ParisFallFiveMinutesInSecondPass", "Europe/Paris", 5, "2026-10-25T01:32Z", "2026-10-25T01:30Z", "2026-10-25T01:35Z"},
		{"ParisFallTwoHoursCutAtChange", "Europe/Paris", 120, "2026-10-25T00:30Z", "2026-10-25T00:00Z", "2026-10-25T01:00Z"},
		{"ParisFallTwoHoursAfterChange", "Europe/Paris", 120, "2026-10-25T02:30Z", "2026-10-25T01:00Z", "2026-10-25T03:00Z"},
		// New York, 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT.
		{"NewYorkSpringHourBeforeJump", "America/New_York", 60, "2026-03-08T06:59Z", "2026-03-08T06:00Z", "2026-03-08T07:00Z"},
		{"NewYorkSpringHourAfterJump", "America/New_York", 60, "2026-03-08T07:30Z", "2026-03-08T07:00Z", "2026-03-08T08:00Z"},
		{"NewYorkSpringTwoHoursCutAtJump", "America/New_York", 120, "2026-03-08T06:30Z", "2026-03-08T05:00Z", "2026-03-08T07:00Z"}, // 00:00-02:00 EST
		// New York, 2026-11-01: 02:00 EDT (06:00Z) falls back to 01:00 EST.
		{"NewYorkFallSecondOneOClock", "America/New_York", 60, "2026-11-01T06:10Z", "2026-11-01T06:00Z", "2026-11-01T07:00Z"},
		{"NewYorkFallTwoHoursSecondPass", "America/New_York", 120, "2026-11-01T06:10Z", "2026-11-01T06:00Z", "2026-11-01T07:00Z"}, // 01:00 EST -> 02:00 EST
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var loc *time.Location
			if tc.zone != "" {
				loc = mustLoc(t, tc.zone)
			}
			start := calendar.BucketStart(at(t, tc.at), tc.minutes, loc)
			end := calendar.BucketEnd(start, tc.minutes, loc)
			if short(start) != tc.wantStart || short(end) != tc.wantEnd {
				t.Errorf("bucket of %s = %s/%s, want %s/%s", tc.at, short(start), short(end), tc.wantStart, tc.wantEnd)
			}
			if start.Location() != time.UTC {
				t.Errorf("BucketStart returned zone %v, want UTC", start.Location())
			}
		})
	}
}

// Around every kind of transition, for every valid length: slots follow one
// another without gap or overlap, every instant belongs to the slot
// BucketStart names, and every slot starts on a local multiple of its length
// or at an offset change.
func TestBucketsTileTimeAcrossTransitions(t *testing.T) {
	windows := []struct{ zone, from string }{
		{"Europe/Paris", "2026-03-28T12:00Z"},
		{"Europe/Paris", "2026-10-24T12:00Z"},
		{"America/New_York", "2026-03-07T12:00Z"},
		{"America/New_York", "2026-10-31T12:00Z"},
		{"Australia/Lord_Howe", "2026-04-04T00:00Z"}, // 30-minute daylight saving
		{"Australia/Lord_Howe", "2026-10-03T00:00Z"},
		{"America/Sao_Paulo", "2018-11-03T12:00Z"}, // midnight skipped
		{"Asia/Kathmandu", "1985-12-31T12:00Z"},    // +05:30 -> +05:45
	}
	for _, w := range windows {
		loc := mustLoc(t, w.zone)
		for _, m := range []int{5, 10, 15, 20, 30, 60, 120} {
			from := at(t, w.from)
			to := from.Add(48 * time.Hour)
			start := calendar.BucketStart(from, m, loc)
			for start.Before(to) {
				end := calendar.BucketEnd(start, m, loc)
				if !end.After(start) || end.Sub(start) > time.Duration(m)*time.Minute+time.Hour {
					t.Fatalf("%s/%d: slot %s/%s has a bad length", w.zone, m, short(start), short(end))
				}
				for _, probe := range []time.Time{start, start.Add(end.Sub(start) / 2), end.Add(-time.Second)} {
					if got := calendar.BucketStart(probe, m, loc); !got.Equal(start) {
						t.Fatalf("%s/%d: BucketStart(%s) = %s, want %s", w.zone, m, short(probe), short(got), short(start))
					}
				}
				local := start.In(loc)
				_, offNow := local.Zone()
				_, offBefore := start.Add(-time.Second).In(loc).Zone()
				minuteOfDay := local.Hour()*60 + local.Minute()
				if (minuteOfDay%m != 0 || local.Second() != 0) && offNow == offBefore {
					t.Fatalf("%s/%d: slot starts at local %s, neither aligned nor at an offset change", w.zone, m, local.Format("15:04:05"))
				}
				start = end
			}
		}
	}
}

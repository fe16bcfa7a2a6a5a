package calendar

import (
	"testing"
	"time"
)

func TestResolveSkippedAndRepeatedTimes(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	cases := []struct {
		name string
		wall time.Time
		want time.Time
	}{
		{"Normal", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)},
		{"SkippedMeansAfterGap", time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{"RepeatedMeansFirst", time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := Resolve(c.wall, paris); !got.Equal(c.want) {
			t.Errorf("%s: Resolve(%v) = %v, want %v", c.name, c.wall, got, c.want)
		}
	}
}

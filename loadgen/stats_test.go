package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = time.Duration(i+1) * time.Millisecond
	}
	ten := thousand[:10]
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"Median1000", thousand, 50, 500 * time.Millisecond},
		{"P90of1000", thousand, 90, 900 * time.Millisecond},
		{"P99of1000", thousand, 99, 990 * time.Millisecond},
		{"P99.9of1000", thousand, 99.9, 999 * time.Millisecond},
		{"P100of1000", thousand, 100, 1000 * time.Millisecond},
		{"Median10", ten, 50, 5 * time.Millisecond},
		{"P99of10IsTheMax", ten, 99, 10 * time.Millisecond},
		{"P1of10IsTheMin", ten, 1, time.Millisecond},
		{"One", []time.Duration{7}, 99.9, 7},
		{"None", nil, 50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.samples, tc.p); got != tc.want {
				t.Fatalf("percentile(p%g of %d) = %v, want %v", tc.p, len(tc.samples), got, tc.want)
			}
		})
	}
}

func TestSummariseSortsFirst(t *testing.T) {
	s := make([]time.Duration, 1000)
	for i := range s {
		s[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	l := summarise(s)
	want := latency{P50: 500 * time.Microsecond, P90: 900 * time.Microsecond, P99: 990 * time.Microsecond,
		P999: 999 * time.Microsecond, Max: 1000 * time.Microsecond}
	if l != want {
		t.Fatalf("summarise(shuffled 1..1000 µs) = %+v, want %+v", l, want)
	}
}

func TestTallyCountsErrorsByOpStatusAndCode(t *testing.T) {
	a, b := newTally(), newTally()
	booked := func() *ErrorKey { return &ErrorKey{Status: 429, Code: 40001, Phrase: "NUMBER_ALREADY_BOOKED"} }
	a.record(OpStart, time.Millisecond, nil)
	a.record(OpStart, time.Millisecond, booked())
	b.record(OpStart, time.Millisecond, booked())
	b.record(OpCancel, time.Millisecond, &ErrorKey{Status: 400, Code: 40030, Phrase: "CALLBACK_NOT_FOUND"})
	b.record(OpCancel, time.Millisecond, &ErrorKey{Transport: "timeout"})
	a.merge(b)
	got := a.errorCounts()
	want := []ErrorCount{
		{ErrorKey{Op: "start", Status: 429, Code: 40001, Phrase: "NUMBER_ALREADY_BOOKED"}, 2},
		{ErrorKey{Op: "cancel", Transport: "timeout"}, 1},
		{ErrorKey{Op: "cancel", Status: 400, Code: 40030, Phrase: "CALLBACK_NOT_FOUND"}, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("errorCounts = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("errorCounts[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if a.ok[OpStart] != 1 || len(a.samples[OpStart]) != 3 || len(a.samples[OpCancel]) != 2 {
		t.Errorf("ok/samples: start %d ok of %d, cancel %d samples", a.ok[OpStart], len(a.samples[OpStart]), len(a.samples[OpCancel]))
	}
}

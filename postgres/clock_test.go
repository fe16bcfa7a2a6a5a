package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
)

// skewedClock is the machine's clock off by a fixed amount, as on a node
// whose NTP is broken.
type skewedClock time.Duration

func (d skewedClock) Now() time.Time { return callbackd.SystemClock{}.Now().Add(time.Duration(d)) }

// serverNow reads the server's clock on its own round trip.
func serverNow(t *testing.T, s *Store) time.Time {
	t.Helper()
	var now time.Time
	if err := s.pool.QueryRow(context.Background(), `SELECT clock_timestamp()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

// TestClockFollowsServerWhateverTheLocalClock: nodes whose clocks are ten
// minutes fast, ten minutes slow or right all read the server's time.
func TestClockFollowsServerWhateverTheLocalClock(t *testing.T) {
	u, _ := pgtest.Schema(t)
	s := open(t, u)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		skew time.Duration
	}{{"TenMinutesFast", 10 * time.Minute}, {"TenMinutesSlow", -10 * time.Minute}, {"Right", 0}} {
		t.Run(c.name, func(t *testing.T) {
			clk, err := NewClock(ctx, s, skewedClock(c.skew))
			if err != nil {
				t.Fatal(err)
			}
			// Microsecond timestamps and scheduling: a little slack on top
			// of the clock's own bound.
			slack := clk.Uncertainty() + 2*time.Millisecond
			for range 3 {
				lo := serverNow(t, s)
				got := clk.Now()
				hi := serverNow(t, s)
				if got.Before(lo.Add(-slack)) || got.After(hi.Add(slack)) {
					t.Fatalf("clock says %v, server said %v then %v (slack %v)", got, lo, hi, slack)
				}
			}
			if off := clk.Offset() + c.skew; off < -time.Second || off > time.Second {
				t.Errorf("Offset() = %v with a local clock off by %v; want about %v", clk.Offset(), c.skew, -c.skew)
			}
		})
	}
}

// TestClockRunsOnTheLocalClock: between samples, time passes as the local
// clock says (tests move a ManualClock); the wall time it shows does not
// matter.
func TestClockRunsOnTheLocalClock(t *testing.T) {
	u, _ := pgtest.Schema(t)
	s := open(t, u)
	local := callbackd.NewManualClock(t0) // years away from the server's time
	clk, err := NewClock(context.Background(), s, local)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	if d := serverNow(t, s).Sub(start); d < 0 || d > time.Second {
		t.Fatalf("clock %v, server %v: not the server's time", start, serverNow(t, s))
	}
	local.Advance(90 * time.Second)
	if got := clk.Now().Sub(start); got != 90*time.Second {
		t.Fatalf("local clock moved 90s, database clock moved %v", got)
	}
}

// TestClockChoosesSamples drives the choice between the sample in use and
// a new one.
func TestClockChoosesSamples(t *testing.T) {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sample := func(localAfter time.Duration, serverMinusLocal time.Duration, rtt time.Duration) *clockSample {
		l := base.Add(localAfter)
		return &clockSample{server: l.Add(serverMinusLocal), local: l, rtt: rtt}
	}
	old := sample(0, time.Minute, time.Millisecond)
	cases := []struct {
		name  string
		old   *clockSample
		fresh *clockSample
		want  string
	}{
		{"FirstSample", nil, old, "fresh"},
		{"MorePreciseWins", old, sample(10*time.Second, time.Minute, 200*time.Microsecond), "fresh"},
		{"SlowRoundTripKeepsPreciseOld", old, sample(10*time.Second, time.Minute+50*time.Millisecond, 400*time.Millisecond), "old"},
		{"AgedOldLoses", old, sample(time.Hour, time.Minute, 400*time.Millisecond), "fresh"},
		{"ServerClockSteppedFollowed", old, sample(10*time.Second, time.Hour, 400*time.Millisecond), "fresh"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := choose(c.old, c.fresh)
			if (c.want == "fresh") != (got == c.fresh) {
				t.Fatalf("chose %+v, want the %s sample", got, c.want)
			}
		})
	}
}

// TestClockWithoutDatabase: when the database goes away, Sync answers
// SERVICE_UNAVAILABLE and the node keeps the database's time from its last
// sample; once it is back, Sync works again.
func TestClockWithoutDatabase(t *testing.T) {
	u, _ := pgtest.Schema(t)
	proxy := pgtest.NewProxy(t, u)
	s := open(t, proxy.URL(u))
	local := callbackd.NewManualClock(t0)
	clk, err := NewClock(context.Background(), s, local)
	if err != nil {
		t.Fatal(err)
	}
	before := clk.Now()
	proxy.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.Sync(ctx); callbackd.ErrorCode(err) != callbackd.CodeUnavailable {
		t.Fatalf("Sync without database: %v, want SERVICE_UNAVAILABLE", err)
	}
	local.Advance(time.Minute)
	if got := clk.Now().Sub(before); got != time.Minute {
		t.Fatalf("without database the clock moved %v while the local clock moved 1m", got)
	}
	proxy.Restore()
	if err := clk.Sync(ctx); err != nil {
		t.Fatalf("Sync after the database came back: %v", err)
	}
}

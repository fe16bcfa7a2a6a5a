package callbackd_test

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func TestTransitions(t *testing.T) {
	allowed := map[callbackd.State][]callbackd.State{
		callbackd.StateScheduled:  {callbackd.StateScheduled, callbackd.StateQueued, callbackd.StateRouting, callbackd.StateProcessing, callbackd.StatePaused, callbackd.StateCompleted},
		callbackd.StateQueued:     {callbackd.StateScheduled, callbackd.StateQueued, callbackd.StateRouting, callbackd.StateProcessing, callbackd.StatePaused, callbackd.StateCompleted},
		callbackd.StateRouting:    {callbackd.StateRouting, callbackd.StateProcessing, callbackd.StateCompleted},
		callbackd.StateProcessing: {callbackd.StateProcessing, callbackd.StateCompleted},
		callbackd.StatePaused:     {callbackd.StateScheduled, callbackd.StateQueued, callbackd.StatePaused, callbackd.StateCompleted},
		callbackd.StateCompleted:  nil,
	}
	for _, from := range callbackd.States {
		for _, to := range callbackd.States {
			want := false
			for _, s := range allowed[from] {
				want = want || s == to
			}
			if got := callbackd.CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestCompletedNeverChanges(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cb := &callbackd.Callback{ID: "x", Service: "svc", State: callbackd.StateQueued, DesiredTime: now}
	ev, err := cb.Transition(callbackd.StateCompleted, "", now, "test")
	if err != nil || cb.Reason != callbackd.ReasonNotAvailable || ev.Type != callbackd.EventCompleted || ev.Reason != callbackd.ReasonNotAvailable {
		t.Fatalf("complete without reason: %+v %+v %v", cb, ev, err)
	}
	want := "Rejecting update : svc=[x @ 2026-01-01T00:00:00.000Z] - reached state COMPLETED"
	checks := map[string]error{
		"Transition":  func() error { _, err := cb.Transition(callbackd.StateQueued, "", now, "t"); return err }(),
		"Reschedule":  func() error { _, err := cb.Reschedule(now, 0, callbackd.StateScheduled, now, "t"); return err }(),
		"SetProperty": cb.SetProperty("k", "v", now),
	}
	for name, err := range checks {
		if e, ok := callbackd.AsError(err); !ok || e.Code != callbackd.CodeInvalidOperation || e.Message != want {
			t.Errorf("%s on COMPLETED: %v", name, err)
		}
	}
	if cb.State != callbackd.StateCompleted || cb.Properties["k"] != "" {
		t.Fatalf("COMPLETED record changed: %+v", cb)
	}
}

func TestParseReason(t *testing.T) {
	for _, s := range []string{"CANCELLED", "agent_connected", "AGENT_PREVIEW_CANCEL_AFTER_12REJECTS", "SUBMIT_ERROR", "FAIL_USER_UNREACHABLE"} {
		if _, ok := callbackd.ParseReason(s); !ok {
			t.Errorf("ParseReason(%q) refused", s)
		}
	}
	for _, s := range []string{"", "DONE", "AGENT_PREVIEW_CANCEL_AFTER_REJECTS", "AGENT_PREVIEW_CANCEL_AFTER_xREJECTS"} {
		if _, ok := callbackd.ParseReason(s); ok {
			t.Errorf("ParseReason(%q) accepted", s)
		}
	}
}

func TestErrorStatusTable(t *testing.T) {
	cases := map[callbackd.Code]int{40001: 429, 40002: 429, 40003: 429, 40004: 429, 40010: 400, 40020: 400, 40030: 400,
		40040: 400, 40050: 400, 40051: 400, 50004: 500, 50005: 500, 50006: 500, 50020: 500, 50030: 500, 50040: 500, 50050: 500}
	for code, status := range cases {
		e := &callbackd.Error{Code: code}
		if e.Status() != status || e.Phrase() == "" {
			t.Errorf("code %d: status %d phrase %q, want %d", code, e.Status(), e.Phrase(), status)
		}
	}
	if got := (&callbackd.Error{Code: 50006}).Exception(); got != "com.genesyslab.gsg.services.callback.CallbackExceptionMaxORSSubmitAttempts" {
		t.Errorf("exception %s", got)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2013, 5, 28, 15, 30, 0, 0, time.UTC)
	for _, s := range []string{"2013-05-28T15:30:00.000Z", "2013-05-28T15:30:00Z", "2013-05-28T17:30:00+02:00", "2013-05-28T17:30:00.000+0200", "2013-05-28T15:30Z"} {
		got, err := callbackd.ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2013-05-28", "2013-05-28T15:30:00", "28/05/2013 15:30"} {
		if _, err := callbackd.ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) accepted", s)
		}
	}
	if got := callbackd.FormatTime(time.Date(2013, 5, 28, 17, 30, 0, 5e6, time.FixedZone("x", 7200))); got != "2013-05-28T15:30:00.005Z" {
		t.Errorf("FormatTime = %s", got)
	}
}

func TestAppendTimeMatchesFormat(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tm := range []time.Time{
		time.Date(2013, 5, 28, 15, 30, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(2026, 3, 29, 1, 0, 0, 7e6, paris),
		time.Date(2026, 10, 25, 2, 30, 0, 123456789, paris), time.Unix(1772434800, 5e8).UTC(),
	} {
		if got, want := string(callbackd.AppendTime(nil, tm, false)), tm.Format("2006-01-02T15:04:05.000"); got != want {
			t.Errorf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
		if got, want := string(callbackd.AppendTime(nil, tm.UTC(), true)), tm.UTC().Format(callbackd.TimeLayout); got != want {
			t.Errorf("AppendTime(%v, utc) = %s, want %s", tm, got, want)
		}
	}
}

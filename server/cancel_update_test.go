package server_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func TestCancel(t *testing.T) {
	h := newHarness(t, baseConfig)
	t.Run("OK", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.do("DELETE", "/1/service/callback/cb/"+id, "", "").wantOK(t)
		rec := h.get(id)
		if rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "CANCELLED" {
			t.Fatalf("after cancel: %v", rec)
		}
		// A second cancel is a 400 (CLIENTS.md).
		h.do("DELETE", "/1/service/callback/cb/"+id, "", "").
			wantError(t, 400, 40020, "INVALID_OPERATION", "Callback "+id+" cannot be cancelled or completed - _callback_state=COMPLETED")
	})
	t.Run("OKQueuedWithoutSession", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num()})
		h.do("DELETE", "/1/service/callback/cb/"+id, "", "").wantOK(t)
		if rec := h.get(id); rec["_callback_reason"] != "CANCELLED" {
			t.Fatalf("after cancel: %v", rec)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		m := h.do("DELETE", "/1/service/callback/cb/no-such-id", "", "").
			wantError(t, 400, 40030, "CALLBACK_NOT_FOUND", "Callback no-such-id cannot be found")
		if p := m["properties"].(map[string]any); p["id"] != "no-such-id" || p["service"] != "cb" {
			t.Errorf("properties %v", p)
		}
	})
	t.Run("ErrOtherServicesCallback", func(t *testing.T) {
		id := h.start("short", map[string]any{"_customer_number": num()})
		h.do("DELETE", "/1/service/callback/cb/"+id, "", "").
			wantError(t, 400, 40030, "CALLBACK_NOT_FOUND", "Callback "+id+" cannot be found")
	})
	t.Run("ErrProcessing", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_callback_state": "PROCESSING"})
		h.do("DELETE", "/1/service/callback/cb/"+id, "", "").
			wantError(t, 400, 40020, "INVALID_OPERATION", "Callback "+id+" cannot be cancelled or completed - _callback_state=PROCESSING")
	})
	t.Run("ExecutionSessionAndDiscard", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num()})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_ors_session_id": "ors-1", "_callback_state": "ROUTING"}).wantOK(t)
		h.do("DELETE", "/1/service/callback/cb/"+id, "", "").
			wantError(t, 400, 40020, "INVALID_OPERATION", "Callback "+id+" cannot be cancelled - unable to process ORS cancel request : no ORS URL for service cb (option _ors)")
		if st := h.get(id)["_callback_state"]; st != "ROUTING" {
			t.Fatalf("failed cancel changed the state to %s", st)
		}
		h.do("DELETE", "/1/service/callback/cb/"+id+"?discard_ors_failure=true", "", "").wantOK(t)
		if rec := h.get(id); rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "CANCELLED" {
			t.Fatalf("discard_ors_failure=true: %v", rec)
		}
	})
	t.Run("ErrBadDiscardFlag", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num()})
		h.do("DELETE", "/1/service/callback/cb/"+id+"?discard_ors_failure=maybe", "", "").
			wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid discard_ors_failure [maybe]: must be true or false")
	})
	t.Run("ErrUnknownService", func(t *testing.T) {
		h.do("DELETE", "/1/service/callback/ghost/x", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Service undefined: ghost")
	})
}

func TestReschedule(t *testing.T) {
	h := newHarness(t, baseConfig)
	t.Run("OK", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": ts(5 * time.Hour)}).wantOK(t)
		rec := h.get(id)
		if rec["_desired_time"] != ts(5*time.Hour) || rec["_expiration_time"] != ts(29*time.Hour) || rec["_callback_state"] != "SCHEDULED" {
			t.Fatalf("after reschedule: %v", rec)
		}
		evs, err := h.srv.Store().ListEvents(context.Background(), callbackd.EventQuery{CallbackID: id})
		if err != nil || len(evs) != 2 || evs[1].Type != callbackd.EventRescheduled || evs[1].Properties["_previous_desired_time"] != ts(time.Hour) {
			t.Fatalf("events %+v %v", evs, err)
		}
	})
	t.Run("OKToNowQueues", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": ts(time.Minute)}).wantOK(t)
		if st := h.get(id)["_callback_state"]; st != "QUEUED" {
			t.Fatalf("rescheduled inside the execution buffer: state %s, want QUEUED", st)
		}
	})
	t.Run("OKForm", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.do("PUT", "/1/service/callback/cb/"+id, "application/x-www-form-urlencoded", "_new_desired_time="+ts(2*time.Hour)).wantOK(t)
		if got := h.get(id)["_desired_time"]; got != ts(2*time.Hour) {
			t.Fatalf("desired %s", got)
		}
	})
	t.Run("ErrNoLongerScheduled", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_callback_state": "PROCESSING"})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": ts(2 * time.Hour)}).
			wantError(t, 400, 40020, "INVALID_OPERATION", "Callback "+id+" is no longer scheduled. State=PROCESSING")
	})
	t.Run("ErrStateWithNewTime", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": ts(2 * time.Hour), "_callback_state": "QUEUED"}).
			wantError(t, 400, 40010, "BAD_PARAMETER", "Callback "+id+": _callback_state is incompatible with _new_desired_time")
	})
	t.Run("ErrPastTime", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": ts(-time.Hour)}).
			wantError(t, 400, 40010, "BAD_PARAMETER", "Callback "+id+" contains _desired_time property in the past (-60s < -3600s < 2592000s) - epoch "+strconv.FormatInt(t0.Add(-time.Hour).Unix(), 10)+"s")
		if got := h.get(id)["_desired_time"]; got != ts(time.Hour) {
			t.Fatalf("refused reschedule changed the time to %s", got)
		}
	})
	t.Run("ErrMalformedTime", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": "2026-13-45"}).
			wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid _new_desired_time [2026-13-45]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		h.json("PUT", "/1/service/callback/cb/nope", map[string]any{"_new_desired_time": ts(time.Hour)}).
			wantError(t, 400, 40030, "CALLBACK_NOT_FOUND", "Callback nope cannot be found")
	})
}

// TestExecutionUpdates follows the spec's "sample operation typically
// performed by ORS execution": state updates with PUT.
func TestExecutionUpdates(t *testing.T) {
	h := newHarness(t, baseConfig)
	id := h.start("cb", map[string]any{"_customer_number": num()})
	path := "/1/service/callback/cb/" + id
	for _, st := range []string{"ROUTING", "PROCESSING"} {
		r := h.json("PUT", path, map[string]any{"_callback_state": st, "_reason": ""})
		if body := r.wantOK(t); len(body) != 0 {
			t.Errorf("PUT answered %v, want {}", body)
		}
		if got := h.get(id)["_callback_state"]; got != st {
			t.Fatalf("state %s, want %s", got, st)
		}
	}
	h.json("PUT", path, map[string]any{"_callback_state": "QUEUED"}).
		wantError(t, 400, 40020, "INVALID_OPERATION", "Callback "+id+" cannot move from PROCESSING to QUEUED")
	h.json("PUT", path, map[string]any{"_callback_state": "COMPLETED", "_callback_reason": "SMILING"}).
		wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid _callback_reason [SMILING]: not a reason of the Callback API")
	h.json("PUT", path, map[string]any{"_callback_state": "COMPLETED", "_callback_reason": "AGENT_PREVIEW_CANCEL_AFTER_3REJECTS"}).wantOK(t)
	rec := h.get(id)
	if rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "AGENT_PREVIEW_CANCEL_AFTER_3REJECTS" {
		t.Fatalf("record %v", rec)
	}
	// A COMPLETED record never changes again.
	for _, body := range []map[string]any{{"_callback_state": "PROCESSING"}, {"note": "late"}, {}} {
		h.json("PUT", path, body).wantError(t, 400, 40020, "INVALID_OPERATION",
			"Rejecting update : cb=["+id+" @ "+ts(0)+"] - reached state COMPLETED")
	}
	if _, ok := h.get(id)["note"]; ok {
		t.Fatal("a COMPLETED record was changed")
	}
	evs, _ := h.srv.Store().ListEvents(context.Background(), callbackd.EventQuery{CallbackID: id})
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.Type)+":"+string(ev.From)+">"+string(ev.To))
	}
	want := []string{"accepted:>QUEUED", "state_changed:QUEUED>ROUTING", "state_changed:ROUTING>PROCESSING", "completed:PROCESSING>COMPLETED"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func TestUpdateProperties(t *testing.T) {
	h := newHarness(t, baseConfig)
	id := h.start("keys", map[string]any{"_customer_number": "5555550111", "_customer_id": "A", "firstname": "Bob", "_desired_time": ts(time.Hour)})
	path := "/1/service/callback/keys/" + id
	h.json("PUT", path, map[string]any{"firstname": "", "lastname": "Smith", "_customer_id": "B"}).wantOK(t)
	rec := h.get(id)
	if _, ok := rec["firstname"]; ok {
		t.Errorf("firstname set to \"\" was not removed: %v", rec)
	}
	if rec["lastname"] != "Smith" || rec["_customer_id"] != "B" {
		t.Errorf("record %v", rec)
	}
	// Lookups find the callback by the key's current and former values.
	for _, v := range []string{"A", "B"} {
		r := h.do("GET", "/1/service/callback/keys?_customer_id="+v, "", "")
		if recs := r.records(t); len(recs) != 1 || recs[0]["_id"] != id {
			t.Errorf("lookup _customer_id=%s: %s", v, r.body)
		}
	}
	for _, key := range []string{"_id", "_desired_time", "_expiration_time", "_service_name"} {
		h.json("PUT", path, map[string]any{key: "x"}).wantError(t, 400, 40010, "BAD_PARAMETER", "Property "+key+" of callback "+id+" cannot be updated…")
	}
}

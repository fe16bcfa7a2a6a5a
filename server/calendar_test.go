package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is Monday 2026-03-02 09:00Z = 10:00 in Paris (UTC+1).
const calendarConfig = `
[service.paris-hours]
_service = office-hours
_timezone = Europe/Paris
_bh_regular1 = Mon-Fri 9:00-18:00
_holiday1 = 2026-03-06

[service.paris-capacity]
_service = capacity
_timezone = Europe/Paris
_capacity = [Mon, Tue]
_capacity_1 = {"1":{"0900":2,"1000":1}}
_capacity_2 = {"2":{"0900":4}}

[service.cb]
_business_hours_service = paris-hours
_request_time_bucket = 15
_max_request_by_time_bucket = 3
_enable_in_queue_checking = false

[service.capcb]
_business_hours_service = paris-hours
_capacity_service = paris-capacity
_request_time_bucket = 30
_enable_in_queue_checking = false

[service.busy]
_max_request_by_time_bucket = 50
_request_time_bucket = 60
_enable_in_queue_checking = false
`

func at(s string) string { return s } // readability: literal UTC times

func TestOfficeClosed(t *testing.T) {
	h := newHarness(t, calendarConfig)
	t.Run("ScheduledOutsideHoursProposesSlots", func(t *testing.T) {
		m := h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T18:30:00.000Z"}).
			wantError(t, 400, 40051, "SLOT_UNAVAILABLE_PROPOSAL",
				"Office is closed at desired time slot [2026-03-02T18:30:00.000Z, 2026-03-02T18:45:00.000Z]. Proposing time slots.")
		wantAvailability(t, m, map[string]float64{
			"2026-03-02T16:00:00.000Z": 3, "2026-03-02T16:15:00.000Z": 3, "2026-03-02T16:30:00.000Z": 3, "2026-03-02T16:45:00.000Z": 3,
			"2026-03-03T08:00:00.000Z": 3, "2026-03-03T08:15:00.000Z": 3, "2026-03-03T08:30:00.000Z": 3, "2026-03-03T08:45:00.000Z": 3,
		})
		if p := m["properties"].(map[string]any); p["status"] != "closed" || p["reason"] != "closed_no_match" || p["service"] != "cb" ||
			p["slot"] != "[2026-03-02T18:30:00.000Z, 2026-03-02T18:45:00.000Z]" {
			t.Errorf("properties %v", p)
		}
	})
	t.Run("SundayIsClosedDayOfWeek", func(t *testing.T) {
		m := h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-08T10:00:00.000Z"}).
			wantError(t, 400, 40051, "SLOT_UNAVAILABLE_PROPOSAL", "Office is closed at desired time slot [2026-03-08T10:00:00.000Z, 2026-03-08T10:15:00.000Z]. Proposing time slots.")
		if p := m["properties"].(map[string]any); p["reason"] != "closed_day_of_week" {
			t.Errorf("properties %v", p)
		}
	})
	t.Run("HolidayIsClosed", func(t *testing.T) {
		h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-06T10:00:00.000Z"}).
			wantError(t, 400, 40051, "SLOT_UNAVAILABLE_PROPOSAL", "Office is closed at desired time slot […")
	})
	t.Run("ImmediateWhileClosed", func(t *testing.T) {
		h.clock.Set(time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)) // Saturday
		defer h.clock.Set(t0)
		m := h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": num()}).
			wantError(t, 400, 40050, "SLOT_UNAVAILABLE", `{"status":"closed","reason":"closed_day_of_week"}`)
		if _, ok := m["availability"]; ok {
			t.Errorf("an immediate refusal proposes slots: %v", m)
		}
	})
	t.Run("RescheduleIntoClosed", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T12:00:00.000Z"})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_new_desired_time": "2026-03-02T20:00:00.000Z"}).
			wantError(t, 400, 40051, "SLOT_UNAVAILABLE_PROPOSAL", "Office is closed at desired time slot [2026-03-02T20:00:00.000Z, 2026-03-02T20:15:00.000Z]. Proposing time slots.")
	})
}

func wantAvailability(t *testing.T, m map[string]any, want map[string]float64) {
	t.Helper()
	got, _ := m["availability"].(map[string]any)
	if len(got) != len(want) {
		t.Fatalf("availability %v\n            want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("availability %v\n            want %v", got, want)
		}
	}
}

func TestBucketFull(t *testing.T) {
	h := newHarness(t, calendarConfig)
	slot := "2026-03-02T09:30:00.000Z" // 10:30 in Paris
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T09:3" + fmt.Sprint(i) + ":00.000Z"}))
	}
	m := h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": num(), "_desired_time": slot}).
		wantError(t, 400, 40051, "SLOT_UNAVAILABLE_PROPOSAL",
			"Too many requests at desired time slot [2026-03-02T09:30:00.000Z, 2026-03-02T09:45:00.000Z]. Proposing time slots.")
	wantAvailability(t, m, map[string]float64{
		"2026-03-02T09:00:00.000Z": 3, "2026-03-02T09:15:00.000Z": 3, // nothing before now
		"2026-03-02T09:45:00.000Z": 3, "2026-03-02T10:00:00.000Z": 3, "2026-03-02T10:15:00.000Z": 3, "2026-03-02T10:30:00.000Z": 3,
	})
	// What the web widgets do with the message (CLIENTS.md).
	msg := m["message"].(string)
	if !strings.Contains(msg, "Too many requests") || !strings.Contains(msg, "Proposing time slots.") ||
		len(regexp.MustCompile(`\d{4}-[01]\d-[0-3]\dT..:..:..\.\d+`).FindAllString(msg, -1)) != 2 {
		t.Errorf("message not parseable the way widgets parse it: %q", msg)
	}
	// Rescheduling another callback into the full bucket is refused too.
	other := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T11:00:00.000Z"})
	h.json("PUT", "/1/service/callback/cb/"+other, map[string]any{"_new_desired_time": slot}).
		wantError(t, 400, 40051, "SLOT_UNAVAILABLE_PROPOSAL", "Too many requests at desired time slot […")
	// Cancelling frees a unit; rescheduling away frees one too.
	h.do("DELETE", "/1/service/callback/cb/"+ids[0], "", "").wantOK(t)
	h.json("PUT", "/1/service/callback/cb/"+other, map[string]any{"_new_desired_time": slot}).wantOK(t)
	h.json("PUT", "/1/service/callback/cb/"+ids[1], map[string]any{"_new_desired_time": "2026-03-02T12:00:00.000Z"}).wantOK(t)
	h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": slot})
	// A property update never re-books the bucket.
	h.json("PUT", "/1/service/callback/cb/"+other, map[string]any{"note": "x"}).wantOK(t)
	// Completion frees the unit.
	h.json("PUT", "/1/service/callback/cb/"+other, map[string]any{"_callback_state": "COMPLETED", "_callback_reason": "AGENT_CONNECTED"}).wantOK(t)
	h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": slot})
}

// TestNeverOverbooked sends 200 concurrent requests for the last 10 units
// of one bucket: exactly 10 are accepted.
func TestNeverOverbooked(t *testing.T) {
	h := newHarness(t, calendarConfig)
	slot := "2026-03-02T12:00:00.000Z"
	for i := 0; i < 40; i++ {
		h.start("busy", map[string]any{"_customer_number": num(), "_desired_time": slot})
	}
	var ok, full, other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", h.base+"/1/service/callback/busy", strings.NewReader(`{"_customer_number":"`+num()+`","_desired_time":"`+slot+`"}`))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			res.Body.Close()
			switch res.StatusCode {
			case 200:
				ok.Add(1)
			case 400:
				full.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 10 || full.Load() != 190 || other.Load() != 0 {
		t.Fatalf("accepted %d, refused %d, other %d; want exactly 10 accepted", ok.Load(), full.Load(), other.Load())
	}
	r := h.do("GET", "/2/service/callback/busy/availability?start="+slot+"&report-busy=true", "", "")
	if !strings.Contains(string(r.body), `"capacity":0,"total":50`) {
		t.Fatalf("bucket not reported full: %s", r.body)
	}
}

func TestAvailabilityV1(t *testing.T) {
	h := newHarness(t, calendarConfig)
	for i := 0; i < 3; i++ {
		h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T16:30:00.000Z"})
	}
	h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T16:50:00.000Z"})
	r := h.do("GET", "/1/service/callback/cb/availability?start=2026-03-02T16:00:00.000Z&end=2026-03-02T18:00:00.000Z", "", "")
	want := `{"2026-03-02T16:00:00.000Z":3,"2026-03-02T16:15:00.000Z":3,"2026-03-02T16:45:00.000Z":2}`
	if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("got %d %s\nwant %s (ascending, full and closed buckets left out)", r.status, r.body, want)
	}
	t.Run("TimestampAliasAndOneBucketDefault", func(t *testing.T) {
		r := h.do("GET", "/1/service/callback/cb/availability?timestamp=2026-03-02T16:45:00.000Z", "", "")
		if strings.TrimSpace(string(r.body)) != `{"2026-03-02T16:45:00.000Z":2}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("MaxTimeSlots", func(t *testing.T) {
		r := h.do("GET", "/1/service/callback/cb/availability?start=2026-03-03T08:00:00.000Z&number-of-days=1&max-time-slots=2", "", "")
		if strings.TrimSpace(string(r.body)) != `{"2026-03-03T08:00:00.000Z":3,"2026-03-03T08:15:00.000Z":3}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("ErrOfficeClosed", func(t *testing.T) {
		m := h.do("GET", "/1/service/callback/cb/availability?timestamp=2026-03-07T12:00:00.000Z", "", "").
			wantError(t, 400, 40050, "SLOT_UNAVAILABLE", "Office is closed at 2026-03-07T12:00:00.000Z. No time slots proposed.")
		if a, ok := m["availability"].(map[string]any); !ok || len(a) != 0 {
			t.Errorf("availability %v, want {}", m["availability"])
		}
	})
	cases := []struct{ name, query, message string }{
		{"ErrDays", "start=2026-03-03T08:00:00.000Z&number-of-days=9", "day parameter must be between 1 and 7, inclusively. Actual value is: 9"},
		{"ErrPast", "start=2026-03-01T08:00:00.000Z&end=2026-03-01T12:00:00.000Z", "No time slots available. The requested time period is in the past."},
		{"ErrStartAndTimestamp", "start=2026-03-03T08:00:00.000Z&timestamp=2026-03-03T08:00:00.000Z", "Set only one of the parameters start, timestamp"},
		{"ErrEndAndDays", "end=2026-03-03T08:00:00.000Z&number-of-days=1", "Set only one of the parameters end, number-of-days"},
		{"ErrBadStart", "start=soon", "Invalid start [soon]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z"},
		{"ErrTooLong", "start=2026-03-03T08:00:00.000Z&end=2026-03-13T08:00:00.000Z", "The requested period is longer than 7 days"},
		{"ErrMaxSlots", "max-time-slots=0", "Invalid max-time-slots [0]: must be a positive integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.do("GET", "/1/service/callback/cb/availability?"+c.query, "", "").wantError(t, 400, 40010, "BAD_PARAMETER", c.message)
		})
	}
}

func TestAvailabilityV2(t *testing.T) {
	h := newHarness(t, calendarConfig)
	h.start("capcb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T09:00:00.000Z"})
	// Local times in the request's zone; the capacity service gives 1 per
	// 30-minute bucket from 10:00 Paris, 2 from 9:00.
	r := h.do("GET", "/2/service/callback/capcb/availability?start=2026-03-02T10:00:00.000&end=2026-03-02T11:30:00.000&timezone=Europe/Paris&report-busy=true", "", "")
	want := `{"slots":[` +
		`{"utcTime":"2026-03-02T09:00:00.000Z","localTime":"2026-03-02T10:00:00.000","capacity":0,"total":1},` +
		`{"utcTime":"2026-03-02T09:30:00.000Z","localTime":"2026-03-02T10:30:00.000","capacity":1,"total":1},` +
		`{"utcTime":"2026-03-02T10:00:00.000Z","localTime":"2026-03-02T11:00:00.000","capacity":0,"total":0}` +
		`],"durationMin":30,"timezone":"Europe/Paris"}`
	_ = want
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	body := r.object(t)
	slots := body["slots"].([]any)
	if body["durationMin"] != float64(30) || body["timezone"] != "Europe/Paris" || len(slots) != 2 {
		t.Fatalf("body %s", r.body)
	}
	first, second := slots[0].(map[string]any), slots[1].(map[string]any)
	if first["utcTime"] != "2026-03-02T09:00:00.000Z" || first["localTime"] != "2026-03-02T10:00:00.000" || first["capacity"] != float64(0) || first["total"] != float64(1) {
		t.Errorf("full slot with report-busy: %v", first)
	}
	if second["utcTime"] != "2026-03-02T09:30:00.000Z" || second["capacity"] != float64(1) || second["total"] != float64(1) {
		t.Errorf("second slot: %v", second)
	}
	t.Run("WithoutReportBusy", func(t *testing.T) {
		r := h.do("GET", "/2/service/callback/capcb/availability?start-ms="+fmt.Sprint(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixMilli())+"&number-of-days=1", "", "")
		if strings.Contains(string(r.body), `"utcTime":"2026-03-02T09:00:00.000Z"`) || !strings.Contains(string(r.body), `"utcTime":"2026-03-02T09:30:00.000Z"`) {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("EmptySlotsIsArray", func(t *testing.T) {
		r := h.do("GET", "/2/service/callback/cb/availability?start=2026-03-07T10:00:00.000Z", "", "")
		if r.status != 200 || !strings.Contains(string(r.body), `"slots":[]`) || !strings.Contains(string(r.body), `"durationMin":15`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("DSTSpringForward", func(t *testing.T) {
		// Sunday 29 March 2026 Paris goes to UTC+2; Monday 30 March opens at
		// 09:00 local = 07:00Z.
		h.clock.Set(time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC))
		defer h.clock.Set(t0)
		r := h.do("GET", "/2/service/callback/cb/availability?start=2026-03-30T08:00:00.000&timezone=Europe/Paris&end=2026-03-30T09:30:00.000&report-busy=true", "", "")
		if !strings.Contains(string(r.body), `{"utcTime":"2026-03-30T07:00:00.000Z","localTime":"2026-03-30T09:00:00.000","capacity":3,"total":3}`) ||
			strings.Contains(string(r.body), `"utcTime":"2026-03-30T06:45:00.000Z"`) {
			t.Fatalf("%s", r.body)
		}
	})
	cases := []struct{ name, query, message string }{
		{"ErrStartAndStartMs", "start=2026-03-03T08:00:00.000Z&start-ms=1", "Set only one of the parameters start, start-ms"},
		{"ErrEndAndEndMs", "end=2026-03-03T08:00:00.000Z&end-ms=1", "Set only one of the parameters end, end-ms"},
		{"ErrTimezone", "timezone=Mars/Olympus", "Invalid timezone [Mars/Olympus]: use an IANA time zone such as America/Toronto"},
		{"ErrReportBusy", "report-busy=sometimes", "Invalid report-busy [sometimes]: must be true or false"},
		{"ErrDays", "number-of-days=0", "day parameter must be between 1 and 7, inclusively. Actual value is: 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.do("GET", "/2/service/callback/cb/availability?"+c.query, "", "").wantError(t, 400, 40010, "BAD_PARAMETER", c.message)
		})
	}
}

func TestOfficeHoursQuery(t *testing.T) {
	h := newHarness(t, calendarConfig)
	r := h.do("GET", "/1/service/paris-hours?start=2026-03-05T00:00:00.000Z&number-of-days=2", "", "")
	want := `{"periods":[{"start":"2026-03-05T08:00:00.000Z","end":"2026-03-05T17:00:00.000Z","localStart":"2026-03-05T09:00:00.000","localEnd":"2026-03-05T18:00:00.000"}],"timezone":"Europe/Paris"}`
	if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("got %d %s\nwant %s (the Friday is a holiday)", r.status, r.body, want)
	}
	h.do("GET", "/1/service/cb?start=2026-03-05T00:00:00.000Z", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Service cb is not an office-hours service")
	h.do("GET", "/1/service/nowhere", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Service undefined: nowhere")
}

package server_test

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

const throttleConfig = `
[callback]
_throttle_ttl_1 = 60
max_queued_callbacks_per_service = 2

[service.queue]
_enable_in_queue_checking = false

[service.none]
_max_queued_callbacks_per_service = 0

[service.interval]
_throttle_callbacks_per_service_1 = 3
_throttle_callbacks_per_service_2 = 5
_throttle_ttl_2 = 3600
_enable_in_queue_checking = false

[service.daily]
_max_queued_callbacks_per_service = 100
_throttle_request_parameters_limit = 2
_enable_in_queue_checking = false
_business_hours_service = paris

[service.paris]
_service = office-hours
_timezone = Europe/Paris
_bh_regular1 = Mon-Sun 0:00-24:00
`

func TestMaxQueuedPerService(t *testing.T) {
	h := newHarness(t, throttleConfig)
	a := h.start("queue", map[string]any{"_customer_number": num()})
	h.start("queue", map[string]any{"_customer_number": num()})
	m := h.json("POST", "/1/service/callback/queue", map[string]any{"_customer_number": num()}).
		wantError(t, 429, 40002, "THROTTLE_SERVICE_LIMIT", "Limit of queued callbacks for queue is reached.")
	if p := m["properties"].(map[string]any); p["service"] != "queue" || p["attempts"] != float64(2) || p["interval"] != float64(0) || p["parameter"] != "" {
		t.Errorf("properties %v", p)
	}
	// Scheduled callbacks are not limited by it.
	h.start("queue", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	// A callback that leaves QUEUED frees its place.
	h.json("PUT", "/1/service/callback/queue/"+a, map[string]any{"_callback_state": "ROUTING"}).wantOK(t)
	h.start("queue", map[string]any{"_customer_number": num()})
	// 0 refuses every immediate callback.
	h.json("POST", "/1/service/callback/none", map[string]any{"_customer_number": num()}).
		wantError(t, 429, 40002, "THROTTLE_SERVICE_LIMIT", "Limit of queued callbacks for none is reached.")
	h.start("none", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
}

func TestThrottleInterval(t *testing.T) {
	h := newHarness(t, throttleConfig)
	scheduled := func() map[string]any {
		return map[string]any{"_customer_number": num(), "_desired_time": ts(2 * time.Hour)}
	}
	for i := 0; i < 3; i++ {
		h.start("interval", scheduled())
		h.clock.Advance(10 * time.Second)
	}
	m := h.json("POST", "/1/service/callback/interval", scheduled()).
		wantError(t, 429, 40003, "THROTTLE_SERVICE_INTERVAL_LIMIT", "Limit of queued callbacks for interval is reached for interval 60s.")
	if p := m["properties"].(map[string]any); p["interval"] != float64(60) || p["attempts"] != float64(3) || p["service"] != "interval" {
		t.Errorf("properties %v", p)
	}
	// The window slides: at t0+61s the first use has left it. The count
	// survives a restart.
	h.restart()
	h.clock.Set(t0.Add(61 * time.Second))
	h.start("interval", scheduled())
	h.json("POST", "/1/service/callback/interval", scheduled()).wantError(t, 429, 40003, "THROTTLE_SERVICE_INTERVAL_LIMIT", "…")
	// The second window (5 per hour) is reached next.
	h.clock.Set(t0.Add(200 * time.Second))
	h.start("interval", scheduled())
	h.json("POST", "/1/service/callback/interval", scheduled()).
		wantError(t, 429, 40003, "THROTTLE_SERVICE_INTERVAL_LIMIT", "Limit of queued callbacks for interval is reached for interval 3600s.")
}

func TestThrottlePerParameterPerDay(t *testing.T) {
	h := newHarness(t, throttleConfig)
	// 23:00 in Paris on Monday 2 March.
	h.clock.Set(time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC))
	h.start("daily", map[string]any{"_customer_number": "555-546-1206"})
	h.start("daily", map[string]any{"_customer_number": "5555461206"})
	m := h.json("POST", "/1/service/callback/daily", map[string]any{"_customer_number": "+1 555 546 1206"}).
		wantError(t, 429, 40004, "THROTTLE_SERVICE_PARAMETER_LIMIT",
			"Callback for _customer_number=+1 555 546 1206 rejected because previous callbacks for this parameter were requested for more than 2 times today.")
	if p := m["properties"].(map[string]any); p["parameter"] != "_customer_number" || p["attempts"] != float64(2) || p["interval"] != float64(86400) {
		t.Errorf("properties %v", p)
	}
	h.start("daily", map[string]any{"_customer_number": num()}) // another number is fine
	// Midnight in Paris (23:00Z) starts a new day.
	h.clock.Set(time.Date(2026, 3, 2, 23, 0, 1, 0, time.UTC))
	h.start("daily", map[string]any{"_customer_number": "555-546-1206"})
}

// TestThrottleUsesPruned: the uses behind the daily per-number limit name
// the customer's number and their day; once no window can count them
// (48 h, longer than any throttle window here), the sweep deletes them.
func TestThrottleUsesPruned(t *testing.T) {
	h := newHarness(t, throttleConfig)
	h.start("daily", map[string]any{"_customer_number": "555-546-1206"})
	h.start("daily", map[string]any{"_customer_number": "5555461206"})
	db, err := sql.Open("sqlite", "file:"+h.dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	uses := func() int {
		t.Helper()
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM rate_uses WHERE key LIKE '%+15555461206'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := uses(); n != 2 {
		t.Fatalf("%d uses stored, want 2", n)
	}
	d := h.srv.Dispatcher()
	h.clock.Set(t0.Add(48*time.Hour - time.Millisecond))
	if _, _, err := d.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := uses(); n != 2 {
		t.Fatalf("%d uses left within the window, want 2", n)
	}
	h.clock.Set(t0.Add(48 * time.Hour))
	if _, _, err := d.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := uses(); n != 0 {
		t.Fatalf("%d uses left past every window, want 0", n)
	}
}

package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func misfireConfig(p *platform) string {
	return `
[service.hours]
_service = office-hours
_timezone = UTC
_bh_regular1 = Mon-Fri 8:00-18:00

[service.late]
_ors = ` + p.url() + `
_business_hours_service = hours
_request_time_bucket = 15
_enable_in_queue_checking = false

[service.strictlate]
_ors = ` + p.url() + `
_business_hours_service = hours
_misfire_policy = expire
_misfire_grace = 60
_enable_in_queue_checking = false
`
}

func TestMisfiresAfterDowntime(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, misfireConfig(p))
	ctx := context.Background()
	d := h.srv.Dispatcher()
	// Booked at 09:00 (t0) for 10:00 and 17:00; due 2 minutes before.
	inGrace := h.start("late", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	beyond := h.start("late", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour + 15*time.Minute)})
	closed := h.start("late", map[string]any{"_customer_number": num(), "_desired_time": ts(8*time.Hour + 45*time.Minute)})
	expire := h.start("strictlate", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})

	// The service was down; it comes back at 10:10. "inGrace" (due 09:58)
	// is 12 minutes late, within the 15-minute default grace; "beyond" (due
	// 10:13) is on time; "expire" is 12 minutes late with a 60 s grace.
	h.clock.Set(t0.Add(time.Hour + 10*time.Minute))
	d.RunOnce(ctx)
	if cb := h.stored(inGrace); cb.SessionID == "" {
		t.Errorf("late within grace, office open: not submitted: %+v", cb)
	}
	if cb := h.stored(expire); cb.State != callbackd.StateCompleted || cb.Reason != callbackd.ReasonFailTimeoutTTL || cb.SessionID != "" {
		t.Errorf("policy expire: %+v", cb)
	}
	// Back at 10:40: "beyond" (due 10:13) is 27 minutes late: rescheduled
	// to the next open bucket with room, 10:45.
	h.clock.Set(t0.Add(time.Hour + 40*time.Minute))
	d.RunOnce(ctx)
	cb := h.stored(beyond)
	if cb.State != callbackd.StateScheduled || !cb.DesiredTime.Equal(t0.Add(time.Hour+45*time.Minute)) || cb.SessionID != "" || cb.SubmitAttempts != 0 {
		t.Fatalf("late beyond grace: %+v", cb)
	}
	if !cb.DueAt.Equal(t0.Add(time.Hour + 43*time.Minute)) {
		t.Errorf("due %v, want desired - buffer", cb.DueAt)
	}
	// At 18:30 the office is closed: "closed" (due 17:43) goes to the next
	// morning's first bucket.
	h.clock.Set(t0.Add(9*time.Hour + 30*time.Minute))
	d.RunOnce(ctx)
	cb = h.stored(closed)
	if cb.State != callbackd.StateScheduled || !cb.DesiredTime.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("late while closed: %+v", cb)
	}
	evs, _ := h.srv.Store().ListEvents(ctx, callbackd.EventQuery{CallbackID: closed})
	last := evs[len(evs)-1]
	if last.Type != callbackd.EventRescheduled || last.Properties["_misfire"] != "rescheduled" || last.Properties["_previous_desired_time"] != ts(8*time.Hour+45*time.Minute) {
		t.Errorf("events %+v", evs)
	}
	// A callback past its expiration time is never submitted.
	gone := h.start("late", map[string]any{"_customer_number": num(), "_desired_time": ts(24*time.Hour + 10*time.Minute), "_ttl": "60"})
	h.clock.Set(t0.Add(24*time.Hour + 20*time.Minute))
	d.RunOnce(ctx)
	if cb := h.stored(gone); cb.Reason != callbackd.ReasonFailTimeoutTTL {
		t.Errorf("past expiration: %+v", cb)
	}
	if subs := p.submissions(); len(subs) != 1 {
		t.Errorf("submissions %v, want only the one within grace", subs)
	}
}

func TestExpiryAndRetention(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, misfireConfig(p)+"\n[service.manual]\n_ttl = 3600\n_enable_in_queue_checking = false\n")
	ctx := context.Background()
	d := h.srv.Dispatcher()
	// Never dispatched (no _ors): it expires an hour after its desired time.
	stale := h.start("manual", map[string]any{"_customer_number": num(), "_desired_time": ts(2 * time.Hour)})
	live := h.start("manual", map[string]any{"_customer_number": num(), "_desired_time": ts(5 * time.Hour)})
	h.clock.Set(t0.Add(3*time.Hour - time.Second))
	if n, _, _ := d.Sweep(ctx); n != 0 {
		t.Fatalf("expired %d before the expiration time", n)
	}
	h.clock.Set(t0.Add(3 * time.Hour))
	if n, _, err := d.Sweep(ctx); n != 1 || err != nil {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	if rec := h.get(stale); rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "FAIL_TIMEOUT_TTL" {
		t.Fatalf("expired record %v", rec)
	}
	if rec := h.get(live); rec["_callback_state"] != "SCHEDULED" {
		t.Fatalf("unexpired record %v", rec)
	}
	// Purged after the 30-day retention, with its history.
	h.clock.Set(t0.Add(3*time.Hour + 30*24*time.Hour + time.Second))
	if _, purged, err := d.Sweep(ctx); purged != 1 || err != nil {
		t.Fatalf("purged %d (%v), want 1", purged, err)
	}
	r := h.do("GET", "/1/service/callback?_id="+stale, "", "")
	if recs := r.records(t); len(recs) != 0 {
		t.Fatalf("purged callback still answered: %s", r.body)
	}
	if evs, _ := h.srv.Store().ListEvents(ctx, callbackd.EventQuery{CallbackID: stale}); len(evs) != 0 {
		t.Fatalf("purged callback's events kept: %+v", evs)
	}
}

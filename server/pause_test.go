package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func pauseConfig(t *testing.T, p *platform) string {
	return dispatchConfig(p) + `
[dispatcher]
workers = 1

[service.grouped]
_ors = ` + p.url() + `
_paused_services_list = night
_paused_services_id = sales
_enable_in_queue_checking = false
` + usersSection
}

func TestPauseAndResume(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, pauseConfig(t, p))
	ctx := context.Background()
	d := h.srv.Dispatcher()
	submitted := h.start("ors", map[string]any{"_customer_number": num()}) // in execution: untouched by a pause
	first := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(10 * time.Minute)})
	second := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(20 * time.Minute)})

	m := h.admin("/1/admin/callback/pause", `{"service":"ors"}`).wantOK(t)
	if m["paused"] != true || m["callbacks"] != float64(0) {
		t.Fatalf("pause answered %v", m)
	}
	// Immediate callbacks of a paused service are accepted and parked.
	parked := h.start("ors", map[string]any{"_customer_number": num()})
	if cb := h.stored(parked); cb.State != callbackd.StatePaused || cb.SessionID != "" || cb.SubmitAttempts != 0 {
		t.Fatalf("immediate callback while paused: %+v", cb)
	}
	// Scheduled ones that fall due are parked instead of submitted.
	h.clock.Set(t0.Add(30 * time.Minute))
	d.RunOnce(ctx)
	for _, id := range []string{first, second} {
		if cb := h.stored(id); cb.State != callbackd.StatePaused || cb.SessionID != "" {
			t.Fatalf("due callback while paused: %+v", cb)
		}
	}
	if cb := h.stored(submitted); cb.State != callbackd.StateQueued || cb.SessionID == "" {
		t.Fatalf("callback in execution changed by the pause: %+v", cb)
	}
	before := len(p.submissions())
	// Resume: back to QUEUED, submitted in their original order.
	m = h.admin("/1/admin/callback/resume", `{"service":"ors"}`).wantOK(t)
	if m["callbacks"] != float64(3) {
		t.Fatalf("resume answered %v", m)
	}
	d.RunOnce(ctx)
	subs := p.submissions()[before:]
	if len(subs) != 3 || subs[0] != parked+"-1" || subs[1] != first+"-1" || subs[2] != second+"-1" {
		t.Fatalf("after resume submitted %v, want %s, %s, %s (due order)", subs, parked, first, second)
	}
	// A pause list: list + id name the service.
	h.admin("/1/admin/callback/pause", `{"list":"night","id":"sales"}`).wantOK(t)
	if id := h.start("grouped", map[string]any{"_customer_number": num()}); h.stored(id).State != callbackd.StatePaused {
		t.Fatal("service paused by its list did not park a callback")
	}
	h.admin("/1/admin/callback/pause", `{"list":"night","id":"nobody"}`).
		wantError(t, 400, 40010, "BAD_PARAMETER", "No callback service is paused by list [night] id [nobody]")
	// The pause survives a restart.
	h.restart()
	if id := h.start("grouped", map[string]any{"_customer_number": num()}); h.stored(id).State != callbackd.StatePaused {
		t.Fatal("pause lost across a restart")
	}
}

func TestAdminAuthentication(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, pauseConfig(t, p))
	for name, set := range map[string]func(*http.Request){
		"NoCredentials": func(*http.Request) {},
		"WrongPassword": func(r *http.Request) { r.SetBasicAuth("admin", "guess") },
		"UnknownUser":   func(r *http.Request) { r.SetBasicAuth("mallory", "s3cret") },
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", h.base+"/1/admin/callback/pause", strings.NewReader(`{"service":"ors"}`))
			set(req)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if !strings.Contains(h.logs.String(), "admin authentication failed") {
		t.Error("failed attempts are not logged")
	}
}

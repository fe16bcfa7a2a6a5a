package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// adminConfig has two dispatch-free services (callbacks stay where the
// API puts them), one with a virtual queue option, plus the admin user.
const adminConfig = `
[callback]
static-ewt = 0

[service.sales]
_vq = SalesVQ
_enable_in_queue_checking = false

[service.support]
_enable_in_queue_checking = strict
_target = Billing@Stat_Server.GA
` + "\n"

func adminHarness(t *testing.T) *harness {
	return newHarness(t, adminConfig+usersSection)
}

// setState moves a callback as an execution platform does.
func (h *harness) setState(service, id, state string) {
	h.t.Helper()
	h.json("PUT", "/1/service/callback/"+service+"/"+id, map[string]any{"_callback_state": state}).wantOK(h.t)
}

func TestAdminRoutesNeedAuthentication(t *testing.T) {
	h := adminHarness(t)
	for _, path := range []string{"/1/admin/callback/queues", "/1/admin/callback/watermarks", "/1/events", "/1/events/stream"} {
		r := h.do("GET", path, "", "")
		r.wantError(t, 401, 40100, "UNAUTHORIZED", "Authentication required: use Basic authentication with a user of the [users] section")
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
			t.Errorf("%s: WWW-Authenticate %q", path, got)
		}
	}
	for _, path := range []string{"/1/admin/callback/ops/delete", "/1/admin/callback/cancel", "/1/admin/callback/reportcancelled"} {
		h.do("POST", path, "application/json", `{}`).wantError(t, 401, 40100, "UNAUTHORIZED", "…")
	}
	if r := h.asAdmin("GET", "/1/admin/callback/watermarks", "", ""); r.status != 200 {
		t.Fatalf("Basic: %d %s", r.status, r.body)
	}
	// The spec's auth object, open and encoded, in a JSON body.
	open := `{"_customer_number":["+15555550000"],"auth":{"username":"admin","password":"s3cret"}}`
	if r := h.do("POST", "/1/admin/callback/ops/delete", "application/json", open); r.status != 200 {
		t.Fatalf("auth object (open): %d %s", r.status, r.body)
	}
	enc := base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	encoded := `{"_customer_number":["+15555550000"],"auth":{"encoded":"` + enc + `"}}`
	if r := h.do("POST", "/1/admin/callback/ops/delete", "application/json", encoded); r.status != 200 {
		t.Fatalf("auth object (encoded): %d %s", r.status, r.body)
	}
	bad := base64.StdEncoding.EncodeToString([]byte("admin:guess"))
	h.do("POST", "/1/admin/callback/ops/delete", "application/json", `{"auth":{"encoded":"`+bad+`"}}`).wantError(t, 401, 40100, "UNAUTHORIZED", "…")
	if !strings.Contains(h.logs.String(), "admin authentication failed") {
		t.Errorf("failed attempt not logged:\n%s", h.logs)
	}
}

func TestAdminAuthenticationRateLimited(t *testing.T) {
	h := adminHarness(t)
	wrong := func() response {
		req, _ := http.NewRequest("GET", h.base+"/1/admin/callback/watermarks", nil)
		req.SetBasicAuth("admin", "guess")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return response{status: res.StatusCode, header: res.Header}
	}
	for i := range 10 {
		if r := wrong(); r.status != 401 {
			t.Fatalf("attempt %d: %d, want 401", i+1, r.status)
		}
	}
	// The eleventh is refused without a check, even with the right password.
	r := h.asAdmin("GET", "/1/admin/callback/watermarks", "", "")
	r.wantError(t, 429, 42900, "TOO_MANY_REQUESTS", "Too many failed authentication attempts; retry in 300 seconds")
	if got := r.header.Get("Retry-After"); got != "300" {
		t.Errorf("Retry-After %q, want 300", got)
	}
	h.clock.Advance(5*time.Minute + time.Second)
	if r := h.asAdmin("GET", "/1/admin/callback/watermarks", "", ""); r.status != 200 {
		t.Fatalf("after the window: %d %s", r.status, r.body)
	}
}

func TestAdminQueues(t *testing.T) {
	h := adminHarness(t)
	a := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(2 * time.Hour)})
	b := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour), "_vq": "OtherVQ"})
	queued := h.start("support", map[string]any{"_customer_number": num()}) // immediate: QUEUED now
	later := h.start("support", map[string]any{"_customer_number": num(), "_desired_time": ts(48 * time.Hour)})

	got := h.asAdmin("GET", "/1/admin/callback/queues", "", "").wantOK(t)
	ids := func(m map[string]any, svc string) string {
		list, _ := m[svc].([]any)
		var out []string
		for _, x := range list {
			out = append(out, x.(map[string]any)["_id"].(string))
		}
		return strings.Join(out, ",")
	}
	if ids(got, "sales") != b+","+a || ids(got, "support") != queued {
		t.Fatalf("default window (next 24 hours, and what is queued now): %v", got)
	}
	rec := got["sales"].([]any)[0].(map[string]any)
	for _, k := range []string{"_customer_number", "_callback_state", "_desired_time", "_id", "url"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("record lacks %s: %v", k, rec)
		}
	}
	if rec["url"] != "/1/service/callback/sales/"+b || rec["_callback_state"] != "SCHEDULED" || rec["_desired_time"] != ts(time.Hour) {
		t.Errorf("record %v", rec)
	}

	cases := []struct{ name, query, sales, support string }{
		{"Target", "?target=support&end_time=" + ts(72*time.Hour), "", queued + "," + later},
		{"Max", "?max=1", b, queued},
		{"States", "?states=queued,ROUTING", "", queued},
		{"FilterState", "?_callback_state=SCHEDULED", b + "," + a, ""},
		// _vq: the callback's own value, else its service's option.
		{"FilterVQFromService", "?_vq=SalesVQ", a, ""},
		{"FilterVQFromRequest", "?_vq=OtherVQ", b, ""},
		{"StartTime", "?start_time=" + ts(90*time.Minute), a, ""},
	}
	for _, c := range cases {
		m := h.asAdmin("GET", "/1/admin/callback/queues"+c.query, "", "").wantOK(t)
		if ids(m, "sales") != c.sales || ids(m, "support") != c.support {
			t.Errorf("%s: sales %q support %q, want %q %q", c.name, ids(m, "sales"), ids(m, "support"), c.sales, c.support)
		}
	}
	if m := h.asAdmin("GET", "/1/admin/callback/queues?target=sales", "", "").wantOK(t); len(m) != 1 {
		t.Errorf("target lists only its queue: %v", m)
	}

	h.asAdmin("GET", "/1/admin/callback/queues?start_time="+ts(0)+"&end_time="+ts(32*24*time.Hour), "", "").
		wantError(t, 400, 40020, "INVALID_OPERATION", "Query range spans too wide time range (2764800 / 2678400). Adjust query parameters for time range.")
	h.asAdmin("GET", "/1/admin/callback/queues?color=red", "", "").
		wantError(t, 400, 40020, "INVALID_OPERATION", "Cannot process 'filter' parameter correctly : color=red")
	h.asAdmin("GET", "/1/admin/callback/queues?max=0", "", "").
		wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid max [0]: must be an integer from 1 to 10000")
	h.asAdmin("GET", "/1/admin/callback/queues?target=nope", "", "").
		wantError(t, 400, 40010, "BAD_PARAMETER", "Service undefined: nope")
	h.asAdmin("GET", "/1/admin/callback/queues?states=LOST", "", "").
		wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid _callback_state [LOST]: …")
	h.asAdmin("GET", "/1/admin/callback/queues?end_time=yesterday", "", "").
		wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid end_time [yesterday]: …")
}

func TestAdminWatermarks(t *testing.T) {
	h := adminHarness(t)
	h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(20 * 24 * time.Hour)}) // far future: 0
	h.start("sales", map[string]any{"_customer_number": num()})                                           // QUEUED: 1
	routing := h.start("support", map[string]any{"_customer_number": num()})
	h.setState("support", routing, "ROUTING")
	processing := h.start("support", map[string]any{"_customer_number": num()})
	h.setState("support", processing, "PROCESSING")
	done := h.start("support", map[string]any{"_customer_number": num()})
	h.setState("support", done, "COMPLETED")

	var got struct {
		Total    int            `json:"total"`
		Services map[string]int `json:"services"`
	}
	r := h.asAdmin("GET", "/1/admin/callback/watermarks", "", "")
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got.Total != 3 || got.Services["sales"] != 1 || got.Services["support"] != 2 || len(got.Services) != 2 {
		t.Errorf("watermarks %+v, want total 3, sales 1, support 2", got)
	}
	r = h.asAdmin("GET", "/1/admin/callback/watermarks?service_name=support&service_name=sales", "", "")
	_ = json.Unmarshal(r.body, &got)
	if got.Total != 3 || len(got.Services) != 2 {
		t.Errorf("two services %+v", got)
	}
	got.Services = nil
	r = h.asAdmin("GET", "/1/admin/callback/watermarks?service_name=sales", "", "")
	_ = json.Unmarshal(r.body, &got)
	if got.Total != 1 || len(got.Services) != 1 || got.Services["sales"] != 1 {
		t.Errorf("one service %+v", got)
	}
	h.asAdmin("GET", "/1/admin/callback/watermarks?service_name=nope", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Service undefined: nope")
}

func TestAdminBulkCancel(t *testing.T) {
	h := adminHarness(t)
	a := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	done := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	h.setState("sales", done, "COMPLETED")
	m := h.admin("/1/admin/callback/cancel", `{"reason":"CANCELLED_BY_ADMIN","ids":["`+a+`","`+done+`","no-such-id"]}`).wantOK(t)
	want := `{"errors":[{"_id":"` + done + `","code":40020,"message":"Callback ` + done + ` cannot be cancelled or completed - _callback_state=COMPLETED","phrase":"INVALID_OPERATION"},` +
		`{"_id":"no-such-id","code":40030,"message":"Callback no-such-id cannot be found","phrase":"CALLBACK_NOT_FOUND"}],"success":[{"_id":"` + a + `"}]}`
	if b, _ := json.Marshal(m); string(b) != want {
		t.Errorf("answer\n%s\nwant\n%s", b, want)
	}
	rec := h.get(a)
	if rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "CANCELLED_BY_ADMIN" {
		t.Errorf("cancelled record %v", rec)
	}
	h.admin("/1/admin/callback/cancel", `{"reason":"BORED","ids":["`+a+`"]}`).wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid reason [BORED]: not a reason of the Callback API")
	h.admin("/1/admin/callback/cancel", `{"reason":"CANCELLED_BY_ADMIN"}`).wantError(t, 400, 40010, "BAD_PARAMETER", "Missing parameter ids: the callbacks to cancel")
	h.admin("/1/admin/callback/cancel", `{"ids":"[1,"}`).wantError(t, 400, 40010, "BAD_PARAMETER", "…")
}

func TestCheckQueuePosition(t *testing.T) {
	h := newHarness(t, adminConfig+"\n[service.slow]\n_request_queue_time_stat = ExpectedWaitTime;Queue;8999@SIP_Server;Environment\n")
	var ids []string
	for range 3 {
		ids = append(ids, h.start("sales", map[string]any{"_customer_number": num()}))
		h.clock.Advance(time.Second) // desired times (now) in order
	}
	scheduled := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	for i, id := range ids {
		for _, method := range []string{"GET", "POST"} {
			m := h.do(method, "/1/service/"+id+"/check-queue-position", "", "").wantOK(t)
			if m["_position"] != float64(i+1) || m["_total_waiting"] != float64(3) || m["ewt"] != float64(0) || m["_eta"] != float64(0) ||
				m["_agent_ready_threshold_passed"] != true || m["_callback_state"] != "QUEUED" {
				t.Errorf("%s %s: %v, want position %d of 3", method, id, m, i+1)
			}
		}
	}
	m := h.do("GET", "/1/service/"+scheduled+"/check-queue-position", "", "").wantOK(t)
	if m["_position"] != float64(0) || m["_total_waiting"] != float64(3) || m["_agent_ready_threshold_passed"] != false {
		t.Errorf("scheduled: %v, want position 0", m)
	}
	h.do("GET", "/1/service/nope/check-queue-position", "", "").wantError(t, 400, 40030, "CALLBACK_NOT_FOUND", "Callback nope cannot be found")
	h.do("PUT", "/1/service/"+scheduled+"/check-queue-position", "", "").wantError(t, 405, 40500, "METHOD_NOT_ALLOWED", "…")
}

func TestEWTForVirtualQueue(t *testing.T) {
	h := newHarness(t, "[callback]\nstatic-ewt = 95\n")
	for _, path := range []string{"/1/service/ewt-for-vq?name=SalesVQ&aqt=urs2", "/2/ewt?name=SalesVQ&mode=ewt2"} {
		m := h.do("GET", path, "", "").wantOK(t)
		if m["ewt"] != float64(95) || len(m) != 1 {
			t.Errorf("%s: %v", path, m)
		}
	}
	m := h.do("GET", "/1/service/ewt-for-vq?name=a,b", "", "").wantOK(t)
	if q, _ := m["queues"].(map[string]any); m["ewt"] != float64(95) || q["a"] != float64(95) || q["b"] != float64(95) {
		t.Errorf("two queues: %v", m)
	}
	h.do("GET", "/2/ewt", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Missing parameter name: the virtual queue to estimate")
	// The office-hours query still answers its own paths.
	h.do("GET", "/1/service/nope", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "…")
}

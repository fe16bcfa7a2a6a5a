package server_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// root is the server's address without the base path: probes and
// metrics live there.
func (h *harness) root() string { return strings.TrimSuffix(h.base, "/genesys") }

func (h *harness) getRoot(path string) response {
	h.t.Helper()
	res, err := http.Get(h.root() + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func TestHealthAndReadiness(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, pauseConfig(t, p)) // [users] set: the probes still need no credentials
	if m := h.getRoot("/healthz").wantOK(t); m["status"] != "ok" {
		t.Errorf("healthz %v", m)
	}
	if m := h.getRoot("/readyz").wantOK(t); m["status"] != "ready" {
		t.Errorf("readyz %v", m)
	}
	if r := h.getRoot("/metrics"); r.status != 200 || !strings.Contains(string(r.body), "callbackd_http_requests_total") {
		t.Errorf("metrics without credentials: %d", r.status)
	}
	// At the root only, not under the base path.
	h.do("GET", "/healthz", "", "").wantError(t, 404, 40400, "NOT_FOUND", "No such resource: /genesys/healthz")

	// A store whose schema is behind the binary is not ready.
	db, err := sql.Open("sqlite", "file:"+h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", h.root()+"/readyz", nil)
	req.Header.Set("X-Request-Id", "probe-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r := response{res.StatusCode, res.Header, b}
	m := r.wantError(t, 503, 50300, "SERVICE_UNAVAILABLE", "Not ready: the store is unreachable or its schema is not up to date")
	if strings.Contains(string(r.body), "schema version") {
		t.Errorf("the store's error reached the client: %s", r.body)
	}
	if m["properties"].(map[string]any)["check"] != "store" {
		t.Errorf("properties %v", m["properties"])
	}
	if r := h.getRoot("/healthz"); r.status != 200 {
		t.Errorf("healthz while not ready: %d (liveness must not depend on the store)", r.status)
	}
	if err := h.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `msg="not ready: store check failed"`) || !strings.Contains(logs, "request_id=probe-1") ||
		!strings.Contains(logs, "schema version") {
		t.Errorf("the reason is not logged with the request id:\n%s", logs)
	}
}

// TestMetricsAfterRequestsAndDispatches drives requests and dispatches
// through a real server and reads /metrics as Prometheus would.
func TestMetricsAfterRequestsAndDispatches(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p))
	// Immediate, handed off within the request at once: lateness 0.
	immediate := h.start("ors", map[string]any{"_customer_number": num()})
	// Scheduled, claimed by the loop 2 s after it fell due.
	scheduled := h.start("ors", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	h.clock.Set(t0.Add(time.Hour - 120*time.Second + 2*time.Second))
	if n, err := h.srv.Dispatcher().RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("RunOnce claimed %d (%v)", n, err)
	}
	// Two retryable failures then the last attempt fails; then a refusal.
	p.script = []int{503, 502, 500}
	h.json("POST", "/1/service/callback/ors", map[string]any{"_customer_number": num()}).wantError(t, 500, 50006, "ORS_MAX_SUBMIT_RETRIES", "…")
	p.script = []int{400}
	h.json("POST", "/1/service/callback/ors", map[string]any{"_customer_number": num()}).wantError(t, 500, 50030, "ORS_ERROR", "…")
	// Routes are patterns, never raw paths.
	h.json("PUT", "/1/service/callback/ors/"+immediate, map[string]any{"_callback_state": "ROUTING"}).wantOK(t)
	h.do("GET", "/no/such/"+scheduled, "", "")

	r := h.getRoot("/metrics")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", r.status, r.header.Get("Content-Type"))
	}
	samples := parseExposition(t, string(r.body))
	want := map[string]float64{
		`callbackd_http_requests_total{method="POST",route="/genesys/1/service/callback/{service}",status="200"}`:     2,
		`callbackd_http_requests_total{method="POST",route="/genesys/1/service/callback/{service}",status="500"}`:     2,
		`callbackd_http_requests_total{method="PUT",route="/genesys/1/service/callback/{service}/{id}",status="200"}`: 1,
		`callbackd_http_requests_total{method="GET",route="unmatched",status="404"}`:                                  1,
		`callbackd_http_request_duration_seconds_count{method="POST",route="/genesys/1/service/callback/{service}"}`:  4,
		`callbackd_dispatch_lateness_seconds_count{via="request"}`:                                                    1,
		`callbackd_dispatch_lateness_seconds_sum{via="request"}`:                                                      0,
		`callbackd_dispatch_lateness_seconds_count{via="loop"}`:                                                       1,
		`callbackd_dispatch_lateness_seconds_sum{via="loop"}`:                                                         2,
		`callbackd_dispatch_lateness_seconds_bucket{via="loop",le="1"}`:                                               0,
		`callbackd_dispatch_lateness_seconds_bucket{via="loop",le="2.5"}`:                                             1,
		`callbackd_submit_failures_total{kind="retryable"}`:                                                           2,
		`callbackd_submit_failures_total{kind="max_attempts"}`:                                                        1,
		`callbackd_submit_failures_total{kind="permanent"}`:                                                           1,
		`callbackd_submit_failures_total{kind="configuration"}`:                                                       0,
		`callbackd_callbacks{service="ors",state="QUEUED"}`:                                                           1,
		`callbackd_callbacks{service="ors",state="ROUTING"}`:                                                          1,
		`callbackd_callbacks{service="ors",state="COMPLETED"}`:                                                        2,
		`callbackd_callbacks{service="ors",state="SCHEDULED"}`:                                                        0,
	}
	for series, v := range want {
		got, ok := samples[series]
		if !ok {
			t.Errorf("no series %s", series)
		} else if got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	for _, op := range []string{"CreateCallback", "UpdateCallback", "ClaimDue"} {
		if samples[`callbackd_store_operation_duration_seconds_count{op="`+op+`"}`] < 1 {
			t.Errorf("store operation %s not timed", op)
		}
	}
	if strings.Contains(string(r.body), immediate) || strings.Contains(string(r.body), scheduled) {
		t.Error("a callback id made it into a label")
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(string(r.body), "\n"+family+" ") {
			t.Errorf("no %s", family)
		}
	}
}

// parseExposition reads the text format: series (name and labels as
// written) to value.
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		if err := json.Unmarshal([]byte(line[i+1:]), &v); err != nil {
			if line[i+1:] == "+Inf" || line[i+1:] == "NaN" {
				continue
			}
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestJSONLogsCarryTheRequestID runs with log_format = json and checks
// that every line a request caused (the dispatcher's warnings during its
// immediate submission, the access line) carries its request id, and
// that the access line says method, route, status and duration.
func TestJSONLogsCarryTheRequestID(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, "[server]\nlog_format = json\n"+dispatchConfig(p))
	p.script = []int{503, 503}
	req, _ := http.NewRequest("POST", h.base+"/1/service/callback/ors", strings.NewReader(`{"_customer_number":"`+num()+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "req-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Request-Id") != "req-42" {
		t.Fatalf("status %d, X-Request-Id %q", res.StatusCode, res.Header.Get("X-Request-Id"))
	}
	other := h.do("GET", "/1/phonenumber?number=abc", "", "") // another request, its own id
	otherID := other.header.Get("X-Request-Id")
	// Shutdown waits for in-flight requests, so every access line is written.
	if err := h.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var warnings, access int
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		switch {
		case rec["msg"] == "dispatch: submission failed":
			warnings++
			if rec["request_id"] != "req-42" {
				t.Errorf("submission warning without the request's id: %s", line)
			}
		case rec["msg"] == "request" && rec["request_id"] == "req-42":
			access++
			if rec["method"] != "POST" || rec["route"] != "/genesys/1/service/callback/{service}" || rec["status"] != float64(200) ||
				rec["path"] != "/genesys/1/service/callback/ors" || rec["level"] != "INFO" {
				t.Errorf("access line %s", line)
			}
			if d, ok := rec["duration_ms"].(float64); !ok || d < 0 {
				t.Errorf("access line without duration_ms: %s", line)
			}
		case rec["msg"] == "request" && rec["request_id"] == otherID:
			if rec["status"] != float64(400) || rec["route"] != "/genesys/1/phonenumber" {
				t.Errorf("access line of the other request %s", line)
			}
		case rec["msg"] == "request":
			t.Errorf("access line with a request id of no request: %s", line)
		}
	}
	if warnings != 2 || access != 1 {
		t.Errorf("%d submission warnings (want 2) and %d access lines (want 1) for req-42:\n%s", warnings, access, h.logs)
	}
}

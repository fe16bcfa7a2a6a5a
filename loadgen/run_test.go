package loadgen_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/loadgen"
	"github.com/callbackd/callbackd/server"
)

// t0 is a Monday morning, the clock of the servers these tests start.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const testConfig = `
[service.bench]
_request_time_bucket = 5
_max_request_by_time_bucket = 100000
_ttl = 604800
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_max_queued_callbacks_per_service = 100000

[service.noqueue]
_max_queued_callbacks_per_service = 0
`

// startServer runs callbackd in-process on port 0 with a temp SQLite file
// and a manual clock, as server/harness_test.go does.
func startServer(t *testing.T) (*server.Server, *callbackd.ManualClock) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "callbackd.ini")
	if err := os.WriteFile(cfg, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := callbackd.NewManualClock(t0)
	srv, err := server.Open(context.Background(), server.Options{
		ConfigPath: cfg, Listen: "127.0.0.1:0", StoreURL: "sqlite:" + filepath.Join(dir, "test.db"),
		Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NoDispatch: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv, clock
}

func opStats(t *testing.T, r *loadgen.Result, op string) loadgen.OpStats {
	t.Helper()
	for _, s := range r.Ops {
		if s.Op == op {
			return s
		}
	}
	t.Fatalf("no %s line in the report: %+v", op, r.Ops)
	return loadgen.OpStats{}
}

// TestRunAgainstCallbackd runs every op against a real callbackd for a
// fixed request count and checks the report's counts against the mix and
// the callbacks it created against the store.
func TestRunAgainstCallbackd(t *testing.T) {
	srv, clock := startServer(t)
	mix, err := loadgen.ParseMix("start=40,start-now=10,query=10,avail1=10,avail2=10,reschedule=10,cancel=10")
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadgen.Run(context.Background(), loadgen.Options{
		URL: "http://" + srv.Addr() + "/genesys", Service: "bench", Mix: mix,
		Connections: 4, Requests: 200, AvailDays: 7, Pool: 40, Clock: clock,
		Numbers: loadgen.NewNumbers(0), Label: "callbackd", KeepIDs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.All.Requests != 200 || res.All.OK != 200 || res.All.Failed != 0 || len(res.Errors) != 0 {
		t.Fatalf("all: %+v, errors %+v", res.All, res.Errors)
	}
	for op, want := range map[string]int{"start": 80, "start-now": 20, "query": 20, "avail1": 20, "avail2": 20, "reschedule": 20, "cancel": 20} {
		if s := opStats(t, res, op); s.Requests != want || s.OK != want {
			t.Errorf("%s: %d requests, %d ok; want %d, all ok", op, s.Requests, s.OK, want)
		}
	}
	if res.Preloaded != 40 || res.Fallbacks != 0 {
		t.Errorf("preloaded %d (want the pool of 40), fallbacks %d", res.Preloaded, res.Fallbacks)
	}

	// Every callback a measured start created is stored, in the state its
	// op leads to; every cancel left its callback COMPLETED/CANCELLED.
	var scheduled, queued, cancelled int
	for _, c := range res.Created {
		cb, err := srv.Store().GetCallback(context.Background(), c.ID)
		if err != nil {
			t.Fatalf("callback %s (%s) not in the store: %v", c.ID, c.Op, err)
		}
		switch {
		case c.Cancelled:
			cancelled++
			if cb.State != callbackd.StateCompleted || cb.Reason != callbackd.ReasonCancelled {
				t.Errorf("cancelled %s is %s/%s", c.ID, cb.State, cb.Reason)
			}
		case c.Op == loadgen.OpStartNow:
			queued++
			if cb.State != callbackd.StateQueued {
				t.Errorf("immediate %s is %s, want QUEUED", c.ID, cb.State)
			}
		case c.Op == loadgen.OpStart:
			scheduled++
			if cb.State != callbackd.StateScheduled && cb.State != callbackd.StateCompleted {
				t.Errorf("scheduled %s is %s", c.ID, cb.State)
			}
			if cb.CustomerNumber == "" || cb.Properties["usr_source"] != "bench" {
				t.Errorf("scheduled %s: number %q, usr_source %q", c.ID, cb.CustomerNumber, cb.Properties["usr_source"])
			}
		}
	}
	if scheduled != 80 || queued != 20 || cancelled != 20 {
		t.Fatalf("kept %d scheduled, %d immediate, %d cancelled; want 80, 20, 20", scheduled, queued, cancelled)
	}
}

// TestRunCountsRefusalsBySpecCode runs immediate starts against a service
// that queues none: every one is refused with 429 THROTTLE_SERVICE_LIMIT,
// and the report says so by op, status and code.
func TestRunCountsRefusalsBySpecCode(t *testing.T) {
	srv, clock := startServer(t)
	mix, _ := loadgen.ParseMix("start-now=1,avail1=1")
	res, err := loadgen.Run(context.Background(), loadgen.Options{
		URL: "http://" + srv.Addr() + "/genesys", Service: "noqueue", Mix: mix,
		Connections: 2, Requests: 30, AvailDays: 1, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []loadgen.ErrorCount{{ErrorKey: loadgen.ErrorKey{Op: "start-now", Status: 429, Code: 40002, Phrase: "THROTTLE_SERVICE_LIMIT"}, Count: 15}}
	if !slices.Equal(res.Errors, want) {
		t.Fatalf("errors %+v, want %+v", res.Errors, want)
	}
	if s := opStats(t, res, "start-now"); s.Requests != 15 || s.Failed != 15 {
		t.Errorf("start-now: %+v", s)
	}
	if s := opStats(t, res, "avail1"); s.OK != 15 {
		t.Errorf("avail1: %+v", s)
	}
	if res.All.Failed != 15 {
		t.Errorf("all: %+v", res.All)
	}
}

// TestRunCountsAnswersWithoutSpecBody checks the counting of failures that
// carry no spec body and of requests that get no answer at all.
func TestRunCountsAnswersWithoutSpecBody(t *testing.T) {
	var n atomic.Int64
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, "upstream gone", http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, `{"_id":"x"}`)
	}))
	defer stub.Close()
	mix, _ := loadgen.ParseMix("start=1")
	res, err := loadgen.Run(context.Background(), loadgen.Options{URL: stub.URL, Service: "s", Mix: mix, Connections: 1, Requests: 10, AvailDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []loadgen.ErrorCount{{ErrorKey: loadgen.ErrorKey{Op: "start", Status: 502}, Count: 5}}; !slices.Equal(res.Errors, want) {
		t.Fatalf("errors %+v, want %+v", res.Errors, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	res, err = loadgen.Run(context.Background(), loadgen.Options{URL: closed, Service: "s", Mix: mix, Connections: 1, Requests: 3, AvailDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []loadgen.ErrorCount{{ErrorKey: loadgen.ErrorKey{Op: "start", Transport: "connection refused"}, Count: 3}}; !slices.Equal(res.Errors, want) {
		t.Fatalf("errors %+v, want %+v", res.Errors, want)
	}
}

// TestBaselineAnswersAsCallbackd sends the same requests to callbackd and
// to the baseline and compares the shapes of the answers: the baseline is
// only a fair yardstick if it writes what callbackd writes.
func TestBaselineAnswersAsCallbackd(t *testing.T) {
	srv, clock := startServer(t)
	base := httptest.NewServer(loadgen.Baseline("/genesys", clock))
	defer base.Close()
	real := "http://" + srv.Addr() + "/genesys"

	send := func(root, method, path, body string) (int, any) {
		t.Helper()
		req, _ := http.NewRequest(method, root+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v any
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s%s: no X-Request-Id", method, root, path)
		}
		return res.StatusCode, v
	}
	cb := "/1/service/callback/bench"
	_, created := send(real, "POST", cb, `{"_customer_number":"5555550100","_desired_time":"2026-03-03T10:00:00.000Z","usr_source":"bench"}`)
	id := created.(map[string]any)["_id"].(string)
	start := "?start=2026-03-02T09:00:00.000Z&number-of-days=7"
	for _, tc := range []struct{ name, method, path, body string }{
		{"StartScheduled", "POST", cb, `{"_customer_number":"5555550101","_desired_time":"2026-03-03T10:00:00.000Z","usr_source":"bench"}`},
		{"StartImmediate", "POST", cb, `{"_customer_number":"5555550102","usr_source":"bench"}`},
		{"Query", "GET", cb + "?_id=" + id, ""},
		{"AvailabilityV1", "GET", cb + "/availability" + start, ""},
		{"AvailabilityV2", "GET", "/2/service/callback/bench/availability" + start + "&report-busy=true", ""},
		{"Reschedule", "PUT", cb + "/" + id, `{"_new_desired_time":"2026-03-04T10:00:00.000Z"}`},
		{"Cancel", "DELETE", cb + "/" + id, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, rv := send(real, tc.method, tc.path, tc.body)
			bs, bv := send(base.URL+"/genesys", tc.method, tc.path, tc.body)
			if rs != 200 || bs != 200 {
				t.Fatalf("status callbackd %d, baseline %d", rs, bs)
			}
			if rsh, bsh := shape(rv), shape(bv); rsh != bsh {
				t.Fatalf("shapes differ:\ncallbackd %s\nbaseline  %s", rsh, bsh)
			}
		})
	}
	// A week of 5-minute buckets: 2,016 slots from both.
	_, v := send(base.URL+"/genesys", "GET", "/2/service/callback/bench/availability"+start, "")
	if n := len(v.(map[string]any)["slots"].([]any)); n != 2016 {
		t.Errorf("baseline v2 over 7 days: %d slots, want 2016", n)
	}
}

// shape describes a JSON value by its keys and types: objects by sorted
// keys (maps of times by their first key's type only), arrays by their
// length class and first element.
func shape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(keys) > 0 && strings.HasPrefix(keys[0], "20") { // v1 availability: time -> count
			return "{time:" + shape(v[keys[0]]) + "}"
		}
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			b.WriteString(k + ":" + shape(v[k]) + ",")
		}
		return b.String() + "}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + shape(v[0]) + "...]"
	case string:
		return "string"
	case float64:
		return "number"
	}
	return "?"
}

// TestPreloadImport fills a store through the Importer, as the scale
// benchmark does before starting the server, and checks every callback is
// there, spread over the week.
func TestPreloadImport(t *testing.T) {
	srv, clock := startServer(t)
	if err := loadgen.PreloadImport(context.Background(), srv.Manager(), "bench", 2016, clock, loadgen.NewNumbers(7), nil); err != nil {
		t.Fatal(err)
	}
	found, err := srv.Store().FindCallbacks(context.Background(), callbackd.Query{Service: "bench", Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2016 {
		t.Fatalf("%d callbacks stored, want 2016", len(found))
	}
	first, last := found[0].DesiredTime, found[len(found)-1].DesiredTime
	if first.Before(t0.Add(time.Hour)) || !last.Before(t0.Add(7*24*time.Hour)) || last.Sub(first) < 6*24*time.Hour {
		t.Errorf("desired times from %v to %v, want spread over [t0+1h, t0+7d)", first, last)
	}
	numbers := map[string]bool{}
	for _, cb := range found {
		if cb.State != callbackd.StateScheduled || numbers[cb.CustomerNumber] {
			t.Fatalf("callback %s: %s, number %s (seen before: %v)", cb.ID, cb.State, cb.CustomerNumber, numbers[cb.CustomerNumber])
		}
		numbers[cb.CustomerNumber] = true
	}
}

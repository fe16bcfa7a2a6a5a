package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/server"
)

// BenchmarkDispatchLateness is issue 5's target: with 1,000,000 callbacks
// scheduled (over the next 30 days), 2,000 callbacks due within a few
// seconds are handed to a local platform; lateness is the platform's
// receive time minus the due time, on the real clock. Run with
// -benchtime 1x: one run is the whole measurement.
func BenchmarkDispatchLateness(b *testing.B) {
	var mu sync.Mutex
	received := map[string]time.Time{}
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		received[key[:len(key)-2]] = time.Now() // key = id + "-1"
		mu.Unlock()
		fmt.Fprintf(w, `{"_ors_session_id":"S-%s"}`, key)
	}))
	defer platform.Close()

	dir := filepath.Join(os.TempDir(), "callbackd-bench")
	_ = os.MkdirAll(dir, 0o755)
	cfg := filepath.Join(dir, "dispatch.ini")
	config := `
[dispatcher]
max_per_second = 0
[service.due]
_ors = ` + platform.URL + `
_request_execution_time_buffer = 0
_max_request_by_time_bucket = 100000
_enable_in_queue_checking = false
_disallow_impossible_phone_numbers = false
_disallow_premium_phone_numbers = false
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
`
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}
	db := filepath.Join(dir, "dispatch-1m.db")
	_, statErr := os.Stat(db)
	srv, err := server.Open(context.Background(), server.Options{ConfigPath: cfg, Listen: "127.0.0.1:0", StoreURL: "sqlite:" + db,
		Clock: callbackd.SystemClock{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	importDue := func(n int, first time.Time, spread time.Duration) []string {
		var ids []string
		for i := 0; i < n; i += 50_000 {
			reqs := make([]callbacks.Params, 0, 50_000)
			for j := i; j < min(i+50_000, n); j++ {
				desired := first.Add(spread / time.Duration(n) * time.Duration(j))
				reqs = append(reqs, callbacks.Params{"_customer_number": fmt.Sprintf("+1556%07d", j), "_desired_time": callbackd.FormatTime(desired)})
			}
			got, err := srv.Manager().Import(context.Background(), "due", reqs)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, got...)
		}
		return ids
	}
	if statErr != nil {
		started := time.Now()
		importDue(1_000_000, time.Now().Add(2*24*time.Hour), 28*24*time.Hour)
		b.Logf("scheduled 1,000,000 callbacks in %v", time.Since(started))
	}
	const n = 2000
	start := time.Now().Add(3 * time.Second)
	ids := importDue(n, start, 5*time.Second)
	due := make(map[string]time.Time, n)
	for i, id := range ids {
		due[id] = start.Add(5 * time.Second / n * time.Duration(i)).Truncate(time.Millisecond)
	}
	b.ResetTimer()
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		got := 0
		for _, id := range ids {
			if _, ok := received[id]; ok {
				got++
			}
		}
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d submitted within 60 s", got, n)
		}
		time.Sleep(50 * time.Millisecond) // waiting for the real-time run to finish
	}
	b.StopTimer()
	late := make([]time.Duration, 0, n)
	for _, id := range ids {
		late = append(late, received[id].Sub(due[id]))
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[n/2].Microseconds())/1000, "ms-late-p50")
	b.ReportMetric(float64(late[n*99/100].Microseconds())/1000, "ms-late-p99")
	b.ReportMetric(float64(late[n-1].Microseconds())/1000, "ms-late-max")
}

package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/server"
)

const benchConfig = `
[service.bench]
_request_time_bucket = 5
_max_request_by_time_bucket = 1000
_enable_in_queue_checking = false
_disallow_impossible_phone_numbers = false
_disallow_premium_phone_numbers = false
_ttl = 604800
`

// benchServer opens a server on a SQLite file preloaded with n callbacks
// spread over the 7 days after t0. The file is kept in the temp directory
// and reused by later runs, since loading a million callbacks takes a while.
func benchServer(b *testing.B, n int) *server.Server {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "callbackd-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "bench.ini")
	if err := os.WriteFile(cfg, []byte(benchConfig), 0o600); err != nil {
		b.Fatal(err)
	}
	db := filepath.Join(dir, fmt.Sprintf("availability-%d.db", n))
	_, statErr := os.Stat(db)
	srv, err := server.Open(context.Background(), server.Options{
		ConfigPath: cfg, Listen: "127.0.0.1:0", StoreURL: "sqlite:" + db,
		Clock: callbackd.NewManualClock(t0), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	if statErr != nil { // a new file: load it
		started := time.Now()
		const chunk = 50_000
		week := 7 * 24 * time.Hour
		for i := 0; i < n; i += chunk {
			reqs := make([]callbacks.Params, 0, chunk)
			for j := i; j < min(i+chunk, n); j++ {
				desired := t0.Add(time.Minute + week/time.Duration(n)*time.Duration(j)) // j*week would overflow
				reqs = append(reqs, callbacks.Params{"_customer_number": fmt.Sprintf("+1555%07d", j), "_desired_time": callbackd.FormatTime(desired), "firstname": "Bench"})
			}
			if _, err := srv.Manager().Import(context.Background(), "bench", reqs); err != nil {
				os.Remove(db)
				b.Fatal(err)
			}
		}
		b.Logf("loaded %d callbacks in %v", n, time.Since(started))
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv
}

// BenchmarkAvailabilityV2Week is issue 3's target: a 7-day v2 query on
// 5-minute buckets (2,016 slots in the answer) with 1,000,000 callbacks
// stored, over HTTP. It reports the median and p99 latency.
func BenchmarkAvailabilityV2Week(b *testing.B) {
	srv := benchServer(b, 1_000_000)
	url := "http://" + srv.Addr() + "/genesys/2/service/callback/bench/availability?start=" + callbackd.FormatTime(t0) + "&number-of-days=7&report-busy=true"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func() int {
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		return int(n)
	}
	size := get() // warm up and check
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		get()
		durations = append(durations, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds())/1000, "ms-p99")
	b.ReportMetric(float64(size), "bytes/answer")
}

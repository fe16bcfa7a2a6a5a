package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
	"github.com/callbackd/callbackd/server"
	"github.com/callbackd/callbackd/storetest"
)

// startConfig is a service with the defaults of GMS (number checks, in-queue
// checking, the daily per-number limit) except the service-wide throttles,
// whose defaults (500 per 5 min) would refuse nearly every request, and a
// bucket capacity that never fills.
const startConfig = `
[service.start]
_max_request_by_time_bucket = 100000
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
`

// startClients are the numbers of clients that send at once: 16, and 64,
// enough to keep both cores busy while commits wait for the disk.
var startClients = []int{16, 64}

// BenchmarkStartCallback is issue 8's target: concurrent Start-Callback
// requests (scheduled, durable) over real HTTP, answered 200 only once the
// callback is on disk; it reports accepted/s, the latency percentiles and
// the CPU per request (of this process, which also runs the clients, and,
// for PostgreSQL, of the server processes that served it). Baseline is a
// plain net/http handler that reads the same JSON on the same route and
// answers an id, for the ratio. Run with
//
//	go test -run '^$' -bench BenchmarkStartCallback -benchtime 20000x ./server
func BenchmarkStartCallback(b *testing.B) {
	for _, clients := range startClients {
		name := fmt.Sprintf("clients=%d", clients)
		b.Run("Baseline/"+name, func(b *testing.B) {
			runStarts(b, baselineServer(b), clients)
		})
		b.Run("SQLite/"+name, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "start.db")
			runStarts(b, startServer(b, url), clients)
		})
		b.Run("PostgreSQL/"+name, func(b *testing.B) {
			url, app := pgtest.Schema(b)
			base := startServer(b, url)
			before := pgtest.BackendsCPU(url, app)
			runStarts(b, base, clients)
			// The database's share: CPU of the server processes that
			// served this run's connections.
			b.ReportMetric(float64((pgtest.BackendsCPU(url, app)-before).Microseconds())/float64(b.N), "pg-cpu-µs/req")
		})
	}
}

// baselineServer is plain net/http on the same route: it decodes the same
// JSON and answers an id.
func baselineServer(b *testing.B) string {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /genesys/1/service/callback/{service}", func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"_id": uuid.Must(uuid.NewV7()).String()})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/genesys"
}

// startServer runs callbackd with startConfig on a store and returns its
// base URL.
func startServer(b *testing.B, storeURL string) string {
	b.Helper()
	cfg := filepath.Join(b.TempDir(), "start.ini")
	if err := os.WriteFile(cfg, []byte(startConfig), 0o600); err != nil {
		b.Fatal(err)
	}
	srv, err := server.Open(context.Background(), server.Options{
		ConfigPath: cfg, Listen: "127.0.0.1:0", StoreURL: storeURL, NoDispatch: true,
		Clock: callbackd.NewManualClock(t0), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + srv.Addr() + "/genesys"
}

// runStarts sends b.N Start-Callback requests from that many clients,
// each a scheduled callback for its own number, spread over a week of
// 5-minute buckets, and reports accepted/s, p50 and p99.
func runStarts(b *testing.B, base string, clients int) {
	b.Helper()
	url := base + "/1/service/callback/start"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	body := func(i int) []byte {
		desired := t0.Add(time.Hour + time.Duration(i%2016)*5*time.Minute)
		return []byte(`{"_customer_number":"+1555` + fmt.Sprintf("%07d", i%10_000_000) + `","_desired_time":"` +
			callbackd.FormatTime(desired) + `","firstname":"Bench","lastname":"Load","_urs_virtual_queue":"VQ_Bench"}`)
	}
	post := func(i int) (time.Duration, error) {
		started := time.Now()
		res, err := client.Post(url, "application/json", bytes.NewReader(body(i)))
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"_id"`)) {
			return 0, fmt.Errorf("request %d: %d %s", i, res.StatusCode, out)
		}
		return time.Since(started), nil
	}
	if _, err := post(-1 + 10_000_000); err != nil { // warm up, and check the answer
		b.Fatal(err)
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := storetest.ProcessCPU()
	started := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N || failed.Load() != nil {
					return
				}
				d, err := post(i)
				if err != nil {
					failed.Store(err)
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	cpu := storetest.ProcessCPU() - cpu0
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "accepted/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "ms-p50")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "ms-p99")
	// The process's CPU (server and clients) per request: what the rate
	// would be on two idle cores, whatever else runs on the machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(0, "ns/op") // the rate says it; ns/op of a parallel run misleads
}

func ms(d time.Duration) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64), 64)
	return v
}

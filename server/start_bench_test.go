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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/server"
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
			url, app := benchPostgres(b)
			base := startServer(b, url)
			before := backendsCPU(b, url, app)
			runStarts(b, base, clients)
			// The database's share: CPU of the server processes that
			// served this run's connections.
			b.ReportMetric(float64((backendsCPU(b, url, app)-before).Microseconds())/float64(b.N), "pg-cpu-µs/req")
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

// benchPostgres returns the URL of a fresh schema in the test database
// (CALLBACKD_TEST_POSTGRES, default 127.0.0.1:5432/test), dropped at the
// end, and the application_name its connections carry; or skips.
func benchPostgres(b *testing.B) (string, string) {
	b.Helper()
	base := os.Getenv("CALLBACKD_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Skipf("PostgreSQL not reachable: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("callbackd_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err == nil {
			_, _ = conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			conn.Close(ctx)
		}
	})
	return base + "&search_path=" + schema + "&application_name=" + schema, schema
}

// backendsCPU is the CPU time used so far by the PostgreSQL server
// processes of the connections named app (read from /proc: the server runs
// on this machine); 0 when it cannot be read.
func backendsCPU(b *testing.B, url, app string) time.Duration {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, app)
	if err != nil {
		return 0
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name (in parentheses): utime and stime
		// are the 12th and 13th, in clock ticks (100 per second on Linux).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(u+s) * 10 * time.Millisecond
		}
	}
	return total
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
	cpu0 := cpuTime()
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
	cpu := cpuTime() - cpu0
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

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64), 64)
	return v
}

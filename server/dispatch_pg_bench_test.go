package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
	"github.com/callbackd/callbackd/server"
	"github.com/callbackd/callbackd/storetest"
)

// BenchmarkDispatchThroughputPostgreSQL is issue 8's dispatch figure: how
// many callbacks per second one node hands to a local execution platform
// from PostgreSQL when a backlog is due at once. 20,000 callbacks are
// booked through Start-Callback by a node without a dispatcher, all due at
// the same instant; a second node with a dispatcher then claims, submits
// and records them. Its clock is the machine's, run ahead to the due
// instant, so that the measurement starts at once rather than after a
// minute of empty claims (which the CPU figures used to include); leases
// run out in real time. Run with -benchtime 1x (one run is the
// measurement).
//
// HTTP submits to a platform over HTTP on loopback, as a deployment does.
// InProcess hands the callbacks to an Executor in the test instead, so the
// difference between the two is the cost of the HTTP submission and what
// InProcess measures is the dispatcher and the store.
func BenchmarkDispatchThroughputPostgreSQL(b *testing.B) {
	b.Run("HTTP", func(b *testing.B) {
		var r receipts
		platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.add()
			fmt.Fprintf(w, `{"_ors_session_id":"S-%s"}`, req.Header.Get("Idempotency-Key"))
		}))
		defer platform.Close()
		dispatchBacklog(b, platform.URL, nil, &r)
	})
	b.Run("InProcess", func(b *testing.B) {
		r := &receipts{}
		dispatchBacklog(b, "http://in-process.invalid/", inProcess{r}, r)
	})
}

// receipts counts the submissions a platform received and when the first
// and the last arrived.
type receipts struct {
	n           atomic.Int64
	mu          sync.Mutex
	first, last time.Time
}

func (r *receipts) add() {
	now := time.Now()
	r.mu.Lock()
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
	r.mu.Unlock()
	r.n.Add(1)
}

// inProcess is an execution platform in the process: it accepts every
// submission at once, with the session id the HTTP platform would give.
type inProcess struct{ r *receipts }

func (p inProcess) Submit(_ context.Context, s callbackd.Submission) (string, error) {
	p.r.add()
	return "S-" + s.IdempotencyKey, nil
}

func (inProcess) Cancel(context.Context, *callbackd.Callback) error { return nil }

// aheadClock is the machine's clock run ahead by a fixed offset.
type aheadClock time.Duration

func (c aheadClock) Now() time.Time { return time.Now().Add(time.Duration(c)) }

// dispatchBacklog books the backlog, starts a dispatching node submitting
// to ors (through exec when set) and reports the rate and CPU per callback
// once r has seen every callback.
func dispatchBacklog(b *testing.B, ors string, exec callbackd.Executor, r *receipts) {
	const n = 20_000
	url, app := pgtest.Schema(b)
	cfg := filepath.Join(b.TempDir(), "dispatch.ini")
	config := `
[dispatcher]
max_per_second = 0
batch = 500
workers = 128
[service.due]
_ors = ` + ors + `
_request_execution_time_buffer = 0
_max_request_by_time_bucket = 100000
_enable_in_queue_checking = false
_disallow_impossible_phone_numbers = false
_disallow_premium_phone_numbers = false
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_throttle_request_parameters_limit = 0
`
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}
	open := func(noDispatch bool, clock callbackd.Clock) *server.Server {
		srv, err := server.Open(context.Background(), server.Options{ConfigPath: cfg, Listen: "127.0.0.1:0", StoreURL: url,
			NoDispatch: noDispatch, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Executor: exec})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			b.Fatal(err)
		}
		return srv
	}

	// Book the backlog, due in 60 s (past the booking, whatever the load).
	booker := open(true, callbackd.SystemClock{})
	due := time.Now().Add(60 * time.Second).Truncate(time.Second)
	body := []byte(`{"_customer_number":"5551234","_desired_time":"` + callbackd.FormatTime(due) + `"}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				res, err := client.Post("http://"+booker.Addr()+"/genesys/1/service/callback/due", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("%d %s", res.StatusCode, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := booker.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	if b.Failed() {
		return
	}
	ahead := time.Until(due)
	if ahead < 0 {
		b.Logf("booking took past the due time by %v", -ahead)
		ahead = 0
	}

	b.ResetTimer()
	dispatcher := open(false, aheadClock(ahead))
	defer dispatcher.Shutdown(context.Background())
	cpu0, pg0 := storetest.ProcessCPU(), pgtest.BackendsCPU(url, app)
	deadline := time.Now().Add(10 * time.Minute)
	for r.n.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d submitted", r.n.Load(), n)
		}
		time.Sleep(50 * time.Millisecond) // waiting for the run
	}
	b.StopTimer()
	cpu, pg := storetest.ProcessCPU()-cpu0, pgtest.BackendsCPU(url, app)-pg0
	r.mu.Lock()
	elapsed := r.last.Sub(r.first)
	r.mu.Unlock()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "callbacks/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/callback")
	b.ReportMetric(float64(pg.Microseconds())/n, "pg-cpu-µs/callback")
	b.ReportMetric(0, "ns/op")
}

package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/server"
	"github.com/callbackd/callbackd/storetest"
)

// throughputService is the builtin service of the throughput run: every
// Start-Callback is accepted (no throttle, no full bucket) and immediate.
const throughputService = `_max_request_by_time_bucket = 10000000
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_max_queued_callbacks_per_service = 100000000
_ttl = 86400
`

// BenchmarkThroughput is issue 13's throughput target: callbacks carried
// from Start-Callback to COMPLETED AGENT_CONNECTED through the real
// server (server.Open on a SQLite file, dispatcher running, system
// clock), the simulated dialer answering at once and every conversation
// ending at once (ring 0, talk 0), and auto-answer agents, all READY.
// Each iteration is one Start-Callback for a new number, sent in process
// (Manager.Start) by 16 clients, either
//
//   - via=loop: stored SCHEDULED and due at once
//     (_request_execution_time_buffer = 0); the dispatch loop claims it
//     (batches of 100, 16 workers, the defaults) and submits it to the
//     engine, as callbacks scheduled earlier become due; or
//   - via=request: immediate (the default buffer of 120 s), claimed and
//     submitted to the engine within the request (SubmitNow).
//
// Clients hold at most two callbacks per agent in flight (an agent's
// "call ended" event frees a place), so that every agent that frees finds
// work and the queue does not grow for ever. The clock stops when the
// store counts b.N callbacks COMPLETED. Reported: callbacks/s, the
// Start-Callback latency, the process's CPU per callback, and the store
// operations per callback as the server's metrics count them. Run with
//
//	go test -run '^$' -bench BenchmarkThroughput -benchtime 20000x ./engine
func BenchmarkThroughput(b *testing.B) {
	for _, via := range []string{"loop", "request"} {
		for _, agents := range []int{50, 200, 1000} {
			b.Run(fmt.Sprintf("via=%s/agents=%d", via, agents), func(b *testing.B) { benchThroughput(b, via, agents) })
		}
	}
}

func benchThroughput(b *testing.B, via string, agents int) {
	ctx := context.Background()
	dir := b.TempDir()
	buffer := "" // the default: immediate, submitted within the request
	if via == "loop" {
		buffer = "_request_execution_time_buffer = 0\n" // scheduled, due at once
	}
	ini := "[server]\nlisten = 127.0.0.1:0\n\n[storage]\nurl = sqlite:" + filepath.Join(dir, "throughput.db") +
		"\n\n[dispatcher]\nmax_per_second = 0\n\n[agents]\nheartbeat = 3600\n\n" +
		benchConfig(agents, true, throughputService+buffer, "ring_seconds = 0\ntalk_seconds = 0")
	path := filepath.Join(dir, "throughput.ini")
	if err := os.WriteFile(path, []byte(ini), 0o600); err != nil {
		b.Fatal(err)
	}
	logged := &errorLog{}
	srv, err := server.Open(ctx, server.Options{ConfigPath: path, Logger: slog.New(logged)})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	e := srv.Engine()

	// Every agent READY, its desktop listening; an ended call frees a
	// place in flight.
	inFlight := make(chan struct{}, 2*agents)
	for i := range agents {
		name := agentName(i)
		if _, err := e.Login(ctx, name); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Ready(ctx, name); err != nil {
			b.Fatal(err)
		}
		events, stop, err := e.Subscribe(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(stop)
		go func() {
			for ev := range events {
				if d, ok := ev.Data.(map[string]any); ok && ev.Type == "call" && d["status"] == "ended" {
					select {
					case <-inFlight:
					default:
					}
				}
			}
		}()
	}

	completed0 := countCompleted(b, srv)
	ops0 := storeOps(b, srv)
	lat := make([]time.Duration, b.N)
	var seq atomic.Int64
	b.ResetTimer()
	cpu0 := storetest.ProcessCPU()
	elapsed := callbackd.Stopwatch()
	err = parallel(b.N, 16, func(i int) error {
		inFlight <- struct{}{}
		number := fmt.Sprintf("+1415%07d", seq.Add(1))
		started := callbackd.Stopwatch()
		if _, err := srv.Manager().Start(ctx, "support", callbacks.Params{"_customer_number": number}); err != nil {
			return err
		}
		lat[i] = started()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Minute); countCompleted(b, srv)-completed0 < b.N; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d callbacks COMPLETED after 5 minutes", countCompleted(b, srv)-completed0, b.N)
		}
	}
	took, cpu := elapsed(), storetest.ProcessCPU()-cpu0
	b.StopTimer()
	ops := storeOps(b, srv)
	slices.Sort(lat)
	n := float64(b.N)
	b.ReportMetric(n/took.Seconds(), "callbacks/s")
	b.ReportMetric(percentile(lat, 50), "start-ms-p50")
	b.ReportMetric(percentile(lat, 99), "start-ms-p99")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/callback")
	for _, op := range []string{"CreateCallback", "ClaimDue", "UpdateCallback", "PutAgents"} {
		b.ReportMetric((ops[op].count-ops0[op].count)/n, op+"/callback")
	}
	upd := ops["UpdateCallback"]
	b.ReportMetric((upd.sum-ops0["UpdateCallback"].sum)/(upd.count-ops0["UpdateCallback"].count)*1000, "update-ms-mean")
	b.ReportMetric(float64(logged.errors.Load()), "errors-logged")
	if msg := logged.first(); msg != "" {
		b.Logf("first error logged: %s", msg)
	}
	b.ReportMetric(0, "ns/op") // callbacks/s says it
}

// countCompleted is how many callbacks the store holds COMPLETED.
func countCompleted(tb testing.TB, srv *server.Server) int {
	counts, err := srv.Store().CountByState(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		if c.State == callbackd.StateCompleted {
			n += c.Count
		}
	}
	return n
}

// opStat is one store operation's count and total seconds.
type opStat struct{ count, sum float64 }

// storeOps reads the server's metrics: how many of each store operation
// ran, and how long they took in all.
func storeOps(tb testing.TB, srv *server.Server) map[string]opStat {
	res, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]opStat{}
	const prefix = `callbackd_store_operation_duration_seconds_`
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		kind, rest, _ := strings.Cut(line, `{op="`)
		op, value, _ := strings.Cut(rest, `"} `)
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		s := out[op]
		switch kind {
		case "count":
			s.count = v
		case "sum":
			s.sum = v
		}
		out[op] = s
	}
	return out
}

// errorLog is a slog handler that counts ERROR records and keeps the
// first: a run that logs errors is not carrying callbacks as it should.
type errorLog struct {
	errors atomic.Int64
	mu     sync.Mutex
	msg    string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	if h.errors.Add(1) == 1 {
		var sb strings.Builder
		sb.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { sb.WriteString(" " + a.String()); return true })
		h.mu.Lock()
		h.msg = sb.String()
		h.mu.Unlock()
	}
	return nil
}
func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }

func (h *errorLog) first() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.msg
}

package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

// BenchmarkCreateConcurrent measures the store alone under group commit:
// 64 goroutines create callbacks shaped like Start-Callback's (a slot
// hold, an in-queue hold, a daily rate hold, a lookup key, an event). It
// reports the CPU per create of this process and of the PostgreSQL server
// processes that served it, and how many writes shared a commit.
func BenchmarkCreateConcurrent(b *testing.B) {
	u, name := freshSchemaB(b)
	s, err := Open(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	batches0, writes0 := s.commits.Stats()
	pg0 := backendsCPU(s, name)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				number := fmt.Sprintf("+1555%07d", i)
				cb := &callbackd.Callback{ID: fmt.Sprintf("bench-%08d", i), Service: "svc", State: callbackd.StateScheduled,
					CustomerNumber: number, DesiredTime: t0, ExpirationTime: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0,
					Properties: map[string]string{"firstname": "Bench", "_urs_virtual_queue": "VQ"},
					Lookup:     map[string]string{callbackd.KeyCustomerNumber: number},
					Holds: []callbackd.Hold{{Key: fmt.Sprintf("slot/svc/%04d", i%2016), Limit: 100000}, {Key: "inqueue/svc/" + number, Limit: 2},
						{Key: "day/svc/2026-03-02/_customer_number=" + number, Limit: 6, Window: 24 * time.Hour, At: t0}}}
				if err := s.CreateCallback(context.Background(), cb, []callbackd.Event{cb.Accepted(t0, "api")}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/write")
	b.ReportMetric(float64((backendsCPU(s, name)-pg0).Microseconds())/float64(b.N), "pg-cpu-µs/write")
	batches, writes := s.commits.Stats()
	b.ReportMetric(float64(writes-writes0)/float64(batches-batches0), "writes/commit")
	// Batches run again after a deadlock or serialization failure: the
	// lock order should keep it at 0.
	b.ReportMetric(float64(s.retried.Load()), "retries")
}

// freshSchemaB is freshSchema for a benchmark.
func freshSchemaB(b *testing.B) (string, string) {
	base := os.Getenv("CALLBACKD_TEST_POSTGRES")
	if base == "" {
		base = defaultTestURL
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Skipf("PostgreSQL not reachable: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("callbackd_bench_%d_%d", os.Getpid(), schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err == nil {
			_, _ = conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`)
			conn.Close(ctx)
		}
	})
	return withParams(base, "search_path", name, "application_name", name), name
}

// backendsCPU is the CPU time used so far by the server processes of the
// store's connections (application_name = app), read from /proc.
func backendsCPU(s *Store, app string) time.Duration {
	rows, err := s.pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
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
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(u+st) * 10 * time.Millisecond
		}
	}
	return total
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

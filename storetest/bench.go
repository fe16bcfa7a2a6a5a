package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// ProcessCPU is the user and system CPU time of this process so far.
// Benchmarks report CPU per operation: on a shared machine it moves far
// less than rates do.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CreateConcurrently creates b.N callbacks shaped like Start-Callback's (a
// slot hold, an in-queue hold, a daily rate hold, a lookup key, an event)
// from clients goroutines, timed, and reports the process's CPU per
// create as cpu-µs/write. Both stores' BenchmarkCreateConcurrent run it.
func CreateConcurrently(b *testing.B, s callbackd.Store, clients int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := ProcessCPU()
	for range clients {
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
	cpu := ProcessCPU() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/write")
}

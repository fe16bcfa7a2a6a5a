package postgres

import (
	"context"
	"testing"

	"github.com/callbackd/callbackd/internal/pgtest"
	"github.com/callbackd/callbackd/storetest"
)

// BenchmarkCreateConcurrent measures the store alone under group commit:
// 64 goroutines create callbacks shaped like Start-Callback's (a slot
// hold, an in-queue hold, a daily rate hold, a lookup key, an event). It
// reports the CPU per create of this process and of the PostgreSQL server
// processes that served it, and how many writes shared a commit.
func BenchmarkCreateConcurrent(b *testing.B) {
	u, name := pgtest.Schema(b)
	s, err := Open(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batches0, writes0 := s.commits.Stats()
	pg0 := pgtest.BackendsCPU(u, name)
	storetest.CreateConcurrently(b, s, 64)
	b.ReportMetric(float64((pgtest.BackendsCPU(u, name)-pg0).Microseconds())/float64(b.N), "pg-cpu-µs/write")
	batches, writes := s.commits.Stats()
	b.ReportMetric(float64(writes-writes0)/float64(batches-batches0), "writes/commit")
	// Batches run again after a deadlock or serialization failure: the
	// lock order should keep it at 0.
	b.ReportMetric(float64(s.retried.Load()), "retries")
}

package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/callbackd/callbackd/storetest"
)

// BenchmarkCreateConcurrent measures the store alone under group commit:
// 64 goroutines create callbacks shaped like Start-Callback's (a slot
// hold, an in-queue hold, a daily rate hold, a lookup key, an event).
// ns/op is the wall time per create; writes/commit says how well commits
// are shared.
func BenchmarkCreateConcurrent(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batches0, writes0 := s.commits.Stats()
	storetest.CreateConcurrently(b, s, 64)
	batches, writes := s.commits.Stats()
	b.ReportMetric(float64(writes-writes0)/float64(batches-batches0), "writes/commit")
}

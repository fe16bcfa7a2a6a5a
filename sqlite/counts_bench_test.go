package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/callbackd/callbackd/sqlite"
)

// BenchmarkCountCallbacks measures the query behind the callbacks gauge of
// /metrics with 1,000,000 callbacks in 5 services (70% COMPLETED, 20%
// SCHEDULED, 10% QUEUED). The file is written once with plain SQL and kept
// in $TMPDIR/callbackd-bench/ for later runs.
func BenchmarkCountCallbacks(b *testing.B) {
	const n = 1_000_000
	dir := filepath.Join(os.TempDir(), "callbackd-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "counts-1000000.db")
	ctx := context.Background()
	if _, err := os.Stat(path); err != nil {
		s, err := sqlite.Open(ctx, path) // creates the schema
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			b.Fatal(err)
		}
		_, err = db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO callbacks (id, service, state, desired_time, expiration_time, created_at, updated_at)
			SELECT printf('cb-%07d', i), 'svc-' || (i % 5),
			       CASE WHEN i / 5 % 10 < 7 THEN 'COMPLETED' WHEN i / 5 % 10 < 9 THEN 'SCHEDULED' ELSE 'QUEUED' END,
			       1772442000000 + i * 1000, 1772528400000 + i * 1000, 1772442000000, 1772442000000
			FROM n`, n-1)
		db.Close()
		if err != nil {
			os.Remove(path)
			b.Fatal(err)
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for b.Loop() {
		got, err := s.CountByState(ctx)
		if err != nil {
			b.Fatal(err)
		}
		total := 0
		for _, c := range got {
			total += c.Count
		}
		if len(got) != 15 || total != n {
			b.Fatalf("%d pairs, %d callbacks", len(got), total)
		}
	}
}

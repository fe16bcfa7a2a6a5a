package postgres

import (
	"context"
	"testing"

	"github.com/callbackd/callbackd/internal/pgtest"
)

// BenchmarkCountCallbacks measures the query behind the callbacks gauge of
// /metrics with 1,000,000 callbacks in 5 services (70% COMPLETED, 20%
// SCHEDULED, 10% QUEUED), after the VACUUM ANALYZE autovacuum would have
// run, in a schema of its own that is dropped at the end.
func BenchmarkCountCallbacks(b *testing.B) {
	const n = 1_000_000
	base := pgtest.URL(b)
	ctx := context.Background()
	conn := pgtest.Conn(b, base)
	const schema = "callbackd_bench_counts"
	exec := func(sql string, args ...any) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
	exec(`CREATE SCHEMA ` + schema)
	defer exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	s, err := Open(ctx, pgtest.WithParams(base, "search_path", schema))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	exec(`INSERT INTO `+schema+`.callbacks (id, service, state, desired_time, expiration_time, created_at, updated_at)
		SELECT 'cb-' || lpad(i::text, 7, '0'), 'svc-' || (i % 5),
		       CASE WHEN i / 5 % 10 < 7 THEN 'COMPLETED' WHEN i / 5 % 10 < 9 THEN 'SCHEDULED' ELSE 'QUEUED' END,
		       1772442000000 + i * 1000, 1772528400000 + i * 1000, 1772442000000, 1772442000000
		FROM generate_series(0, $1::int - 1) AS i`, n)
	exec(`VACUUM ANALYZE ` + schema + `.callbacks`)
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

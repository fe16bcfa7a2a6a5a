package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

// CountByState implements callbackd.Store. The (service, state,
// desired_time) index holds both grouping columns, so PostgreSQL can
// answer with an index-only scan when the visibility map is current
// (autovacuum keeps it so); it reads no callback rows otherwise.
func (s *Store) CountByState(ctx context.Context) ([]callbackd.StateCount, error) {
	var out []callbackd.StateCount
	err := s.retry(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT service, state, COUNT(*) FROM callbacks GROUP BY service, state ORDER BY service, state`)
		if err != nil {
			return err
		}
		var c callbackd.StateCount
		var state string
		_, err = pgx.ForEachRow(rows, []any{&c.Service, &state, &c.Count}, func() error {
			c.State = callbackd.State(state)
			out = append(out, c)
			return nil
		})
		return err
	})
	return out, err
}

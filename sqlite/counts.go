package sqlite

import (
	"context"

	"github.com/callbackd/callbackd"
)

// CountByState implements callbackd.Store. The (service, state,
// desired_time) index holds both grouping columns in order, so SQLite
// counts by walking that index alone (a covering scan, no row reads, no
// sort), on a read connection beside the writer. The planner picks that
// index today; INDEXED BY pins it, since the (state, desired_time) index
// would also cover the query but need a temporary B-tree to group by
// service (and the claim query showed how costly a changed plan can be).
func (s *Store) CountByState(ctx context.Context) ([]callbackd.StateCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT service, state, COUNT(*) FROM callbacks INDEXED BY callbacks_service_state_desired GROUP BY service, state ORDER BY service, state`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []callbackd.StateCount
	for rows.Next() {
		var c callbackd.StateCount
		var state string
		if err := rows.Scan(&c.Service, &state, &c.Count); err != nil {
			return nil, translate(err)
		}
		c.State = callbackd.State(state)
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

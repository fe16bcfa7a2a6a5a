package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

var _ callbackd.AgentStore = (*Store)(nil)

const agentColumns = `name, state, since, reason, callback, idle_since, seen_at`

// upsertAgents writes a set of agents from arrays, one element per agent,
// in one statement. The rows of an INSERT ... SELECT are processed, and
// their locks taken, in the order unnest produces them, the arrays'
// order: PutAgents sorts them by name, so that two calls on any nodes
// lock the rows they share in the same order and never deadlock.
const upsertAgents = `INSERT INTO agents (` + agentColumns + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
	ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since, reason = EXCLUDED.reason,
	callback = EXCLUDED.callback, idle_since = EXCLUDED.idle_since, seen_at = EXCLUDED.seen_at`

// GetAgent implements callbackd.AgentStore.
func (s *Store) GetAgent(ctx context.Context, name string) (*callbackd.Agent, error) {
	var a *callbackd.Agent
	err := s.retry(ctx, func() (err error) {
		a, err = scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents WHERE name = $1`, name))
		if errors.Is(err, pgx.ErrNoRows) {
			return callbackd.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ListAgents implements callbackd.AgentStore. The table holds one row per
// configured agent, so it is read whole, without a limit.
func (s *Store) ListAgents(ctx context.Context) ([]*callbackd.Agent, error) {
	var out []*callbackd.Agent
	err := s.retry(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAgent(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutAgents implements callbackd.AgentStore with one statement, which
// PostgreSQL runs as one transaction, durable when it returns
// (synchronous_commit=on). It does not join the group commit, whose
// batches are built for callbacks' records, holds and events; like
// SetCounter and Heartbeat it has its transaction to itself. The statement
// is idempotent, so running it again after a deadlock or an unsent
// attempt (retry) writes the same. A name given twice keeps its last
// state: one statement cannot change a row twice.
func (s *Store) PutAgents(ctx context.Context, agents []*callbackd.Agent) error {
	if len(agents) == 0 {
		return nil
	}
	last := make(map[string]*callbackd.Agent, len(agents))
	for _, a := range agents {
		last[a.Name] = a
	}
	sorted := make([]*callbackd.Agent, 0, len(last))
	for _, a := range last {
		sorted = append(sorted, a)
	}
	slices.SortFunc(sorted, func(a, b *callbackd.Agent) int { return cmp.Compare(a.Name, b.Name) })
	n := len(sorted)
	names, states, reasons, cbs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	since, idle, seen := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, a := range sorted {
		names[i], states[i], reasons[i], cbs[i] = a.Name, string(a.State), a.Reason, a.Callback
		since[i], idle[i], seen[i] = ms(a.Since), ms(a.IdleSince), ms(a.SeenAt)
	}
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, upsertAgents, names, states, since, reasons, cbs, idle, seen)
		return err
	})
}

func scanAgent(row pgx.Row) (*callbackd.Agent, error) {
	var a callbackd.Agent
	var state string
	var since, idle, seen int64
	if err := row.Scan(&a.Name, &state, &since, &a.Reason, &a.Callback, &idle, &seen); err != nil {
		return nil, err
	}
	a.State = callbackd.AgentState(state)
	a.Since, a.IdleSince, a.SeenAt = fromOptionalMS(since), fromOptionalMS(idle), fromOptionalMS(seen)
	return &a, nil
}

// fromOptionalMS reads a stored time that may be unset: 0 is the zero
// time, as ms writes it (fromMS would read 1970).
func fromOptionalMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

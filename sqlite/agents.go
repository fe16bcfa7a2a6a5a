package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/callbackd/callbackd"
)

var _ callbackd.AgentStore = (*Store)(nil)

const agentColumns = `name, state, since, reason, callback, idle_since, seen_at`

// upsertAgent replaces an agent's row whole. It is one of preparedQueries:
// the engine writes agents about as often as callbacks (every state
// change, every sign of life).
const upsertAgent = `INSERT INTO agents (` + agentColumns + `) VALUES (?,?,?,?,?,?,?)
	ON CONFLICT (name) DO UPDATE SET state = excluded.state, since = excluded.since, reason = excluded.reason,
	callback = excluded.callback, idle_since = excluded.idle_since, seen_at = excluded.seen_at`

// GetAgent implements callbackd.AgentStore.
func (s *Store) GetAgent(ctx context.Context, name string) (*callbackd.Agent, error) {
	a, err := scanAgent(s.r.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, callbackd.ErrNotFound
	}
	if err != nil {
		return nil, translate(err)
	}
	return a, nil
}

// ListAgents implements callbackd.AgentStore. The table holds one row per
// configured agent, so it is read whole, without a limit.
func (s *Store) ListAgents(ctx context.Context) ([]*callbackd.Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY name`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*callbackd.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, a)
	}
	return out, translate(rows.Err())
}

// PutAgents implements callbackd.AgentStore. The agents are one write of
// the group commit: their upserts run in the batch's transaction (in a
// savepoint of their own when the batch needs them), so they are written
// all or none, and the call returns once that transaction is durable. The
// single writer orders concurrent calls; within a call, a name given twice
// keeps its last state.
func (s *Store) PutAgents(ctx context.Context, agents []*callbackd.Agent) error {
	if len(agents) == 0 {
		return nil
	}
	values := make([][]any, len(agents))
	for i, a := range agents {
		values[i] = []any{a.Name, string(a.State), ms(a.Since), a.Reason, a.Callback, ms(a.IdleSince), ms(a.SeenAt)}
	}
	return s.tx(ctx, func(ctx context.Context, tx *wtx) error {
		for _, v := range values {
			if _, err := tx.ExecContext(ctx, upsertAgent, v...); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func scanAgent(row scanner) (*callbackd.Agent, error) {
	var a callbackd.Agent
	var state string
	var since, idle, seen int64
	if err := row.Scan(&a.Name, &state, &since, &a.Reason, &a.Callback, &idle, &seen); err != nil {
		return nil, err
	}
	a.State = callbackd.AgentState(state)
	a.Since, a.IdleSince, a.SeenAt = fromMS(since), fromMS(idle), fromMS(seen)
	return &a, nil
}

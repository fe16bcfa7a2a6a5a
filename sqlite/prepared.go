package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// The statements every write runs, prepared once on the writer connection
// when the store opens. SQLite's parser and planner cost more than most of
// these statements' execution (a third of a Start-Callback's CPU before
// they were prepared).
const (
	insertKey   = `INSERT OR IGNORE INTO callback_keys (key, value, callback_id) VALUES (?,?,?)`
	insertEvent = `INSERT INTO events (time, callback_id, service, type, from_state, to_state, reason, source, properties, subject) VALUES (?,?,?,?,?,?,?,?,?,?)`
	// Every column but the id, in callbackColumns order.
	updateCallback = `UPDATE callbacks SET service=?, state=?, reason=?, customer_number=?, desired_time=?, expiration_time=?,
		session_id=?, submit_attempts=?, created_at=?, updated_at=?, properties=?, holds=?, due_at=?, lease_owner=?, lease_until=? WHERE id=?`
	selectCallback = `SELECT ` + callbackColumns + ` FROM callbacks WHERE id = ?`
	releaseHold    = `UPDATE counters SET value = value - 1 WHERE key = ? AND value > 0`
	takeHoldSQL    = `INSERT INTO counters (key, value) VALUES (?, 1)
		ON CONFLICT (key) DO UPDATE SET value = value + 1 WHERE value < ?`
	pruneRate  = `DELETE FROM rate_uses WHERE key = ? AND at <= ?`
	takeRate   = `INSERT INTO rate_uses (key, at) SELECT ?1, ?2 WHERE (SELECT COUNT(*) FROM rate_uses WHERE key = ?1 AND at > ?4) < ?3`
	savepoint  = `SAVEPOINT w`
	release    = `RELEASE w`
	rollbackTo = `ROLLBACK TO w`
)

var preparedQueries = []string{insertCallback, insertKey, insertEvent, updateCallback, selectCallback,
	releaseHold, takeHoldSQL, pruneRate, takeRate, savepoint, release, rollbackTo, upsertAgent}

// prepare prepares preparedQueries on the writer; the store runs it once
// migrated, before any write.
func (s *Store) prepare(ctx context.Context) error {
	s.prepared = make(map[string]*sql.Stmt, len(preparedQueries))
	for _, q := range preparedQueries {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		s.prepared[q] = st
	}
	return nil
}

// wtx is the writer's transaction, which a batch of writes shares. Its
// ExecContext, QueryContext and QueryRowContext run a prepared statement
// when the query is one of preparedQueries, so callers write SQL as usual.
type wtx struct {
	*sql.Tx
	prepared map[string]*sql.Stmt
	bound    map[string]*sql.Stmt // prepared statements bound to Tx
}

func (t *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.bound[query]; ok {
		return st
	}
	st, ok := t.prepared[query]
	if !ok {
		return nil
	}
	st = t.Tx.StmtContext(ctx, st)
	t.bound[query] = st
	return st
}

func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
)

// ClaimDue implements callbackd.Store. On the single writer, the select and
// the updates of one transaction cannot interleave with another claim.
func (s *Store) ClaimDue(ctx context.Context, q callbackd.ClaimQuery, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) ([]*callbackd.Callback, error) {
	if !q.Expired && q.ID == "" {
		// The dispatch loop asks often; most of the time nothing is due, and
		// a read on the index costs far less than taking the write lock.
		// INDEXED BY: SQLite's planner otherwise prefers the state index and
		// scans every SCHEDULED callback (measured: seconds with a million).
		var one int
		err := s.r.QueryRowContext(ctx, `SELECT 1 FROM callbacks INDEXED BY callbacks_due WHERE due_at > 0 AND due_at <= ? AND lease_until <= ? AND state IN ('SCHEDULED', 'QUEUED') LIMIT 1`,
			ms(q.Now), ms(q.Now)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, translate(err)
		}
	}
	var out []*callbackd.Callback
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx, d deltas) error {
		out = nil
		query := `SELECT id FROM callbacks INDEXED BY callbacks_due WHERE due_at > 0 AND due_at <= ? AND lease_until <= ? AND state IN ('SCHEDULED', 'QUEUED')`
		order := ` ORDER BY due_at, id LIMIT ?`
		if q.Expired {
			query = `SELECT id FROM callbacks WHERE expiration_time <= ? AND lease_until <= ? AND state <> 'COMPLETED' AND session_id = ''`
			order = ` ORDER BY expiration_time, id LIMIT ?`
		}
		args := []any{ms(q.Now), ms(q.Now)}
		if q.ID != "" {
			query += ` AND id = ?`
			args = append(args, q.ID)
		}
		query += order
		args = append(args, max(q.Limit, 1))
		ids, err := queryIDs(ctx, tx, query, args...)
		if err != nil {
			return err
		}
		for _, id := range ids {
			cb, err := updateInTx(ctx, tx, d, id, fn)
			if err != nil {
				return err
			}
			out = append(out, cb)
		}
		return nil
	})
	return out, err
}

// queryIDs runs a query of one id column inside tx.
func queryIDs(ctx context.Context, tx *wtx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		ids = append(ids, id)
	}
	return ids, translate(rows.Err())
}

// PurgeCompleted implements callbackd.Store. Lookup keys go with the
// callback (ON DELETE CASCADE); events are deleted explicitly.
func (s *Store) PurgeCompleted(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.tx(ctx, func(ctx context.Context, tx *wtx) error {
		ids, err := queryIDs(ctx, tx, `SELECT id FROM callbacks WHERE state = 'COMPLETED' AND updated_at < ? ORDER BY updated_at LIMIT ?`, ms(before), max(limit, 1))
		if err != nil || len(ids) == 0 {
			return err
		}
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		for _, stmt := range []string{`DELETE FROM events WHERE callback_id IN (` + in + `)`, `DELETE FROM callbacks WHERE id IN (` + in + `)`} {
			if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
				return translate(err)
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

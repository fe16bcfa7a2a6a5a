package sqlite

import (
	"context"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/storecodec"
)

// SetCounter implements callbackd.Store.
func (s *Store) SetCounter(ctx context.Context, key string, value int) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *wtx, d deltas) error {
		var old int
		_ = tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE key = ?`, key).Scan(&old)
		var err error
		if value == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM counters WHERE key = ?`, key)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO counters (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		}
		d.add(key, value-old)
		return translate(err)
	})
}

// AppendEvents implements callbackd.Store.
func (s *Store) AppendEvents(ctx context.Context, events []callbackd.Event) error {
	return s.tx(ctx, func(ctx context.Context, tx *wtx) error {
		return writeSideTables(ctx, tx, &callbackd.Callback{}, events)
	})
}

// ListEvents implements callbackd.Store.
func (s *Store) ListEvents(ctx context.Context, q callbackd.EventQuery) ([]callbackd.Event, error) {
	query := `SELECT seq, time, callback_id, service, type, from_state, to_state, reason, source, properties FROM events WHERE seq > ?`
	args := []any{q.AfterSeq}
	if q.CallbackID != "" {
		query += " AND callback_id = ?"
		args = append(args, q.CallbackID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = callbackd.DefaultQueryLimit
	}
	query += " ORDER BY seq LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []callbackd.Event
	for rows.Next() {
		var ev callbackd.Event
		var t int64
		var typ, from, to, reason, props string
		if err := rows.Scan(&ev.Seq, &t, &ev.CallbackID, &ev.Service, &typ, &from, &to, &reason, &ev.Source, &props); err != nil {
			return nil, translate(err)
		}
		ev.Time = time.UnixMilli(t).UTC()
		ev.Type, ev.From, ev.To, ev.Reason = callbackd.EventType(typ), callbackd.State(from), callbackd.State(to), callbackd.Reason(reason)
		if ev.Properties, err = storecodec.DecodeProps(props); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, translate(rows.Err())
}

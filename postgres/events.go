package postgres

import (
	"context"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/storecodec"
)

// queueSideTables adds to b the lookup values and the events of a write,
// so they commit or roll back with the record.
//
// Lookup values are inserted in key order with ON CONFLICT DO NOTHING: a
// value the key already had stays once ("is or was" needs every value, not
// every write). Only the transaction holding the callback's row writes its
// keys, so these inserts never wait on another writer.
func queueSideTables(b *pgx.Batch, cb *callbackd.Callback, events []callbackd.Event) error {
	keys := make([]string, 0, len(cb.Lookup))
	for k := range cb.Lookup {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := cb.Lookup[k]
		if v == "" {
			continue
		}
		b.Queue(`INSERT INTO callback_keys (key, value, callback_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, k, v, cb.ID)
	}
	for _, ev := range events {
		props, err := storecodec.EncodeProps(ev.Properties)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO events (time, callback_id, service, type, from_state, to_state, reason, source, properties, subject) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			ms(ev.Time), ev.CallbackID, ev.Service, string(ev.Type), string(ev.From), string(ev.To), string(ev.Reason), ev.Source, props, ev.Subject)
	}
	return nil
}

// SetCounter implements callbackd.Store.
func (s *Store) SetCounter(ctx context.Context, key string, value int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if value == 0 {
			_, err = tx.Exec(ctx, `DELETE FROM counters WHERE key = $1`, key)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO counters (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, key, value)
		}
		return err
	})
}

// AppendEvents implements callbackd.Store.
func (s *Store) AppendEvents(ctx context.Context, events []callbackd.Event) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		if err := queueSideTables(b, &callbackd.Callback{}, events); err != nil {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// ListEvents implements callbackd.Store.
//
// Seq numbers are allocated when an event is inserted, and transactions
// on several connections commit in any order: an event with a smaller seq
// can become visible after one with a larger seq. A reader that tails the
// log with AfterSeq = the last seq it saw can therefore miss an event; see
// the package documentation.
func (s *Store) ListEvents(ctx context.Context, q callbackd.EventQuery) ([]callbackd.Event, error) {
	query := `SELECT seq, time, callback_id, service, type, from_state, to_state, reason, source, properties FROM events WHERE seq > $1`
	args := []any{q.AfterSeq}
	if q.CallbackID != "" {
		args = append(args, q.CallbackID)
		query += " AND callback_id = $" + strconv.Itoa(len(args))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = callbackd.DefaultQueryLimit
	}
	args = append(args, limit)
	query += " ORDER BY seq LIMIT $" + strconv.Itoa(len(args))

	var out []callbackd.Event
	err := s.retry(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev callbackd.Event
			var t int64
			var typ, from, to, reason, props string
			if err := rows.Scan(&ev.Seq, &t, &ev.CallbackID, &ev.Service, &typ, &from, &to, &reason, &ev.Source, &props); err != nil {
				return err
			}
			ev.Time = fromMS(t)
			ev.Type, ev.From, ev.To, ev.Reason = callbackd.EventType(typ), callbackd.State(from), callbackd.State(to), callbackd.Reason(reason)
			if ev.Properties, err = storecodec.DecodeProps(props); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

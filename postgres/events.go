package postgres

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/storecodec"
)

// keySteps insert the lookup values of a write, so they commit or roll
// back with the record.
//
// Lookup values are inserted in key order with ON CONFLICT DO NOTHING: a
// value the key already had stays once ("is or was" needs every value, not
// every write). Only the transaction holding the callback's row writes its
// keys, so these inserts never wait on another writer.
func keySteps(cb *callbackd.Callback) []step {
	keys := lookupKeys(cb)
	steps := make([]step, 0, len(keys))
	for _, k := range keys {
		steps = append(steps, step{sql: insertKey, args: []any{k, cb.Lookup[k], cb.ID}})
	}
	return steps
}

const insertKey = `INSERT INTO callback_keys (key, value, callback_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`

// insertEvents numbers events in commit order and inserts them: the
// statement adds their count to the one row of event_cursor and takes
// their numbers from there. It is the last statement before COMMIT, so
// the row lock it takes is held only for the COMMIT, and a transaction
// gets its numbers only after every transaction that got smaller ones has
// committed (or rolled back) and become visible: PostgreSQL makes a
// transaction visible before it releases its locks. A reader that has
// seen seq n therefore sees every committed event numbered below n, and
// ListEvents(AfterSeq) never skips one. All events of a group commit share
// one statement, so the cost is one row lock per batch, not per event.
func insertEvents(events []callbackd.Event) (string, []any, error) {
	n := len(events)
	times := make([]int64, n)
	ids, services, types, from, to, reasons, sources, props, subjects := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, ev := range events {
		p, err := storecodec.EncodeProps(ev.Properties)
		if err != nil {
			return "", nil, err
		}
		times[i], ids[i], services[i], types[i] = ms(ev.Time), ev.CallbackID, ev.Service, string(ev.Type)
		from[i], to[i], reasons[i], sources[i], props[i], subjects[i] = string(ev.From), string(ev.To), string(ev.Reason), ev.Source, p, ev.Subject
	}
	return insertEventsSQL, []any{int64(n), times, ids, services, types, from, to, reasons, sources, props, subjects}, nil
}

const insertEventsSQL = `WITH c AS (UPDATE event_cursor SET last = last + $1 RETURNING last)
INSERT INTO events (seq, time, callback_id, service, type, from_state, to_state, reason, source, properties, subject)
SELECT c.last - $1 + e.n, e.time, e.callback_id, e.service, e.type, e.from_state, e.to_state, e.reason, e.source, e.properties, e.subject
FROM c, unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
	WITH ORDINALITY AS e(time, callback_id, service, type, from_state, to_state, reason, source, properties, subject, n)`

// checkEvents refuses, before they join a batch, events PostgreSQL could
// not store (a NUL byte or invalid UTF-8 in a text field), with the
// BAD_PARAMETER the statement's error would have become: events of a
// batch are inserted together, and one bad value must not fail the
// neighbours. Properties are JSON, where encoding/json escapes both.
func checkEvents(events []callbackd.Event) error {
	for _, ev := range events {
		for _, v := range [...]string{ev.CallbackID, ev.Service, string(ev.Type), string(ev.From), string(ev.To), string(ev.Reason), ev.Source, ev.Subject} {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return callbackd.BadParameter(nil, "A value contains a character that cannot be stored (NUL or invalid UTF-8)")
			}
		}
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

// AppendEvents implements callbackd.Store; the events join the next group
// commit.
func (s *Store) AppendEvents(ctx context.Context, events []callbackd.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.write(ctx, &op{kind: opAppend, events: events})
}

// ListEvents implements callbackd.Store. Seq numbers follow commit order
// (see insertEvents), so a reader that tails the log with AfterSeq = the
// last seq it saw misses nothing.
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

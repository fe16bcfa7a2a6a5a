package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/groupcommit"
	"github.com/callbackd/callbackd/internal/storecodec"
)

const callbackColumns = `id, service, state, reason, customer_number, desired_time, expiration_time, session_id, submit_attempts, created_at, updated_at, properties, holds, due_at, lease_owner, lease_until`

// querier is what both the pool and a transaction offer, so that one read
// serves GetCallback and UpdateCallback.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CreateCallback implements callbackd.Store. The write joins the next
// group commit (see commit.go): the record, its holds and its lookup keys
// go to the server in one round trip inside the batch's transaction, and
// its events are numbered at the batch's COMMIT.
func (s *Store) CreateCallback(ctx context.Context, cb *callbackd.Callback, events []callbackd.Event) error {
	return s.write(ctx, &op{kind: opCreate, cb: cb, events: events})
}

// GetCallback implements callbackd.Store.
func (s *Store) GetCallback(ctx context.Context, id string) (*callbackd.Callback, error) {
	var cb *callbackd.Callback
	err := s.retry(ctx, func() (err error) {
		cb, err = getCallback(ctx, s.pool, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return cb, nil
}

// getCallback reads one record.
func getCallback(ctx context.Context, q querier, id string) (*callbackd.Callback, error) {
	cb, err := scanCallback(q.QueryRow(ctx, `SELECT `+callbackColumns+` FROM callbacks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, callbackd.ErrNotFound
	}
	return cb, err
}

// UpdateCallback implements callbackd.Store. The write joins the next
// group commit, whose transaction reads the record with SELECT ... FOR
// UPDATE: updates of one callback from any node queue on its row lock and
// fn always sees the latest committed record. When the batch is run again
// (the server asked for a retry), fn runs again on a freshly read record;
// it is not told about the discarded attempt.
func (s *Store) UpdateCallback(ctx context.Context, id string, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) (*callbackd.Callback, error) {
	o := &op{kind: opUpdate, id: id, fn: fn}
	if err := s.write(ctx, o); err != nil {
		return nil, err
	}
	return o.cb, nil
}

// insertSteps is the INSERT of a new record. It comes first in its write,
// so that a duplicate id is what the write fails for.
func insertSteps(cb *callbackd.Callback) ([]step, error) {
	props, holds, err := encodeRecord(cb)
	if err != nil {
		return nil, err
	}
	return []step{{sql: insertCallback, check: checkInsert, args: []any{cb.ID, cb.Service, string(cb.State), string(cb.Reason), cb.CustomerNumber,
		ms(cb.DesiredTime), ms(cb.ExpirationTime), cb.SessionID, cb.SubmitAttempts,
		ms(cb.CreatedAt), ms(cb.UpdatedAt), props, holds, ms(cb.DueAt), cb.LeaseOwner, ms(cb.LeaseUntil)}}}, nil
}

const insertCallback = `INSERT INTO callbacks (` + callbackColumns + `) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
	ON CONFLICT (id) DO NOTHING RETURNING 1`

// updateSteps writes a changed record whose row the transaction has locked.
func updateSteps(cb *callbackd.Callback) ([]step, error) {
	props, holds, err := encodeRecord(cb)
	if err != nil {
		return nil, err
	}
	return []step{{sql: updateCallback, args: []any{string(cb.State), string(cb.Reason), cb.CustomerNumber, ms(cb.DesiredTime), ms(cb.ExpirationTime),
		cb.SessionID, cb.SubmitAttempts, ms(cb.UpdatedAt), props, holds, ms(cb.DueAt), cb.LeaseOwner, ms(cb.LeaseUntil), cb.ID}}}, nil
}

const updateCallback = `UPDATE callbacks SET state=$1, reason=$2, customer_number=$3, desired_time=$4, expiration_time=$5, session_id=$6, submit_attempts=$7, updated_at=$8, properties=$9, holds=$10, due_at=$11, lease_owner=$12, lease_until=$13 WHERE id=$14`

// ClaimDue implements callbackd.Store, in its own transaction (not a group
// commit: it is a batch already). FOR UPDATE SKIP LOCKED lets several
// nodes claim at once: each locks the due rows it selects, and a row
// another node holds is skipped rather than waited for, so no callback is
// claimed twice and no node stalls behind another. Then, as in a group
// commit, fn runs on every record, the counter rows of all of them are
// locked in key order, the writes go in one round trip, and the events
// are numbered just before COMMIT.
func (s *Store) ClaimDue(ctx context.Context, q callbackd.ClaimQuery, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) ([]*callbackd.Callback, error) {
	query, args := claimQuery(q)
	var out []*callbackd.Callback
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		if !q.Expired && q.ID == "" {
			if _, err := tx.Exec(ctx, inClaimOrder); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*callbackd.Callback, error) { return scanCallback(row) })
		if err != nil || len(claimed) == 0 {
			return err
		}
		p := &pipeline{}
		var writes []*op
		var keys []string
		var events []callbackd.Event
		for _, cb := range claimed {
			before := slices.Clone(cb.Holds)
			evs, err := fn(cb)
			if err != nil {
				return &callerError{err}
			}
			if err := checkEvents(evs); err != nil {
				return &callerError{err}
			}
			// The records are written set-based, all at once (batch_rows.go).
			st := holdSteps(before, cb.Holds)
			writes = append(writes, &op{kind: opUpdate, cb: cb, steps: append(st, keySteps(cb)...)})
			keys = append(keys, holdKeys(before, cb.Holds)...)
			events = append(events, evs...)
		}
		if len(keys) > 0 {
			slices.Sort(keys)
			p.control(lockCounters, slices.Compact(keys))
		}
		args, err := recordArrays(claimed)
		if err != nil {
			return err
		}
		p.rowsExactly(int64(len(claimed)), updateAllSQL, args...)
		for _, o := range writes {
			p.write(&groupcommit.Request[*op]{Op: o})
		}
		if len(events) > 0 {
			sql, args, err := insertEvents(events)
			if err != nil {
				return err
			}
			p.control(sql, args...)
		}
		failed, werr, err := p.send(ctx, tx.Conn())
		switch {
		case err != nil:
			return err
		case failed >= 0:
			return &callerError{werr}
		case p.short: // the rows are locked: cannot happen
			return fmt.Errorf("postgres: a claim of %d records did not write them all", len(claimed))
		}
		out = claimed
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claimQuery is the SELECT that locks the records of a claim: due ones,
// oldest first, or, for the sweep, expired ones.
func claimQuery(q callbackd.ClaimQuery) (string, []any) {
	query := `SELECT ` + callbackColumns + ` FROM callbacks WHERE due_at > 0 AND due_at <= $1 AND lease_until <= $1 AND state IN ('SCHEDULED', 'QUEUED')`
	order := ` ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`
	if q.Expired {
		query = `SELECT ` + callbackColumns + ` FROM callbacks WHERE expiration_time <= $1 AND lease_until <= $1 AND state <> 'COMPLETED' AND session_id = ''`
		order = ` ORDER BY expiration_time, id LIMIT $2 FOR UPDATE SKIP LOCKED`
	}
	args := []any{ms(q.Now), max(q.Limit, 1)}
	if q.ID != "" {
		query += ` AND id = $3`
		args = append(args, q.ID)
	}
	return query + order, args
}

// inClaimOrder makes the claim of due callbacks read the index on
// (due_at, id) in order and stop after the batch, whatever the statistics
// say. After a burst of bookings, before autovacuum analyzes the table,
// the planner believes few rows are due, and chose to fetch every due row
// and sort them all (on disk past work_mem) for each batch: with 20,000
// due at once, 20 ms of server CPU per claim of 500, half of what the
// server spent per dispatched callback. With sorting off, the only plan
// left without a sort is the ordered index scan. Not for the claim of one
// id (SubmitNow), which the primary key finds.
const inClaimOrder = `SET LOCAL enable_sort = off`

// PurgeCompleted implements callbackd.Store.
func (s *Store) PurgeCompleted(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var ids []string
		rows, err := tx.Query(ctx, `SELECT id FROM callbacks WHERE state = 'COMPLETED' AND updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`, ms(before), max(limit, 1))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		for _, stmt := range []string{`DELETE FROM events WHERE callback_id = ANY($1)`, `DELETE FROM callback_keys WHERE callback_id = ANY($1)`, `DELETE FROM callbacks WHERE id = ANY($1)`} {
			if _, err := tx.Exec(ctx, stmt, ids); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// FindCallbacks implements callbackd.Store, with the sqlite store's query.
func (s *Store) FindCallbacks(ctx context.Context, q callbackd.Query) ([]*callbackd.Callback, error) {
	where, args := whereOf(q)
	limit := q.Limit
	if limit <= 0 {
		limit = callbackd.DefaultQueryLimit
	}
	query := `SELECT ` + callbackColumns + ` FROM callbacks` + where + ` ORDER BY desired_time, id LIMIT $` + strconv.Itoa(len(args)+1)
	args = append(args, limit)

	var out []*callbackd.Callback
	err := s.retry(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			cb, err := scanCallback(rows)
			if err != nil {
				return err
			}
			out = append(out, cb)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanCallback(row pgx.Row) (*callbackd.Callback, error) {
	var cb callbackd.Callback
	var state, reason, props, holds string
	var desired, expiration, created, updated, due, leaseUntil int64
	err := row.Scan(&cb.ID, &cb.Service, &state, &reason, &cb.CustomerNumber, &desired, &expiration,
		&cb.SessionID, &cb.SubmitAttempts, &created, &updated, &props, &holds, &due, &cb.LeaseOwner, &leaseUntil)
	if err != nil {
		return nil, err
	}
	cb.State, cb.Reason = callbackd.State(state), callbackd.Reason(reason)
	cb.DesiredTime, cb.ExpirationTime = fromMS(desired), fromMS(expiration)
	cb.CreatedAt, cb.UpdatedAt = fromMS(created), fromMS(updated)
	if due != 0 {
		cb.DueAt = fromMS(due)
	}
	if leaseUntil != 0 {
		cb.LeaseUntil = fromMS(leaseUntil)
	}
	if cb.Properties, err = storecodec.DecodeProps(props); err != nil {
		return nil, err
	}
	if cb.Holds, err = storecodec.DecodeHolds(holds); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", cb.ID, err)
	}
	return &cb, nil
}

// encodeRecord encodes the JSON columns of a callback.
func encodeRecord(cb *callbackd.Callback) (props, holds string, err error) {
	if props, err = storecodec.EncodeProps(cb.Properties); err != nil {
		return "", "", err
	}
	holds, err = storecodec.EncodeHolds(cb.Holds)
	return props, holds, err
}

// ms is the stored form of a time: UTC unix milliseconds, the API's
// precision, with the zero time as 0, like the sqlite store.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// CountCallbacks implements callbackd.Store.
func (s *Store) CountCallbacks(ctx context.Context, q callbackd.Query) (int, error) {
	where, args := whereOf(q)
	var n int
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM callbacks`+where, args...).Scan(&n)
	})
	return n, err
}

// whereOf is the WHERE clause (with its leading space, or "") of a query:
// the values of one lookup key are OR-ed, the keys are AND-ed (INTERSECT),
// or OR-ed (UNION) when q.Any; the key "_id" matches the id itself.
func whereOf(q callbackd.Query) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(q.Lookups) > 0 {
		var subs []string
		for _, g := range q.LookupGroups() {
			if g.Key == callbackd.KeyID {
				subs = append(subs, `SELECT id FROM callbacks WHERE id = ANY(`+arg(g.Values)+`)`)
			} else {
				subs = append(subs, `SELECT callback_id FROM callback_keys WHERE key = `+arg(g.Key)+` AND value = ANY(`+arg(g.Values)+`)`)
			}
		}
		op := " INTERSECT "
		if q.Any {
			op = " UNION "
		}
		where = append(where, "id IN ("+strings.Join(subs, op)+")")
	}
	if q.Service != "" {
		where = append(where, "service = "+arg(q.Service))
	}
	if len(q.States) > 0 {
		states := make([]string, len(q.States))
		for i, st := range q.States {
			states[i] = string(st)
		}
		if q.NotStates {
			where = append(where, "state <> ALL("+arg(states)+")")
		} else {
			where = append(where, "state = ANY("+arg(states)+")")
		}
	}
	if len(q.Reasons) > 0 {
		reasons := make([]string, len(q.Reasons))
		for i, r := range q.Reasons {
			reasons[i] = string(r)
		}
		where = append(where, "reason = ANY("+arg(reasons)+")")
	}
	if !q.DesiredFrom.IsZero() {
		where = append(where, "desired_time >= "+arg(ms(q.DesiredFrom)))
	}
	if !q.DesiredTo.IsZero() {
		where = append(where, "desired_time <= "+arg(ms(q.DesiredTo)))
	}
	if c := q.After; c != nil {
		where = append(where, "(desired_time, id) > ("+arg(ms(c.Desired))+", "+arg(c.ID)+")")
	}
	if c := q.Before; c != nil {
		where = append(where, "(desired_time, id) < ("+arg(ms(c.Desired))+", "+arg(c.ID)+")")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/groupcommit"
)

// Set-based writes: one INSERT of every new record, one UPDATE of every
// changed one and one INSERT of every lookup key, each from arrays
// (unnest), instead of a statement per write. A claim writes its records
// so, and so does a group-commit batch that runs without savepoints (see
// runBatch), whose writes' checks (the counter takes, which may fail) stay
// one statement each. Nothing is lost by it: if any write of such a batch
// fails, the batch runs again with a savepoint per write and a statement
// per record, which says which write failed and why.

// isRecordStep tells the statements that the set-based writes replace.
func isRecordStep(st step) bool {
	return st.sql == insertCallback || st.sql == updateCallback || st.sql == insertKey
}

// writeChecks queues a write's statements but its record and lookup keys.
func (p *pipeline) writeChecks(r *groupcommit.Request[*op]) {
	p.writeFiltered(r, func(st step) bool { return !isRecordStep(st) })
}

// queueRecords queues the set-based writes of the records and lookup keys
// of writes. A statement that changes fewer rows than it should (an id
// that exists already) marks the pipeline short, for the caller to run the
// batch again with savepoints.
func (p *pipeline) queueRecords(writes []*groupcommit.Request[*op]) error {
	var created, updated []*callbackd.Callback
	for _, r := range writes {
		switch r.Op.kind {
		case opCreate:
			created = append(created, r.Op.cb)
		case opUpdate:
			updated = append(updated, r.Op.cb)
		}
	}
	for _, set := range []struct {
		cbs []*callbackd.Callback
		sql string
	}{{created, insertAllSQL}, {updated, updateAllSQL}} {
		if len(set.cbs) == 0 {
			continue
		}
		args, err := recordArrays(set.cbs)
		if err != nil {
			return err
		}
		p.rowsExactly(int64(len(set.cbs)), set.sql, args...)
	}
	var keys, values, ids []string
	for _, cb := range append(created, updated...) {
		for _, k := range lookupKeys(cb) {
			keys, values, ids = append(keys, k), append(values, cb.Lookup[k]), append(ids, cb.ID)
		}
	}
	if len(keys) > 0 {
		p.control(insertKeysSQL, keys, values, ids)
	}
	return nil
}

// lookupKeys are the keys of a record's lookup values to store (those
// with a value), in key order.
func lookupKeys(cb *callbackd.Callback) []string {
	keys := make([]string, 0, len(cb.Lookup))
	for k, v := range cb.Lookup {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

const insertKeysSQL = `INSERT INTO callback_keys (key, value, callback_id)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`

// recordArrays are the records' values as one array per column of
// callbackColumns, in that order (the arguments of recordsSQL).
func recordArrays(cbs []*callbackd.Callback) ([]any, error) {
	n := len(cbs)
	ids, services, states, reasons, numbers, sessions, owners, props, holds := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	desired, expiration, created, updated, due, until := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	attempts := make([]int32, n)
	for i, cb := range cbs {
		p, h, err := encodeRecord(cb)
		if err != nil {
			return nil, err
		}
		ids[i], services[i], states[i], reasons[i], numbers[i], sessions[i], owners[i], props[i], holds[i] = cb.ID, cb.Service, string(cb.State),
			string(cb.Reason), cb.CustomerNumber, cb.SessionID, cb.LeaseOwner, p, h
		desired[i], expiration[i], created[i], updated[i], due[i], until[i] = ms(cb.DesiredTime), ms(cb.ExpirationTime), ms(cb.CreatedAt),
			ms(cb.UpdatedAt), ms(cb.DueAt), ms(cb.LeaseUntil)
		attempts[i] = int32(cb.SubmitAttempts)
	}
	return []any{ids, services, states, reasons, numbers, desired, expiration, sessions, attempts, created, updated, props, holds, due, owners, until}, nil
}

// recordsSQL is the rows of recordArrays, named as the columns.
const recordsSQL = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::int[],
	$10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::bigint[]) AS u(` + callbackColumns + `)`

// insertAllSQL inserts new records; an id that exists is skipped, and the
// caller compares the rows inserted with the records.
const insertAllSQL = `INSERT INTO callbacks (` + callbackColumns + `) SELECT * FROM ` + recordsSQL + ` ON CONFLICT (id) DO NOTHING`

// updateAllSQL writes records whose rows the transaction has locked (a
// record's id, service and creation never change).
const updateAllSQL = `UPDATE callbacks c SET state = u.state, reason = u.reason, customer_number = u.customer_number,
	desired_time = u.desired_time, expiration_time = u.expiration_time, session_id = u.session_id, submit_attempts = u.submit_attempts,
	updated_at = u.updated_at, properties = u.properties, holds = u.holds, due_at = u.due_at, lease_owner = u.lease_owner, lease_until = u.lease_until
FROM ` + recordsSQL + ` WHERE c.id = u.id`

// rowsExactly queues a set-based write that must change rows rows; fewer
// marks the pipeline short.
func (p *pipeline) rowsExactly(rows int64, sql string, args ...any) {
	p.queued++
	p.b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() != rows {
			p.short = true
		}
		p.ok++
		return nil
	})
}

// writeFailed reports whether an error of a round trip without savepoints
// is one that running the batch again with savepoints would pin on one
// write (a value the server refuses), rather than one that fails the
// batch (a broken connection, a retry the server asks for).
func writeFailed(ctx context.Context, err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && !retryable(ctx, err)
}

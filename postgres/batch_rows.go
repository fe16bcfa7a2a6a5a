package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/groupcommit"
)

// A batch that runs without savepoints (see runBatch) writes its records
// and lookup keys set-based: one INSERT of every new record, one UPDATE of
// every changed one and one INSERT of every lookup key, each from arrays
// (unnest), instead of a statement per write. Only the writes' checks (the
// counter takes, which may fail) stay one statement each. Nothing is lost
// by it: if any write of such a batch fails, the batch runs again with a
// savepoint per write and a statement per record, which says which write
// failed and why.

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
	var keys, values, ids []string
	for _, r := range writes {
		o := r.Op
		switch o.kind {
		case opCreate:
			created = append(created, o.cb)
		case opUpdate:
			updated = append(updated, o.cb)
		default:
			continue
		}
		for _, st := range o.steps {
			if st.sql == insertKey {
				keys = append(keys, st.args[0].(string))
				values = append(values, st.args[1].(string))
				ids = append(ids, st.args[2].(string))
			}
		}
	}
	if len(created) > 0 {
		sql, args, err := insertAll(created)
		if err != nil {
			return err
		}
		p.setRows(int64(len(created)), sql, args...)
	}
	if len(updated) > 0 {
		sql, args, err := updateAll(updated)
		if err != nil {
			return err
		}
		p.setRows(int64(len(updated)), sql, args...)
	}
	if len(keys) > 0 {
		p.control(insertKeysSQL, keys, values, ids)
	}
	return nil
}

const insertKeysSQL = `INSERT INTO callback_keys (key, value, callback_id)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`

// insertAll is one INSERT of new records; an id that exists is skipped,
// and the caller compares the rows inserted with the records.
func insertAll(cbs []*callbackd.Callback) (string, []any, error) {
	n := len(cbs)
	ids, services, states, reasons, numbers, sessions, owners, props, holds := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	desired, expiration, created, updated, due, until := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	attempts := make([]int32, n)
	for i, cb := range cbs {
		p, h, err := encodeRecord(cb)
		if err != nil {
			return "", nil, err
		}
		ids[i], services[i], states[i], reasons[i], numbers[i], sessions[i], owners[i], props[i], holds[i] = cb.ID, cb.Service, string(cb.State),
			string(cb.Reason), cb.CustomerNumber, cb.SessionID, cb.LeaseOwner, p, h
		desired[i], expiration[i], created[i], updated[i], due[i], until[i] = ms(cb.DesiredTime), ms(cb.ExpirationTime), ms(cb.CreatedAt),
			ms(cb.UpdatedAt), ms(cb.DueAt), ms(cb.LeaseUntil)
		attempts[i] = int32(cb.SubmitAttempts)
	}
	return insertAllSQL, []any{ids, services, states, reasons, numbers, desired, expiration, sessions, attempts, created, updated, props, holds, due, owners, until}, nil
}

const insertAllSQL = `INSERT INTO callbacks (` + callbackColumns + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::int[],
		$10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::bigint[])
	ON CONFLICT (id) DO NOTHING`

// setRows queues a set-based write that must change rows rows; fewer marks
// the pipeline short.
func (p *pipeline) setRows(rows int64, sql string, args ...any) {
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

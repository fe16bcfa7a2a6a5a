package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callbackd/callbackd"
)

// updateAll is one UPDATE that writes every record of a claim, whose rows
// the claim's SELECT ... FOR UPDATE has locked: one statement per batch
// instead of one per record, which spared the server a statement's fixed
// cost (bind, executor start, end) for each callback dispatched.
func updateAll(cbs []*callbackd.Callback) (string, []any, error) {
	n := len(cbs)
	ids, states, reasons, numbers, sessions, owners, props, holds := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	desired, expiration, updated, due, until := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	attempts := make([]int32, n)
	for i, cb := range cbs {
		p, h, err := encodeRecord(cb)
		if err != nil {
			return "", nil, err
		}
		ids[i], states[i], reasons[i], numbers[i], sessions[i], owners[i], props[i], holds[i] = cb.ID, string(cb.State), string(cb.Reason),
			cb.CustomerNumber, cb.SessionID, cb.LeaseOwner, p, h
		desired[i], expiration[i], updated[i], due[i], until[i] = ms(cb.DesiredTime), ms(cb.ExpirationTime), ms(cb.UpdatedAt), ms(cb.DueAt), ms(cb.LeaseUntil)
		attempts[i] = int32(cb.SubmitAttempts)
	}
	return updateAllSQL, []any{ids, states, reasons, numbers, desired, expiration, sessions, attempts, updated, props, holds, due, owners, until}, nil
}

const updateAllSQL = `UPDATE callbacks c SET state = u.state, reason = u.reason, customer_number = u.customer_number,
	desired_time = u.desired_time, expiration_time = u.expiration_time, session_id = u.session_id, submit_attempts = u.submit_attempts,
	updated_at = u.updated_at, properties = u.properties, holds = u.holds, due_at = u.due_at, lease_owner = u.lease_owner, lease_until = u.lease_until
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::int[], $9::bigint[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::bigint[])
	AS u(id, state, reason, customer_number, desired_time, expiration_time, session_id, submit_attempts, updated_at, properties, holds, due_at, lease_owner, lease_until)
WHERE c.id = u.id`

// controlRows is a control statement that must change exactly rows rows:
// fewer would mean a record the batch meant to write was not written.
func (p *pipeline) controlRows(rows int64, sql string, args ...any) {
	p.queued++
	p.b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() != rows {
			return fmt.Errorf("postgres: %d of %d records written", ct.RowsAffected(), rows)
		}
		p.ok++
		return nil
	})
}

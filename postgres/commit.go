package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/groupcommit"
)

// Group commit: CreateCallback, UpdateCallback and AppendEvents queue
// their writes; a few committers each take what is pending and run it as
// one transaction in phases that keep the store's global lock order
// (callback rows by id, then counter rows by key, then the event cursor):
//
//  1. BEGIN, and lock the records the batch updates, in id order, with one
//     SELECT ... ORDER BY id FOR UPDATE;
//  2. run each update's fn on its record (in Go, no round trip);
//  3. lock every counter row any write of the batch will touch, in key
//     order, with one upsert;
//  4. run each write's statements in its own savepoint, one round trip
//     each (its error rolls back its savepoint, and it alone fails);
//  5. number the events of the successful writes and COMMIT, in one
//     round trip (see insertEvents).
//
// A batch holds at most one write per callback id (the queue's Key), so
// that every update's fn sees the latest record.

const (
	// maxBatch bounds the writes of one transaction. Each write runs in a
	// subtransaction; past 64 of them a backend's subtransaction cache
	// overflows and every other backend's snapshots get slower.
	maxBatch = 48
	// committers run batches at once, each on its own connection: while
	// one waits for its COMMIT's fsync, the next prepares its batch.
	committers = 2
)

// opKind says what a queued write is.
type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opAppend
)

// op is one caller's write.
type op struct {
	kind   opKind
	cb     *callbackd.Callback // opCreate: the record; opUpdate: the result
	id     string              // opUpdate
	fn     func(cb *callbackd.Callback) ([]callbackd.Event, error)
	events []callbackd.Event

	// Per attempt of the batch.
	steps []step
	keys  []string // counter rows the steps touch
}

func opKey(o *op) string {
	if o.kind == opAppend {
		return ""
	}
	if o.kind == opCreate {
		return o.cb.ID
	}
	return o.id
}

func (s *Store) startCommitters() {
	s.commits = groupcommit.New(groupcommit.Options[*op]{
		Workers: committers, MaxBatch: maxBatch, Key: opKey, Run: s.runBatch,
	})
}

// write queues o and waits until the transaction holding it is durable.
func (s *Store) write(ctx context.Context, o *op) error {
	err := s.commits.Do(ctx, o)
	if errors.Is(err, groupcommit.ErrClosed) {
		return errClosed
	}
	return err
}

var errClosed = errors.New("postgres: store closed")

// runBatch runs a batch until it commits, fails for good, or the server
// asked for a retry too often (serialization failure, deadlock, a
// connection that failed before use): each attempt runs every write again
// from the start, update fns included, on freshly read records.
func (s *Store) runBatch(batch []*groupcommit.Request[*op]) {
	ctx := context.Background()
	err := s.retry(ctx, func() error { return s.batchOnce(ctx, batch) })
	if err != nil {
		for _, r := range batch {
			r.Err = err
		}
	}
}

// batchOnce is one attempt at a batch. It sets the outcome of each write
// that fails alone and returns the error that fails them all, if any.
func (s *Store) batchOnce(ctx context.Context, batch []*groupcommit.Request[*op]) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	defer func() {
		if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
			// Rolled back, or the connection is dropped by the pool.
			_, _ = conn.Exec(ctx, `ROLLBACK`)
		}
	}()
	for _, r := range batch {
		r.Err = nil
		r.Op.steps, r.Op.keys = nil, nil
	}

	// 1. BEGIN and the records to update.
	var ids []string
	for _, r := range batch {
		if r.Op.kind == opUpdate {
			ids = append(ids, r.Op.id)
		}
	}
	records := map[string]*callbackd.Callback{}
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	if len(ids) > 0 {
		slices.Sort(ids)
		b.Queue(`SELECT `+callbackColumns+` FROM callbacks WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				cb, err := scanCallback(rows)
				if err != nil {
					return err
				}
				records[cb.ID] = cb
			}
			return rows.Err()
		})
	}
	// With no update, the counters are known now: lock them in this same
	// round trip.
	early := len(ids) == 0
	if early {
		for _, r := range batch {
			r.Err = prepare(r.Op, nil)
		}
		queueLockCounters(b, batch)
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}

	// 2. The updates' fns, then 3. the counters.
	if !early {
		for _, r := range batch {
			r.Err = prepare(r.Op, records)
		}
		b = &pgx.Batch{}
		if queueLockCounters(b, batch) {
			if err := conn.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
	}

	// 4. Each write in its savepoint. A savepoint is released (or rolled
	// back to) at the start of the next round trip, saving one.
	single := len(batch) == 1
	var prefix []string
	for _, r := range batch {
		if r.Err != nil || len(r.Op.steps) == 0 {
			continue
		}
		p := &pipeline{}
		for _, sql := range prefix {
			p.control(sql)
		}
		if !single {
			p.control(`SAVEPOINT w`)
		}
		p.queueSteps(r.Op.steps)
		werr, err := p.send(ctx, conn.Conn())
		if err != nil {
			return err
		}
		switch {
		case werr != nil && single:
			r.Err = werr
			_, err := conn.Exec(ctx, `ROLLBACK`)
			return err
		case werr != nil && conn.Conn().PgConn().TxStatus() == 'E':
			// The server failed a statement: until the rollback it refuses
			// everything, even pgx preparing the next round trip's
			// statements, so roll back now.
			r.Err = werr
			prefix = nil
			if _, err := conn.Exec(ctx, `ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w`); err != nil {
				return err
			}
		case werr != nil:
			r.Err = werr
			prefix = []string{`ROLLBACK TO SAVEPOINT w`, `RELEASE SAVEPOINT w`}
		case !single:
			prefix = []string{`RELEASE SAVEPOINT w`}
		}
	}

	// 5. Events, in commit order, and COMMIT.
	var events []callbackd.Event
	for _, r := range batch {
		if r.Err == nil {
			events = append(events, r.Op.events...)
		}
	}
	p := &pipeline{}
	for _, sql := range prefix {
		p.control(sql)
	}
	if len(events) > 0 {
		sql, args, err := insertEvents(events)
		if err != nil {
			return err
		}
		p.control(sql, args...)
	}
	p.commit()
	if _, err := p.send(ctx, conn.Conn()); err != nil {
		return err
	}
	return nil
}

// prepare builds the statements of one write for this attempt: for an
// update, runs fn on the record read in phase 1. An error is that write's
// outcome.
func prepare(o *op, records map[string]*callbackd.Callback) error {
	switch o.kind {
	case opCreate:
		if err := checkEvents(o.events); err != nil {
			return err
		}
		st, err := insertSteps(o.cb)
		if err != nil {
			return err
		}
		o.steps = append(st, holdSteps(nil, o.cb.Holds)...)
		o.steps = append(o.steps, keySteps(o.cb)...)
		o.keys = holdKeys(nil, o.cb.Holds)
	case opUpdate:
		cb, ok := records[o.id]
		if !ok {
			return callbackd.ErrNotFound
		}
		before := slices.Clone(cb.Holds)
		var events []callbackd.Event
		err := groupcommit.Call(func() (err error) {
			events, err = o.fn(cb)
			return err
		})
		if err != nil {
			return err // fn's own error, as is
		}
		if err := checkEvents(events); err != nil {
			return err
		}
		st, err := updateSteps(cb)
		if err != nil {
			return err
		}
		o.cb, o.events = cb, events
		o.steps = append(st, holdSteps(before, cb.Holds)...)
		o.steps = append(o.steps, keySteps(cb)...)
		o.keys = holdKeys(before, cb.Holds)
	case opAppend:
		return checkEvents(o.events)
	}
	return nil
}

// queueLockCounters adds to b the statement that locks (creating at 0 when
// missing) every counter row the batch's writes touch, in ascending key
// order. It reports whether there was any.
func queueLockCounters(b *pgx.Batch, batch []*groupcommit.Request[*op]) bool {
	var keys []string
	for _, r := range batch {
		if r.Err == nil {
			keys = append(keys, r.Op.keys...)
		}
	}
	if len(keys) == 0 {
		return false
	}
	slices.Sort(keys)
	b.Queue(lockCounters, slices.Compact(keys))
	return true
}

// lockCounters locks counter rows in the order of $1 (sorted), inserting
// missing ones at 0. The rows of a multi-row INSERT ... SELECT are
// processed in the order the SELECT produces them, and unnest produces an
// array's elements in order.
const lockCounters = `INSERT INTO counters (key, value) SELECT k, 0 FROM unnest($1::text[]) AS k
	ON CONFLICT (key) DO UPDATE SET value = counters.value`

// step is one statement of a write. A take returns a row when it took the
// hold, none when the counter is full.
type step struct {
	sql  string
	args []any
	take *callbackd.Hold
}

// pipeline is one round trip: control statements, whose failure fails the
// whole batch, then one write's steps, whose failure fails that write.
type pipeline struct {
	b         pgx.Batch
	controls  int
	controlOK int
	full      *callbackd.LimitError
}

func (p *pipeline) control(sql string, args ...any) {
	p.controls++
	p.b.Queue(sql, args...).Exec(func(pgconn.CommandTag) error { p.controlOK++; return nil })
}

// commit queues COMMIT, and checks that the server did commit: COMMIT in
// a transaction that failed earlier answers ROLLBACK without an error.
func (p *pipeline) commit() {
	p.controls++
	p.b.Queue(`COMMIT`).Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return fmt.Errorf("postgres: COMMIT answered %q", ct.String())
		}
		p.controlOK++
		return nil
	})
}

// queueSteps adds a write's statements. A full counter is remembered, not
// returned, so that the remaining statements run (they are rolled back
// with the savepoint) and pgx keeps its prepared statements.
func (p *pipeline) queueSteps(steps []step) {
	for _, st := range steps {
		q := p.b.Queue(st.sql, st.args...)
		if h := st.take; h != nil {
			q.QueryRow(func(row pgx.Row) error {
				var v int64
				err := row.Scan(&v)
				if errors.Is(err, pgx.ErrNoRows) {
					if p.full == nil {
						p.full = &callbackd.LimitError{Key: h.Key, Limit: h.Limit}
					}
					return nil
				}
				return err
			})
		}
	}
}

// send runs the round trip. batchErr fails the batch: a control statement
// failed, the connection broke, or the server asked for a retry.
// writeErr is the write's own failure.
func (p *pipeline) send(ctx context.Context, conn *pgx.Conn) (writeErr, batchErr error) {
	err := conn.SendBatch(ctx, &p.b).Close()
	if err == nil {
		if p.full != nil {
			return p.full, nil
		}
		return nil, nil
	}
	var pe *pgconn.PgError
	if p.controlOK < p.controls || !errors.As(err, &pe) || retryable(ctx, err) {
		return nil, err
	}
	return translate(ctx, err), nil
}

// PendingWrites is the number of writes queued for the next commit, for
// tests that need a batch to form (storetest) and for metrics.
func (s *Store) PendingWrites() int { return s.commits.Pending() }

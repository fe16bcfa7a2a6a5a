package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

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
//  4. run the writes, all in one round trip: each write's counter takes,
//     then every record and lookup key set-based (batch_rows.go); if one
//     fails, the batch runs again from BEGIN with each write in its own
//     savepoint and statement by statement, so a write that fails (its
//     error rolls back to its savepoint) fails alone, and the writes after
//     it run again;
//  5. number the events of the successful writes and COMMIT, in one
//     round trip (see insertEvents).
//
// Phases 1 and 3 join the next round trip when they can: a batch of
// creates is two round trips, however many writes it holds.
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

// errWriteFailed ends an attempt at a batch without savepoints in which a
// write failed: the batch runs again with them.
var errWriteFailed = errors.New("postgres: a write of the batch failed")

// runBatch runs a batch until it commits, fails for good, or the server
// asked for a retry too often (serialization failure, deadlock, a
// connection that failed before use): each attempt runs every write again
// from the start, update fns included, on freshly read records.
//
// Savepoints are subtransactions: each costs the server CPU and, past 64
// in a transaction, slows every backend's snapshots. Most batches have no
// failing write, so a batch of several first runs without them; if one of
// its writes fails, the transaction is rolled back and the batch runs
// again with a savepoint per write (as the SQLite store does).
func (s *Store) runBatch(batch []*groupcommit.Request[*op]) {
	ctx := context.Background()
	err := s.retry(ctx, func() error {
		err := s.batchOnce(ctx, batch, false)
		if errors.Is(err, errWriteFailed) {
			err = s.batchOnce(ctx, batch, true)
		}
		return err
	})
	if err != nil {
		for _, r := range batch {
			r.Err = err
		}
	}
}

// batchOnce is one attempt at a batch. It sets the outcome of each write
// that fails alone and returns the error that fails them all, if any.
//
// Round trips: a batch of creates takes two (BEGIN, the counter locks and
// every write; then the events and COMMIT), one with updates three (BEGIN
// and the records first). Writes go in one round trip each in its own
// nested savepoint (w0, w1, ...); when one fails, the transaction rolls
// back to its savepoint, which undoes it and the writes after it (they
// ran on its half-done changes), and those run again one round trip each.
//
// Without savepoints, a write that fails ends the attempt with
// errWriteFailed (the transaction is rolled back), for the caller to run
// the batch again with them.
func (s *Store) batchOnce(ctx context.Context, batch []*groupcommit.Request[*op], savepoints bool) (err error) {
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
	lead := &pipeline{} // what the next round trip starts with
	lead.control(`BEGIN ISOLATION LEVEL READ COMMITTED`)

	// 1. The records to update, locked in id order, then their fns.
	var ids []string
	for _, r := range batch {
		if r.Op.kind == opUpdate {
			ids = append(ids, r.Op.id)
		}
	}
	records := map[string]*callbackd.Callback{}
	if len(ids) > 0 {
		slices.Sort(ids)
		lead.b.Queue(`SELECT `+callbackColumns+` FROM callbacks WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				cb, err := scanCallback(rows)
				if err != nil {
					return err
				}
				records[cb.ID] = cb
			}
			return rows.Err()
		})
		if err := conn.SendBatch(ctx, &lead.b).Close(); err != nil {
			return err
		}
		lead = &pipeline{}
	}
	for _, r := range batch {
		r.Err = prepare(r.Op, records)
	}

	// 2. Every counter the batch touches, locked in key order.
	queueLockCounters(lead, batch)

	// 3. The writes.
	var writes []*groupcommit.Request[*op]
	for _, r := range batch {
		if r.Err == nil && len(r.Op.steps) > 0 {
			writes = append(writes, r)
		}
	}
	single := len(batch) == 1
	var prefix []string // statements the next round trip must start with
	for i := 0; i < len(writes); {
		p := lead
		lead = &pipeline{}
		for _, sql := range prefix {
			p.control(sql)
		}
		prefix = nil
		optimistic := i == 0 && len(writes) > 1
		n := 1
		if optimistic {
			n = len(writes)
		}
		setBased := optimistic && !savepoints
		for j, r := range writes[i : i+n] {
			switch {
			case setBased:
				p.writeChecks(r) // records and keys: queueRecords
				continue
			case optimistic:
				p.control(`SAVEPOINT w` + strconv.Itoa(j))
			case !single:
				p.control(`SAVEPOINT w`)
			}
			p.write(r)
		}
		if setBased {
			if err := p.queueRecords(writes); err != nil {
				return err
			}
		}
		failed, werr, err := p.send(ctx, conn.Conn())
		if setBased && (failed >= 0 || p.short || (err != nil && writeFailed(ctx, err))) {
			return errWriteFailed
		}
		if err != nil {
			return err
		}
		name := `w`
		if optimistic {
			name += strconv.Itoa(failed)
		}
		switch {
		case failed < 0:
			if !optimistic && !single {
				prefix = []string{`RELEASE SAVEPOINT w`}
			}
			i += n
			continue
		case single:
			writes[i].Err = werr
			_, err := conn.Exec(ctx, `ROLLBACK`)
			return err
		case conn.Conn().PgConn().TxStatus() == 'E':
			// The server failed a statement: until the rollback it refuses
			// everything, even pgx preparing the next round trip's
			// statements, so roll back now.
			if _, err := conn.Exec(ctx, `ROLLBACK TO SAVEPOINT `+name+`; RELEASE SAVEPOINT `+name); err != nil {
				return err
			}
		default:
			prefix = []string{`ROLLBACK TO SAVEPOINT ` + name, `RELEASE SAVEPOINT ` + name}
		}
		writes[i+failed].Err = werr
		i += failed + 1
	}

	// 4. Events, in commit order, and COMMIT.
	var events []callbackd.Event
	for _, r := range batch {
		if r.Err == nil {
			events = append(events, r.Op.events...)
		}
	}
	p := lead
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
	if _, _, err := p.send(ctx, conn.Conn()); err != nil {
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

// queueLockCounters adds to p the statement that locks (creating at 0 when
// missing) every counter row the batch's writes touch, in ascending key
// order, if there is any.
func queueLockCounters(p *pipeline, batch []*groupcommit.Request[*op]) {
	var keys []string
	for _, r := range batch {
		if r.Err == nil {
			keys = append(keys, r.Op.keys...)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	p.control(lockCounters, slices.Compact(keys))
}

// lockCounters locks counter rows in the order of $1 (sorted), inserting
// missing ones at 0. The rows of a multi-row INSERT ... SELECT are
// processed in the order the SELECT produces them, and unnest produces an
// array's elements in order.
const lockCounters = `INSERT INTO counters (key, value) SELECT k, 0 FROM unnest($1::text[]) AS k
	ON CONFLICT (key) DO UPDATE SET value = counters.value`

// step is one statement of a write. With a check, the statement returns a
// row when it did its work and none when the write must fail: a take
// whose counter is full (*callbackd.LimitError), the INSERT of an id that
// exists (callbackd.ErrConflict). Failing that way rather than with a
// server error keeps the transaction usable and pgx's prepared statements.
type step struct {
	sql   string
	args  []any
	check stepCheck
	hold  callbackd.Hold // for checkTake
}

type stepCheck int

const (
	checkNone stepCheck = iota
	checkTake
	checkInsert
)

// pipeline is one round trip: control statements, whose failure fails the
// whole batch, and writes' steps, whose failure fails their write.
type pipeline struct {
	b      pgx.Batch
	queued int // statements queued
	ok     int // statements answered without a server error, in order
	writes []pipeWrite
	short  bool // a set-based write changed fewer rows than it should
}

// pipeWrite is one write's statements in a pipeline.
type pipeWrite struct {
	from, to int   // statement indices
	err      error // the first check that failed
}

func (p *pipeline) control(sql string, args ...any) {
	p.queued++
	p.b.Queue(sql, args...).Exec(func(pgconn.CommandTag) error { p.ok++; return nil })
}

// commit queues COMMIT, and checks that the server did commit: COMMIT in
// a transaction that failed earlier answers ROLLBACK without an error.
func (p *pipeline) commit() {
	p.queued++
	p.b.Queue(`COMMIT`).Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return fmt.Errorf("postgres: COMMIT answered %q", ct.String())
		}
		p.ok++
		return nil
	})
}

// write queues a write's steps.
func (p *pipeline) write(r *groupcommit.Request[*op]) {
	p.writeFiltered(r, func(step) bool { return true })
}

// writeFiltered queues the steps of a write that keep accepts.
func (p *pipeline) writeFiltered(r *groupcommit.Request[*op], keep func(step) bool) {
	w := len(p.writes)
	p.writes = append(p.writes, pipeWrite{from: p.queued})
	for _, st := range r.Op.steps {
		if !keep(st) {
			continue
		}
		p.queued++
		q := p.b.Queue(st.sql, st.args...)
		if st.check == checkNone {
			q.Exec(func(pgconn.CommandTag) error { p.ok++; return nil })
			continue
		}
		q.QueryRow(func(row pgx.Row) error {
			var v int64
			if err := row.Scan(&v); errors.Is(err, pgx.ErrNoRows) {
				if p.writes[w].err == nil {
					p.writes[w].err = st.failure(r.Op)
				}
			} else if err != nil {
				return err
			}
			p.ok++
			return nil
		})
	}
	p.writes[w].to = p.queued
}

// failure is the error of a check that found no row.
func (st step) failure(o *op) error {
	if st.check == checkInsert {
		return fmt.Errorf("%w: callback %s exists", callbackd.ErrConflict, o.cb.ID)
	}
	return &callbackd.LimitError{Key: st.hold.Key, Limit: st.hold.Limit}
}

// send runs the round trip. It returns the first write that failed (its
// index in the pipeline, -1 when none did) and why; batchErr fails the
// whole batch: a control statement failed, the connection broke, or the
// server asked for a retry.
func (p *pipeline) send(ctx context.Context, conn *pgx.Conn) (failed int, werr, batchErr error) {
	err := conn.SendBatch(ctx, &p.b).Close()
	for i, w := range p.writes {
		if w.err != nil {
			return i, w.err, nil // checks only run before a server error
		}
	}
	if err == nil {
		return -1, nil, nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && !retryable(ctx, err) {
		for i, w := range p.writes {
			if w.from <= p.ok && p.ok < w.to {
				return i, translate(ctx, err), nil
			}
		}
	}
	return -1, nil, err
}

// PendingWrites is the number of writes queued for the next commit, for
// tests that need a batch to form (storetest) and for metrics.
func (s *Store) PendingWrites() int { return s.commits.Pending() }

// Committers is the number of batches that run at once (storetest holds
// them all to form a batch).
func (s *Store) Committers() int { return committers }

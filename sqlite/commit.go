package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/callbackd/callbackd/internal/groupcommit"
)

// maxBatch bounds the writes of one transaction. A create costs SQLite
// about 50 µs of CPU, so a full batch holds the write lock for some ms;
// far more than a disk's fsync, so larger batches would buy nothing.
const maxBatch = 256

// write is one caller's work on the writer connection. fn gets the
// context to run its statements with (the caller's, without its
// cancellation) and the transaction the batch shares.
type write struct {
	fn func(ctx context.Context, tx *wtx, d deltas) error
	d  deltas
}

// writeTx runs fn in a write transaction, shared with the other writes
// queued at the same moment (group commit), and returns once that
// transaction is durable; then, if fn succeeded, its changes of mirrored
// counters are applied. fn runs in its own savepoint: its error rolls back
// its own statements and is returned to this caller alone.
func (s *Store) writeTx(ctx context.Context, fn func(ctx context.Context, tx *wtx, d deltas) error) error {
	err := s.commits.Do(ctx, &write{fn: fn})
	if errors.Is(err, groupcommit.ErrClosed) {
		return errClosed
	}
	return err
}

var errClosed = errors.New("sqlite: store closed")

// runBatch is the single worker's turn: one IMMEDIATE transaction (the
// writer connection's _txlock), one COMMIT, then the mirror.
//
// Savepoints cost a quarter of a create's time on the writer, and most
// batches have no failing write, so a batch first runs without them; if a
// write fails, the transaction is rolled back and the batch runs again,
// each write in its own savepoint. The second run sees the same database
// (this is the only writer), so the writes before the failing one do the
// same again. A lone write never needs a savepoint: its error rolls back
// a transaction that holds nothing else.
func (s *Store) runBatch(batch []*groupcommit.Request[*write]) {
	if !s.runOnce(batch, false) {
		s.runOnce(batch, true)
	}
}

// runOnce runs a batch and sets every write's outcome, or, without
// savepoints, stops at the first failing write of a batch of several and
// reports false.
func (s *Store) runOnce(batch []*groupcommit.Request[*write], savepoints bool) (done bool) {
	ctx := context.Background()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(batch, translate(err))
		return true
	}
	tx := &wtx{Tx: sqlTx, prepared: s.prepared, bound: map[string]*sql.Stmt{}}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	for _, r := range batch {
		w := r.Op
		w.d = deltas{}
		if savepoints {
			if _, err := tx.ExecContext(ctx, savepoint); err != nil {
				failAll(batch, translate(err))
				return true
			}
		}
		r.Err = groupcommit.Call(func() error { return w.fn(r.Context(), tx, w.d) })
		if !savepoints {
			if r.Err != nil {
				return len(batch) == 1 // rolled back by the defer
			}
			continue
		}
		if r.Err == nil {
			_, err = tx.ExecContext(ctx, release)
		} else {
			w.d = nil
			if _, err = tx.ExecContext(ctx, rollbackTo); err == nil {
				_, err = tx.ExecContext(ctx, release)
			}
		}
		if err != nil {
			// SQLite rolled the whole transaction back (an I/O error, a
			// full disk): the earlier writes are gone too.
			failAll(batch, translate(err))
			return true
		}
	}
	if err := tx.Commit(); err != nil {
		err = translate(err)
		for _, r := range batch {
			if r.Err == nil {
				r.Err = err
			}
		}
		return true
	}
	committed = true
	for _, r := range batch {
		if r.Err == nil {
			s.mirror.apply(r.Op.d)
		}
	}
	return true
}

// failAll answers every write of a batch that fails as a whole.
func failAll(batch []*groupcommit.Request[*write], err error) {
	for _, r := range batch {
		r.Err = err
	}
}

// PendingWrites is the number of writes queued for the next commit, for
// tests that need a batch to form (storetest) and for metrics.
func (s *Store) PendingWrites() int { return s.commits.Pending() }

// Committers is the number of batches that run at once (storetest holds
// them all to form a batch).
func (s *Store) Committers() int { return 1 }

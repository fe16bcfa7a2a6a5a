package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxAttempts bounds how often an operation runs when the server asks for
// a retry (serialization failure, deadlock) or the driver failed before
// sending anything. With the backoff below, the pauses add up to at most
// 75ms.
const maxAttempts = 5

// callerError carries an error from code the store does not own (the fn
// given to UpdateCallback) through the retry loop, so that it is neither
// retried nor translated: the interface returns it as is.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }
func (e *callerError) Unwrap() error { return e.err }

// retry runs op until it succeeds, fails for good, or maxAttempts is
// reached, and translates the last error. op must be safe to run again
// from the start: a transaction, or a read.
func (s *Store) retry(ctx context.Context, op func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = op()
		var ce *callerError
		if errors.As(err, &ce) {
			return ce.err
		}
		if err == nil || attempt >= maxAttempts || !retryable(ctx, err) {
			break
		}
		s.retried.Add(1)
		if !sleep(ctx, backoff(attempt)) {
			break
		}
	}
	return translate(ctx, err)
}

// inTx runs fn in a READ COMMITTED transaction, retrying the whole of it
// (fn included) when retry says so. fn's writes are kept only if it
// returns nil and the COMMIT succeeds; the COMMIT returns once durable
// (synchronous_commit=on).
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.retry(ctx, func() error {
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback(ctx) // the error that matters is fn's
			return err
		}
		return tx.Commit(ctx)
	})
}

// backoff is the pause before attempt+1: exponential from 5ms, with full
// jitter so that the transactions that just collided do not collide again.
func backoff(attempt int) time.Duration {
	d := 5 * time.Millisecond << (attempt - 1)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx is done, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

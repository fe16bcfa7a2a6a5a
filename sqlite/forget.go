package sqlite

import (
	"context"
	"errors"

	"github.com/callbackd/callbackd"
)

// Forget implements callbackd.Store. After the transaction, the WAL is
// checkpointed and truncated so that the erased rows' old page images do
// not linger in it; secure_delete (set on the writer) zeroes the freed
// space in the database file itself.
func (s *Store) Forget(ctx context.Context, f callbackd.Forget) (map[string]error, error) {
	var out map[string]error
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx, d deltas) error {
		out = make(map[string]error, len(f.IDs))
		for _, id := range f.IDs {
			cb, err := getCallback(ctx, tx, id)
			if errors.Is(err, callbackd.ErrNotFound) {
				out[id] = err
				continue
			} else if err != nil {
				return err
			}
			if f.Check != nil {
				if out[id] = f.Check(cb); out[id] != nil {
					continue
				}
			}
			if err := eraseCallback(ctx, tx, d, cb); err != nil {
				return err
			}
			out[id] = nil
		}
		for _, subj := range f.Subjects {
			if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE subject = ? AND subject <> ''`, subj); err != nil {
				return translate(err)
			}
		}
		for _, suffix := range f.KeySuffixes {
			if suffix == "" {
				continue
			}
			// An exact, case-sensitive suffix match (LIKE ignores case).
			if _, err := tx.ExecContext(ctx, `DELETE FROM rate_uses WHERE substr(key, -length(?1)) = ?1`, suffix); err != nil {
				return translate(err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM counters WHERE value <= 0 AND substr(key, -length(?1)) = ?1`, suffix); err != nil {
				return translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Best effort: a reader in the middle of a query keeps the WAL; the
	// next checkpoint then overwrites it.
	_, _ = s.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA wal_checkpoint(TRUNCATE)`)
	return out, nil
}

// eraseCallback erases one callback, its lookup keys (by cascade) and
// events, and releases its holds.
func eraseCallback(ctx context.Context, tx *wtx, d deltas, cb *callbackd.Callback) error {
	if err := moveHolds(ctx, tx, d, cb.Holds, nil); err != nil {
		return err
	}
	for _, stmt := range []string{`DELETE FROM events WHERE callback_id = ?`, `DELETE FROM callbacks WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, stmt, cb.ID); err != nil {
			return translate(err)
		}
	}
	return nil
}

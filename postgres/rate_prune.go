package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// PruneRateUses implements callbackd.Store: the uses at or before before
// of up to limit keys, and the counter rows that only served to lock those
// keys (takeRate's lock rows, at zero), in one transaction. It returns how
// many keys it pruned.
//
// It locks the keys' counter rows first, in key order, with the same
// upsert a group commit uses (lockCounters): a Start counting a key's
// uses holds that row, so the two never interleave on one key, and the
// global lock order (counter rows by key before anything else) keeps
// them from deadlocking. A Start waiting on a row this deletes inserts it
// again once this commits.
func (s *Store) PruneRateUses(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT key FROM rate_uses WHERE at <= $1 LIMIT $2`, ms(before), max(limit, 1))
		if err != nil {
			return err
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(keys) == 0 {
			return err
		}
		slices.Sort(keys)
		b := &pgx.Batch{}
		b.Queue(lockCounters, keys)
		b.Queue(`DELETE FROM rate_uses WHERE key = ANY($1) AND at <= $2`, keys, ms(before))
		b.Queue(`DELETE FROM counters c WHERE c.key = ANY($1) AND c.value <= 0
			AND NOT EXISTS (SELECT 1 FROM rate_uses u WHERE u.key = c.key)`, keys)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		n = len(keys)
		return nil
	})
	return n, err
}

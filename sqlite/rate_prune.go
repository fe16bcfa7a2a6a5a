package sqlite

import (
	"context"
	"strings"
	"time"
)

// PruneRateUses implements callbackd.Store: the uses at or before before
// of up to limit keys, in one write transaction. It returns how many keys
// it pruned. The writer is the only one, so nothing else counts a key's
// uses meanwhile.
func (s *Store) PruneRateUses(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.tx(ctx, func(ctx context.Context, tx *wtx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT key FROM rate_uses WHERE at <= ? LIMIT ?`, ms(before), max(limit, 1))
		if err != nil {
			return translate(err)
		}
		var args []any
		for rows.Next() {
			var key string
			if err := rows.Scan(&key); err != nil {
				rows.Close()
				return translate(err)
			}
			args = append(args, key)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(args) == 0 {
			return translate(err)
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_uses WHERE at <= ? AND key IN (`+in+`)`, append([]any{ms(before)}, args...)...); err != nil {
			return translate(err)
		}
		n = len(args)
		return nil
	})
	return n, err
}

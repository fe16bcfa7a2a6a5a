package sqlite

import (
	"context"

	"github.com/callbackd/callbackd"
)

// Import implements callbackd.Importer: one transaction, prepared
// statements, counters added once per key.
func (s *Store) Import(ctx context.Context, cbs []*callbackd.Callback) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *wtx, d deltas) error {
		ins, err := tx.PrepareContext(ctx, insertCallback)
		if err != nil {
			return translate(err)
		}
		defer ins.Close()
		key, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO callback_keys (key, value, callback_id) VALUES (?,?,?)`)
		if err != nil {
			return translate(err)
		}
		defer key.Close()
		counts := map[string]int{}
		for _, cb := range cbs {
			values, err := callbackValues(cb)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, values...); err != nil {
				return translate(err)
			}
			for k, v := range cb.Lookup {
				if _, err := key.ExecContext(ctx, k, v, cb.ID); err != nil {
					return translate(err)
				}
			}
			for _, h := range cb.Holds {
				if !h.IsRate() {
					counts[h.Key]++
				}
			}
		}
		for k, n := range counts {
			d.add(k, n)
			if _, err := tx.ExecContext(ctx, `INSERT INTO counters (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`, k, n); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

package sqlite

import (
	"context"
	"database/sql"

	"github.com/callbackd/callbackd"
)

// Import implements callbackd.Importer: one transaction, prepared
// statements, counters added once per key.
func (s *Store) Import(ctx context.Context, cbs []*callbackd.Callback) error {
	return s.writeTx(ctx, func(tx *sql.Tx, d deltas) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO callbacks (`+callbackColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
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
			props, err := encodeProps(cb.Properties)
			if err != nil {
				return err
			}
			holds, err := encodeHolds(cb.Holds)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, cb.ID, cb.Service, string(cb.State), string(cb.Reason), cb.CustomerNumber,
				ms(cb.DesiredTime), ms(cb.ExpirationTime), cb.SessionID, cb.SubmitAttempts,
				ms(cb.CreatedAt), ms(cb.UpdatedAt), props, holds); err != nil {
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

package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

// Forget implements callbackd.Store. The callbacks' rows are locked first,
// in id order, and their counters released afterwards in one key-sorted
// batch, the order every other transaction locks in. Deleted rows stay on
// disk until VACUUM reclaims them (autovacuum, or VACUUM run by hand for an
// immediate physical erasure; see README).
func (s *Store) Forget(ctx context.Context, f callbackd.Forget) (map[string]error, error) {
	ids := slices.Sorted(slices.Values(f.IDs))
	ids = slices.Compact(ids)
	var out map[string]error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = make(map[string]error, len(ids))
		rows, err := tx.Query(ctx, `SELECT `+callbackColumns+` FROM callbacks WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		found := map[string]*callbackd.Callback{}
		for rows.Next() {
			cb, err := scanCallback(rows)
			if err != nil {
				rows.Close()
				return err
			}
			found[cb.ID] = cb
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var erase []string
		var released []callbackd.Hold
		for _, id := range ids {
			cb, ok := found[id]
			if !ok {
				out[id] = callbackd.ErrNotFound
				continue
			}
			if f.Check != nil {
				if out[id] = f.Check(cb); out[id] != nil {
					continue
				}
			}
			out[id] = nil
			erase = append(erase, id)
			released = append(released, cb.Holds...)
		}
		b := &pgx.Batch{}
		for _, st := range holdSteps(released, nil) { // releases only: nothing to check
			b.Queue(st.sql, st.args...)
		}
		if len(erase) > 0 {
			b.Queue(`DELETE FROM events WHERE callback_id = ANY($1)`, erase)
			b.Queue(`DELETE FROM callback_keys WHERE callback_id = ANY($1)`, erase)
			b.Queue(`DELETE FROM callbacks WHERE id = ANY($1)`, erase)
		}
		if subjects := slices.DeleteFunc(slices.Clone(f.Subjects), func(s string) bool { return s == "" }); len(subjects) > 0 {
			b.Queue(`DELETE FROM events WHERE subject = ANY($1)`, subjects)
		}
		for _, suffix := range f.KeySuffixes {
			if suffix == "" {
				continue
			}
			// right() compares exactly; LIKE would need escaping.
			b.Queue(`DELETE FROM rate_uses WHERE right(key, length($1)) = $1`, suffix)
			b.Queue(`DELETE FROM counters WHERE value <= 0 AND right(key, length($1)) = $1`, suffix)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

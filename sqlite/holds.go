package sqlite

import (
	"context"
	"database/sql"
	"math"
	"strings"

	"github.com/callbackd/callbackd"
)

// moveHolds releases the holds in before that are not in after and takes
// those in after that are not in before, refusing to go over a limit. The
// conditional upsert makes the check and the increment one statement.
func moveHolds(ctx context.Context, tx *sql.Tx, d deltas, before, after []callbackd.Hold) error {
	kept := make(map[string]bool, len(after))
	for _, h := range after {
		kept[h.Key] = true
	}
	was := make(map[string]bool, len(before))
	for _, h := range before {
		was[h.Key] = true
		if !kept[h.Key] && !h.IsRate() {
			if _, err := tx.ExecContext(ctx, `UPDATE counters SET value = value - 1 WHERE key = ? AND value > 0`, h.Key); err != nil {
				return translate(err)
			}
			if err := dropIfZero(ctx, tx, h.Key); err != nil {
				return err
			}
			d.add(h.Key, -1)
		}
	}
	for _, h := range after {
		if was[h.Key] {
			continue
		}
		if err := takeHold(ctx, tx, h); err != nil {
			return err
		}
		d.add(h.Key, 1)
	}
	return nil
}

func takeHold(ctx context.Context, tx *sql.Tx, h callbackd.Hold) error {
	limit := h.Limit
	if limit <= 0 {
		limit = math.MaxInt32
	}
	if h.IsRate() {
		// The single writer serialises this read-then-insert.
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_uses WHERE key = ? AND at <= ?`, h.Key, ms(h.At.Add(-h.Window))); err != nil {
			return translate(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_uses WHERE key = ?`, h.Key).Scan(&n); err != nil {
			return translate(err)
		}
		if n >= limit {
			return &callbackd.LimitError{Key: h.Key, Limit: h.Limit}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO rate_uses (key, at) VALUES (?, ?)`, h.Key, ms(h.At))
		return translate(err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO counters (key, value) VALUES (?, 1)
		ON CONFLICT (key) DO UPDATE SET value = value + 1 WHERE value < ?`, h.Key, limit)
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return translate(err)
	} else if n == 0 {
		return &callbackd.LimitError{Key: h.Key, Limit: h.Limit}
	}
	return nil
}

// dropIfZero removes a released counter that nobody holds any more, unless
// it is a capacity bucket's. Per-customer counters (in-queue checks) name a
// phone number in their key: keeping them at zero would keep personal data
// forever.
func dropIfZero(ctx context.Context, tx *sql.Tx, key string) error {
	if strings.HasPrefix(key, callbackd.SlotCounterPrefix) {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM counters WHERE key = ? AND value <= 0`, key)
	return translate(err)
}

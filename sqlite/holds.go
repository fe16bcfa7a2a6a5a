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
func moveHolds(ctx context.Context, tx *wtx, d deltas, before, after []callbackd.Hold) error {
	kept := make(map[string]bool, len(after))
	for _, h := range after {
		kept[h.Key] = true
	}
	was := make(map[string]bool, len(before))
	for _, h := range before {
		was[h.Key] = true
		if !kept[h.Key] && !h.IsRate() {
			if _, err := tx.ExecContext(ctx, releaseHold, h.Key); err != nil {
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

func takeHold(ctx context.Context, tx *wtx, h callbackd.Hold) error {
	limit := h.Limit
	if limit <= 0 {
		limit = math.MaxInt32
	}
	if h.IsRate() {
		// The single writer serialises this count-then-insert, which
		// inserts only under the limit.
		since := ms(h.At.Add(-h.Window))
		if _, err := tx.ExecContext(ctx, pruneRate, h.Key, since); err != nil {
			return translate(err)
		}
		res, err := tx.ExecContext(ctx, takeRate, h.Key, ms(h.At), limit, since)
		return tookOne(h, res, err)
	}
	res, err := tx.ExecContext(ctx, takeHoldSQL, h.Key, limit)
	return tookOne(h, res, err)
}

// tookOne reads a take's result: a statement that changed no row found
// the hold's counter at its limit.
func tookOne(h callbackd.Hold, res sql.Result, err error) error {
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
func dropIfZero(ctx context.Context, tx *wtx, key string) error {
	if strings.HasPrefix(key, callbackd.SlotCounterPrefix) {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM counters WHERE key = ? AND value <= 0`, key)
	return translate(err)
}

package postgres

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/callbackd/callbackd"
)

// takeHold adds one to a counter unless it is at $2; when the counter is
// full the WHERE fails and no row comes back. The transaction has locked
// the row already, creating it when missing (lockCounters), so a plain
// UPDATE does (cheaper than an upsert), and under READ COMMITTED the lock
// was granted only after any concurrent holder committed: the check and
// the increment are one step for every node, and no counter ever passes
// its limit.
const takeHold = `UPDATE counters SET value = value + 1 WHERE key = $1 AND value < $2 RETURNING value`

// releaseHold takes one off a counter. Bucket counters at zero stay as
// rows: the next take finds them and is an UPDATE rather than an INSERT.
const releaseHold = `UPDATE counters SET value = value - 1 WHERE key = $1 AND value > 0`

// dropIfZero removes a released per-customer counter nobody holds any
// more: its key names a phone number, which must not be kept forever.
const dropIfZero = `DELETE FROM counters WHERE key = $1 AND value <= 0`

// holdOp is one change of one counter.
type holdOp struct {
	take bool
	hold callbackd.Hold
}

// holdOps lists the counter changes that move a record from the holds in
// before to those in after, as the sqlite store does (release what is no
// longer held, take what is newly held, duplicates counted each time),
// sorted by key bytes. The sort is stable, so with two full counters the
// LimitError names the smaller key rather than the first in after. (The
// rows themselves are locked earlier, for the whole transaction at once:
// see lockCounters.)
func holdOps(before, after []callbackd.Hold) []holdOp {
	kept := make(map[string]bool, len(after))
	for _, h := range after {
		kept[h.Key] = true
	}
	was := make(map[string]bool, len(before))
	var ops []holdOp
	for _, h := range before {
		was[h.Key] = true
		if !kept[h.Key] {
			ops = append(ops, holdOp{take: false, hold: h})
		}
	}
	for _, h := range after {
		if !was[h.Key] {
			ops = append(ops, holdOp{take: true, hold: h})
		}
	}
	slices.SortStableFunc(ops, func(a, b holdOp) int { return strings.Compare(a.hold.Key, b.hold.Key) })
	return ops
}

// holdKeys are the counter rows the change from before to after touches.
func holdKeys(before, after []callbackd.Hold) []string {
	var keys []string
	for _, op := range holdOps(before, after) {
		if op.take || !op.hold.IsRate() {
			keys = append(keys, op.hold.Key)
		}
	}
	return keys
}

// takeRate records one use of a rate hold unless $3 uses of the key lie in
// the window (after $4), and prunes the uses that left it. The counter row
// of the key, locked before (lockCounters), serialises the uses of one
// key, so that the count, on a fresh snapshot under READ COMMITTED, sees
// every use committed by whoever held the lock before, and the uses of
// earlier writes of the same transaction. The count, the insert and the
// pruning are one statement (the DELETE's effect is not visible to the
// count, which skips old uses by itself).
const takeRate = `WITH pruned AS (DELETE FROM rate_uses WHERE key = $1 AND at <= $4)
	INSERT INTO rate_uses (key, at) SELECT $1, $2
	WHERE (SELECT COUNT(*) FROM rate_uses WHERE key = $1 AND at > $4) < $3 RETURNING 1`

// holdSteps are the statements of the counter changes from before to
// after. A take that finds its counter full fails the write with a
// *callbackd.LimitError, and its savepoint rolls back everything it did,
// the record included.
func holdSteps(before, after []callbackd.Hold) []step {
	var steps []step
	for _, op := range holdOps(before, after) {
		h := op.hold
		if !op.take {
			if !h.IsRate() {
				steps = append(steps, step{sql: releaseHold, args: []any{h.Key}})
				if !strings.HasPrefix(h.Key, callbackd.SlotCounterPrefix) {
					steps = append(steps, step{sql: dropIfZero, args: []any{h.Key}})
				}
			}
			continue
		}
		limit := int64(h.Limit)
		if limit <= 0 {
			limit = math.MaxInt64 // unlimited: the WHERE always holds
		}
		if h.IsRate() {
			at := h.At.UnixMilli()
			steps = append(steps, step{sql: takeRate, args: []any{h.Key, at, limit, at - h.Window.Milliseconds()}, check: checkTake, hold: h})
			continue
		}
		steps = append(steps, step{sql: takeHold, args: []any{h.Key, limit}, check: checkTake, hold: h})
	}
	return steps
}

// Counters implements callbackd.Store. Keys compare by bytes (the "C"
// collation), as in SQLite and Go.
//
// PostgreSQL text cannot hold a NUL byte, so a bound containing one (such
// as key+"\x00", the smallest string after key) cannot be sent as is. No
// stored key contains a NUL either, so a bound p+"\x00"+r is rewritten
// exactly: key < p+"\x00"+r is key <= p, and key >= p+"\x00"+r is key > p.
func (s *Store) Counters(ctx context.Context, from, to string) ([]callbackd.Counter, error) {
	fromOp, from := rangeBound(from, ">=", ">")
	toOp, to := rangeBound(to, "<", "<=")
	query := `SELECT key, value FROM counters WHERE key ` + fromOp + ` $1 AND key ` + toOp + ` $2 ORDER BY key`
	var out []callbackd.Counter
	err := s.retry(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, query, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c callbackd.Counter
			if err := rows.Scan(&c.Key, &c.Value); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rangeBound cuts bound at its first NUL byte and picks the operator that
// keeps the comparison exact (see Counters).
func rangeBound(bound, op, opWithNUL string) (string, string) {
	if i := strings.IndexByte(bound, 0); i >= 0 {
		return opWithNUL, bound[:i]
	}
	return op, bound
}

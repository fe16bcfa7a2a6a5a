package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"

	"github.com/callbackd/callbackd"
)

// mirror is an in-memory copy of the capacity-bucket counters
// (callbackd.SlotCounterPrefix). The store is the only writer of its file
// (one callbackd process per SQLite file), so applying each committed
// transaction's changes keeps the copy exact; a reader may see a change a
// few microseconds after its commit. Availability then costs no database
// read at all. Bucket counters are few (services × buckets booked), unlike
// per-customer counters, which stay in the table only.
type mirror struct {
	mu   sync.RWMutex
	keys []string // sorted
	vals map[string]int
}

// deltas are one transaction's changes to mirrored counters.
type deltas map[string]int

func (d deltas) add(key string, n int) {
	if d != nil && strings.HasPrefix(key, callbackd.SlotCounterPrefix) {
		d[key] += n
	}
}

func (m *mirror) load(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT key, value FROM counters WHERE key >= ? AND key < ? ORDER BY key`,
		callbackd.SlotCounterPrefix, prefixEnd(callbackd.SlotCounterPrefix))
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	m.vals = map[string]int{}
	for rows.Next() {
		var k string
		var v int
		if err := rows.Scan(&k, &v); err != nil {
			return translate(err)
		}
		m.keys = append(m.keys, k)
		m.vals[k] = v
	}
	return translate(rows.Err())
}

// prefixEnd is the smallest string after every string starting with p.
func prefixEnd(p string) string { return p[:len(p)-1] + string(p[len(p)-1]+1) }

func (m *mirror) apply(d deltas) {
	if len(d) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, n := range d {
		if _, ok := m.vals[k]; !ok {
			i, _ := slices.BinarySearch(m.keys, k)
			m.keys = slices.Insert(m.keys, i, k)
		}
		m.vals[k] = max(m.vals[k]+n, 0)
	}
}

// rangeOf returns the mirrored counters with keys in [from, to).
func (m *mirror) rangeOf(from, to string) []callbackd.Counter {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, _ := slices.BinarySearch(m.keys, from)
	var out []callbackd.Counter
	for ; i < len(m.keys) && m.keys[i] < to; i++ {
		out = append(out, callbackd.Counter{Key: m.keys[i], Value: m.vals[m.keys[i]]})
	}
	return out
}

// Counters implements callbackd.Store: bucket counters from the mirror,
// any other range from the table.
func (s *Store) Counters(ctx context.Context, from, to string) ([]callbackd.Counter, error) {
	p := callbackd.SlotCounterPrefix
	if strings.HasPrefix(from, p) && (strings.HasPrefix(to, p) || to == prefixEnd(p)) {
		return s.mirror.rangeOf(from, to), nil
	}
	return s.countersFromDB(ctx, from, to)
}

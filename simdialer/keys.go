package simdialer

import (
	"sync"
	"time"
)

// Bounds of the keys a Dialer remembers (see "Keys" in the package doc):
// a key is forgotten after keyTTL of clock time, or when maxKeys newer
// keys have been dialled.
const (
	keyTTL  = 24 * time.Hour
	maxKeys = 1_000_000
)

// keySet is the bounded set of keys already dialled, oldest first in
// order, so forgetting is O(1) per key.
type keySet struct {
	mu   sync.Mutex
	seen map[string]struct{}
	// order[head:] are the keys of seen, in the order they were added.
	order []keyEntry
	head  int
}

// keyEntry is one remembered key and when it was dialled.
type keyEntry struct {
	key string
	at  time.Time
}

// add remembers key, dialled at now, and reports whether it was new. The
// empty key is always new and never remembered.
func (s *keySet) add(key string, now time.Time) bool {
	if key == "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(now)
	if _, ok := s.seen[key]; ok {
		return false
	}
	s.seen[key] = struct{}{}
	s.order = append(s.order, keyEntry{key: key, at: now})
	return true
}

// forget drops the keys older than keyTTL at now, and the oldest keys
// while there is no room for one more. A clock set back (a ManualClock's
// Set) only delays forgetting: the oldest entry is checked first. s.mu is
// held.
func (s *keySet) forget(now time.Time) {
	for s.head < len(s.order) {
		e := s.order[s.head]
		if len(s.order)-s.head < maxKeys && now.Sub(e.at) < keyTTL {
			break
		}
		delete(s.seen, e.key)
		s.order[s.head] = keyEntry{}
		s.head++
	}
	// Reclaim the dropped front once it is half the slice, so the slice
	// stays within twice the live keys at amortised O(1) per key.
	if s.head >= 1024 && s.head*2 >= len(s.order) {
		n := copy(s.order, s.order[s.head:])
		clear(s.order[n:])
		s.order = s.order[:n]
		s.head = 0
	}
}

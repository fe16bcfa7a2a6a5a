package callbackd

import (
	"context"
	"slices"
	"time"
)

// Store keeps callbacks and their history durably. Every method that
// writes returns only once the write is durable: a callback acknowledged to
// a client survives a crash at any instant.
//
// Implementations: sqlite (the embedded default) and, for several nodes,
// postgres. Both must pass the storetest suite unchanged.
type Store interface {
	// CreateCallback stores a new callback together with its events, and
	// takes its holds, in one transaction. Returns ErrConflict when the id
	// exists, *LimitError when a hold's counter is at its limit.
	CreateCallback(ctx context.Context, cb *Callback, events []Event) error

	// GetCallback returns the callback with that id, or ErrNotFound.
	GetCallback(ctx context.Context, id string) (*Callback, error)

	// UpdateCallback reads the callback, lets fn change it and name the
	// events the change produced, and writes both in one transaction, so
	// that concurrent updates of one callback are serialised and fn always
	// sees the latest record. fn must not do I/O. An error from fn (an
	// *Error such as INVALID_OPERATION) aborts the update and is returned
	// as is. Holds fn removed are released and holds it added are taken
	// (rate holds only count on create),
	// with *LimitError when a counter is at its limit. Returns ErrNotFound
	// when there is no such callback.
	UpdateCallback(ctx context.Context, id string, fn func(cb *Callback) ([]Event, error)) (*Callback, error)

	// ClaimDue takes up to q.Limit callbacks that are due (DueAt <= q.Now,
	// SCHEDULED or QUEUED, no live lease), oldest due first, lets fn change
	// each (the domain's Claim), and writes them with their events in one
	// transaction. Callbacks another node is claiming at the same moment
	// are skipped, never taken twice. With q.ID, only that callback.
	ClaimDue(ctx context.Context, q ClaimQuery, fn func(cb *Callback) ([]Event, error)) ([]*Callback, error)

	// PurgeCompleted deletes up to limit COMPLETED callbacks last changed
	// before the given time, with their lookup keys and events, and says
	// how many it deleted.
	PurgeCompleted(ctx context.Context, before time.Time, limit int) (int, error)

	// PruneRateUses deletes the uses of rate holds (Hold.IsRate) taken at
	// or before the given time, of up to limit keys, and says how many
	// keys it pruned (fewer than limit: none are left). A
	// use is pruned when a later take of its key slides past it; a key
	// that is never taken again (the daily per-number limit names its
	// day, and the number) would keep its uses, and so a customer's
	// number, forever without this. The caller passes a time no window
	// reaches back to.
	PruneRateUses(ctx context.Context, before time.Time, limit int) (int, error)

	// FindCallbacks returns the callbacks matching q, by desired time then id.
	FindCallbacks(ctx context.Context, q Query) ([]*Callback, error)

	// CountCallbacks counts the callbacks matching q (its Limit is
	// ignored): watermarks and queue positions must be exact, not capped.
	CountCallbacks(ctx context.Context, q Query) (int, error)

	// Forget erases what the store keeps about a customer (Forget-me): the
	// callbacks f.IDs, each with its lookup keys and events and with its
	// holds released, and the records that name one of f.Subjects. f.Check
	// runs on each callback inside the transaction and may refuse to erase
	// it. Nothing about the erasure itself is recorded. The result holds, per id, nil (erased), ErrNotFound, or Check's
	// error.
	Forget(ctx context.Context, f Forget) (map[string]error, error)

	// Counters returns the counters whose keys lie in [from, to), by key.
	// Counters at zero may be missing.
	Counters(ctx context.Context, from, to string) ([]Counter, error)

	// SetCounter sets a counter outside any hold (a service's pause
	// switch); 0 removes it.
	SetCounter(ctx context.Context, key string, value int) error

	// AppendEvents records events that belong to no stored callback (a
	// refused request).
	AppendEvents(ctx context.Context, events []Event) error

	// ListEvents returns events after a sequence number, oldest first.
	ListEvents(ctx context.Context, q EventQuery) ([]Event, error)

	// CountByState returns how many callbacks each service has in each
	// state, by service then state; pairs without callbacks are left out.
	// It feeds monitoring (a gauge read at every scrape), so it must stay
	// cheap with millions of callbacks: it reads an index, never the rows.
	CountByState(ctx context.Context) ([]StateCount, error)

	// Ping checks that the store is reachable and migrated.
	Ping(ctx context.Context) error

	// Close releases the store; pending writes are finished first.
	Close() error
}

// Query selects callbacks. Zero fields do not filter.
type Query struct {
	// Service restricts to one service; "" means every service.
	Service string
	// Lookups are key=value pairs matched against the lookup index (keys
	// "is or was" equal); the key "_id" matches the callback id. Several
	// values of one key match any of them.
	Lookups []KeyValue
	// Any joins the keys of Lookups with OR instead of AND.
	Any bool
	// States keeps callbacks in one of these states, or, with NotStates,
	// callbacks in none of them.
	States    []State
	NotStates bool
	// Reasons keeps callbacks with one of these reasons.
	Reasons []Reason
	// DesiredFrom and DesiredTo bound the desired time, inclusive.
	DesiredFrom time.Time
	DesiredTo   time.Time
	// After and Before keep callbacks strictly after (before) a position
	// in the (desired time, id) order: After pages through a long result,
	// Before counts the callbacks ahead of one in its queue.
	After  *Cursor
	Before *Cursor
	// Limit caps the result; 0 means the store's default (1000).
	Limit int
}

// Cursor is a position in the (desired time, id) order of queries.
type Cursor struct {
	Desired time.Time
	ID      string
}

// CursorOf is the position of a callback.
func CursorOf(cb *Callback) *Cursor { return &Cursor{Desired: cb.DesiredTime, ID: cb.ID} }

// Forget names what Store.Forget erases.
type Forget struct {
	// IDs are the callbacks to erase.
	IDs []string
	// Check may refuse to erase a callback (one in execution); nil erases
	// every callback found.
	Check func(cb *Callback) error
	// Subjects name the customer as events record it (Event.Subject):
	// events with one of them as subject (refused requests, which have no
	// stored callback) are erased.
	Subjects []string
	// KeySuffixes end the keys of the customer's counters and throttle
	// uses (in-queue checks, daily limits): those are erased, except a
	// counter another callback still holds.
	KeySuffixes []string
}

// ClaimQuery selects callbacks to claim.
type ClaimQuery struct {
	Now   time.Time
	Limit int
	ID    string
	// Expired selects, instead of due callbacks, unfinished callbacks past
	// their expiration time that are not in execution (no session), oldest
	// expiration first.
	Expired bool
}

// EventQuery selects events.
type EventQuery struct {
	AfterSeq   int64
	CallbackID string
	Limit      int
}

// DefaultQueryLimit bounds a query that names no limit, so that one request
// can never load the whole store.
const DefaultQueryLimit = 1000

// StateCount is how many callbacks of one service are in one state.
type StateCount struct {
	Service string
	State   State
	Count   int
}

// Counter is the number of holds on a key.
type Counter struct {
	Key   string
	Value int
}

// Importer is implemented by stores that can write many callbacks in one
// transaction. Import trusts its input: it counts the callbacks' holds
// without checking limits and writes no events.
type Importer interface {
	Import(ctx context.Context, cbs []*Callback) error
}

// PausedCounterPrefix starts the keys of services' pause switches
// ("paused/{list}/{id}"), so every node sees a pause.
const PausedCounterPrefix = "paused/"

// SlotCounterPrefix starts the keys of capacity-bucket counters. A store
// may serve these from memory: availability reads a week of them (2,016
// five-minute buckets) per request.
const SlotCounterPrefix = "slot/"

// LookupGroup is the values asked for one lookup key.
type LookupGroup struct {
	Key    string
	Values []string
}

// LookupGroups gathers the values of each key of q.Lookups, in first-seen
// key order, without duplicates: a store ORs the values of a group and
// joins the groups with AND (or OR when q.Any).
func (q Query) LookupGroups() []LookupGroup {
	var out []LookupGroup
	for _, kv := range q.Lookups {
		i := slices.IndexFunc(out, func(g LookupGroup) bool { return g.Key == kv.Key })
		if i < 0 {
			out = append(out, LookupGroup{Key: kv.Key})
			i = len(out) - 1
		}
		if !slices.Contains(out[i].Values, kv.Value) {
			out[i].Values = append(out[i].Values, kv.Value)
		}
	}
	return out
}

package prom

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbackd/callbackd"
)

// instrumentedStore times every Store operation. It embeds the store so
// that a method added to callbackd.Store later still compiles (untimed);
// TestInstrumentedStoreTimesEveryMethod fails until it is wrapped here.
type instrumentedStore struct {
	callbackd.Store
	ops *prometheus.HistogramVec
}

var _ callbackd.Importer = (*instrumentedStore)(nil)

// timed starts timing op; call the result when the operation ends
// (deferred, so a panic is timed too).
func (s *instrumentedStore) timed(op string) func() {
	elapsed := callbackd.Stopwatch()
	return func() { s.ops.WithLabelValues(op).Observe(elapsed().Seconds()) }
}

func (s *instrumentedStore) CreateCallback(ctx context.Context, cb *callbackd.Callback, events []callbackd.Event) error {
	defer s.timed("CreateCallback")()
	return s.Store.CreateCallback(ctx, cb, events)
}

func (s *instrumentedStore) GetCallback(ctx context.Context, id string) (*callbackd.Callback, error) {
	defer s.timed("GetCallback")()
	return s.Store.GetCallback(ctx, id)
}

func (s *instrumentedStore) UpdateCallback(ctx context.Context, id string, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) (*callbackd.Callback, error) {
	defer s.timed("UpdateCallback")()
	return s.Store.UpdateCallback(ctx, id, fn)
}

func (s *instrumentedStore) ClaimDue(ctx context.Context, q callbackd.ClaimQuery, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) ([]*callbackd.Callback, error) {
	defer s.timed("ClaimDue")()
	return s.Store.ClaimDue(ctx, q, fn)
}

func (s *instrumentedStore) PurgeCompleted(ctx context.Context, before time.Time, limit int) (int, error) {
	defer s.timed("PurgeCompleted")()
	return s.Store.PurgeCompleted(ctx, before, limit)
}

func (s *instrumentedStore) PruneRateUses(ctx context.Context, before time.Time, limit int) (int, error) {
	defer s.timed("PruneRateUses")()
	return s.Store.PruneRateUses(ctx, before, limit)
}

func (s *instrumentedStore) FindCallbacks(ctx context.Context, q callbackd.Query) ([]*callbackd.Callback, error) {
	defer s.timed("FindCallbacks")()
	return s.Store.FindCallbacks(ctx, q)
}

func (s *instrumentedStore) Counters(ctx context.Context, from, to string) ([]callbackd.Counter, error) {
	defer s.timed("Counters")()
	return s.Store.Counters(ctx, from, to)
}

func (s *instrumentedStore) SetCounter(ctx context.Context, key string, value int) error {
	defer s.timed("SetCounter")()
	return s.Store.SetCounter(ctx, key, value)
}

func (s *instrumentedStore) AppendEvents(ctx context.Context, events []callbackd.Event) error {
	defer s.timed("AppendEvents")()
	return s.Store.AppendEvents(ctx, events)
}

func (s *instrumentedStore) ListEvents(ctx context.Context, q callbackd.EventQuery) ([]callbackd.Event, error) {
	defer s.timed("ListEvents")()
	return s.Store.ListEvents(ctx, q)
}

func (s *instrumentedStore) CountCallbacks(ctx context.Context, q callbackd.Query) (int, error) {
	defer s.timed("CountCallbacks")()
	return s.Store.CountCallbacks(ctx, q)
}

func (s *instrumentedStore) Forget(ctx context.Context, f callbackd.Forget) (map[string]error, error) {
	defer s.timed("Forget")()
	return s.Store.Forget(ctx, f)
}

func (s *instrumentedStore) CountByState(ctx context.Context) ([]callbackd.StateCount, error) {
	defer s.timed("CountByState")()
	return s.Store.CountByState(ctx)
}

func (s *instrumentedStore) Ping(ctx context.Context) error {
	defer s.timed("Ping")()
	return s.Store.Ping(ctx)
}

func (s *instrumentedStore) Close() error {
	defer s.timed("Close")()
	return s.Store.Close()
}

// errNoImport is what callbacks.Manager.Import would say of a store that
// cannot import.
var errNoImport = errors.New("callbacks: the store cannot import")

// Import implements callbackd.Importer when the wrapped store does.
func (s *instrumentedStore) Import(ctx context.Context, cbs []*callbackd.Callback) error {
	imp, ok := s.Store.(callbackd.Importer)
	if !ok {
		return errNoImport
	}
	defer s.timed("Import")()
	return imp.Import(ctx, cbs)
}

package callbacks

import (
	"context"
	"errors"
	"time"

	"github.com/callbackd/callbackd"
)

// QueuePosition answers check-queue-position for a callback id: from the
// built-in engine's live queue for a builtin service (Manager.Queue),
// else from callbackd's records, where the queue of a service is its QUEUED callbacks in desired
// time order.
func (m *Manager) QueuePosition(ctx context.Context, id string) (*callbackd.Callback, callbackd.QueuePosition, error) {
	cb, err := m.Store.GetCallback(ctx, id)
	if errors.Is(err, callbackd.ErrNotFound) {
		return nil, callbackd.QueuePosition{}, notFound(id, "", m.Clock.Now().UTC())
	}
	if err != nil {
		return nil, callbackd.QueuePosition{}, err
	}
	cfg := m.Config()
	opts, _, err := ExecutionParams(cfg, cb)
	if err != nil {
		return nil, callbackd.QueuePosition{}, err
	}
	if m.Queue != nil && opts.Type == callbackd.TypeBuiltin {
		pos, err := m.Queue.QueuePosition(ctx, cb)
		return cb, pos, err
	}
	ewt, err := m.ewt(ctx, cfg, cb.Service, opts.RequestQueueTimeStat)
	if err != nil {
		return nil, callbackd.QueuePosition{}, err
	}
	queued := callbackd.Query{Service: cb.Service, States: []callbackd.State{callbackd.StateQueued}}
	var pos callbackd.QueuePosition
	if pos.TotalWaiting, err = m.Store.CountCallbacks(ctx, queued); err != nil {
		return nil, pos, err
	}
	pos.EWT = ewt
	if cb.State == callbackd.StateQueued {
		ahead := queued
		ahead.Before = callbackd.CursorOf(cb)
		n, err := m.Store.CountCallbacks(ctx, ahead)
		if err != nil {
			return nil, pos, err
		}
		pos.Position = n + 1
		pos.ETA = ewt
		pos.AgentReadyThresholdPassed = ewt <= 0
	}
	return cb, pos, nil
}

// VirtualQueueEWT answers ewt-for-vq: the estimated wait of each virtual
// queue named (repeated or comma-separated).
func (m *Manager) VirtualQueueEWT(ctx context.Context, names []string) (map[string]time.Duration, error) {
	vqs := splitLists(names)
	if len(vqs) == 0 {
		return nil, callbackd.BadParameter(map[string]any{"option": "name"}, "Missing parameter name: the virtual queue to estimate")
	}
	ewt := m.EWT
	if ewt == nil {
		ewt = callbackd.StaticEWT{Value: m.Config().Callback.StaticEWT}
	}
	out := make(map[string]time.Duration, len(vqs))
	for _, vq := range vqs {
		d, err := ewt.VirtualQueueEWT(ctx, vq)
		if err != nil {
			return nil, err
		}
		out[vq] = d
	}
	return out, nil
}

package callbacks

import (
	"context"
	"time"

	"github.com/callbackd/callbackd"
)

// cannotCancel is the answer for a callback that is finished or already
// connected to an agent.
func cannotCancel(cb *callbackd.Callback) *callbackd.Error {
	return callbackd.InvalidOperation(
		map[string]any{"id": cb.ID, "service": cb.Service, "state": string(cb.State)},
		"Callback %s cannot be cancelled or completed - _callback_state=%s", cb.ID, cb.State)
}

func cancellable(cb *callbackd.Callback) error {
	if cb.State == callbackd.StateCompleted || cb.State == callbackd.StateProcessing {
		return cannotCancel(cb)
	}
	return nil
}

// Cancel cancels a callback (Cancel-Callback, spec 001). A callback that
// was handed to execution (it has an execution session) is cancelled there
// first; discardFailure completes it even when that fails.
func (m *Manager) Cancel(ctx context.Context, service, id string, discardFailure bool) error {
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	if _, err := callbackService(cfg, service); err != nil {
		return err
	}
	cb, err := m.load(ctx, cfg, service, id, now)
	if err != nil {
		return err
	}
	return m.cancel(ctx, cb, callbackd.ReasonCancelled, "api", discardFailure, now)
}

// cancel completes a loaded callback with reason, after cancelling its
// execution session if it has one.
func (m *Manager) cancel(ctx context.Context, cb *callbackd.Callback, reason callbackd.Reason, source string, discardFailure bool, now time.Time) error {
	if err := cancellable(cb); err != nil {
		return err
	}
	if cb.SessionID != "" {
		cerr := errNoExecutor
		if m.Executor != nil {
			cerr = m.Executor.Cancel(ctx, cb)
		}
		if cerr != nil && !discardFailure {
			return callbackd.InvalidOperation(
				map[string]any{"id": cb.ID, "service": cb.Service, "state": string(cb.State), "message": cerr.Error()},
				"Callback %s cannot be cancelled - unable to process ORS cancel request : %s", cb.ID, cerr.Error())
		}
	}
	_, err := m.Store.UpdateCallback(ctx, cb.ID, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		if err := cancellable(cb); err != nil {
			return nil, err
		}
		ev, err := cb.Transition(callbackd.StateCompleted, reason, now, source)
		return []callbackd.Event{ev}, err
	})
	return err
}
